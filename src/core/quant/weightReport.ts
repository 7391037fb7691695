import type { OnnxModel } from '../io/onnx/OnnxModel';
import type { GraphNode } from '../model/ModelGraph';
import type { WeightOptions } from './WeightOptions';
import { inputRole, weightChannelAxis } from './inputRoles';
import { isIntegerPrecision, precisionOf, type Precision, type QTable } from '../model/QTable';
import { weightQuantType } from './qparams';
import { dequantizeWeight, quantizeWeightSymmetric } from './weightQuant';

export interface WeightChannel {
  readonly min: number;
  readonly max: number;
  readonly scale: number;
  /** Root-mean-square error of the channel's quantized weights. */
  readonly rmsError: number;
}

/** What the inspector shows of a layer's weights: per channel ranges and quantization error. */
export interface WeightReport {
  readonly weight: string;
  readonly dims: readonly number[];
  readonly axis: number;
  readonly precision: Precision;
  readonly granularity: WeightOptions['granularity'];
  readonly scaleMethod: WeightOptions['scaleMethod'];
  readonly channels: readonly WeightChannel[];
}

/**
 * Per-channel ranges and the error of the layer's weight at the precision the QTable gives it (INT8
 * when it runs float, to show what quantizing it would cost). Null for layers without a weight.
 */
export function weightReport(model: OnnxModel, node: GraphNode, qtable: QTable, options: WeightOptions): WeightReport | null {
  const index = node.inputs.findIndex((t, k) => t && model.isInitializer(t) && inputRole(node.opType, k, true) === 'weight');
  if (index < 0) return null;
  const name = node.inputs[index];
  const weight = model.weight(name);
  if (weight.dtype !== 'float32') return null;
  const set = precisionOf(qtable, node.name);
  const precision: Precision = isIntegerPrecision(set) ? set : 'INT8';
  const axis = weightChannelAxis(node.opType, weight.dims.length, { transB: node.attributes.transB as number | undefined });
  const { granularity } = options;
  const q = quantizeWeightSymmetric(weight, axis, weightQuantType(precision), granularity === 'channel', options.scaleMethod);
  const back = dequantizeWeight(q);
  const data = weight.data as Float32Array;
  const channels = weight.dims[axis];
  const inner = weight.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const stats = Array.from({ length: channels }, () => ({ min: Infinity, max: -Infinity, squared: 0, count: 0 }));
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    const s = stats[c];
    if (data[i] < s.min) s.min = data[i];
    if (data[i] > s.max) s.max = data[i];
    s.squared += (data[i] - back[i]) ** 2;
    s.count++;
  }
  return {
    weight: name,
    dims: weight.dims,
    axis,
    precision,
    granularity,
    scaleMethod: options.scaleMethod,
    channels: stats.map((s, c) => ({ min: s.min, max: s.max, scale: q.scales[q.perChannel ? c : 0], rmsError: Math.sqrt(s.squared / Math.max(1, s.count)) })),
  };
}
