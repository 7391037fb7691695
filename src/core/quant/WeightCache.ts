import type { OnnxModel } from '../io/onnx/OnnxModel';
import { weightQuantType } from './qparams';
import type { Precision } from '../model/QTable';
import { quantizeWeightSymmetric, type QuantizedWeight } from './weightQuant';
import type { WeightOptions } from './WeightOptions';

/** Quantized weights keyed by initializer, precision, axis and weight options. */
export class WeightCache {
  private readonly entries = new Map<string, QuantizedWeight>();
  get(model: OnnxModel, name: string, precision: Precision, axis: number, options: WeightOptions): QuantizedWeight {
    const key = `${name}\u0000${precision}\u0000${axis}\u0000${options.granularity}\u0000${options.scaleMethod}`;
    let q = this.entries.get(key);
    if (!q) {
      q = quantizeWeightSymmetric(model.weight(name), axis, weightQuantType(precision), options.granularity === 'channel', options.scaleMethod);
      this.entries.set(key, q);
    }
    return q;
  }
}
