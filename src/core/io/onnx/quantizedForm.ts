import type { CaliEntry } from '../../model/CaliTable';
import { graphNames, nameAllocator } from './GraphWriter';
import { QbenchError } from '../../errors';
import type { GraphNode } from '../../model/ModelGraph';
import type { Tensor } from '../../model/tensor';
import { intAttribute } from './attributes';
import { DataType, onnx } from './protobuf';
import { makeTensorProto, readTensorProto } from './tensorProto';

/**
 * How a model is already quantized (issue #9), as onnxruntime's quantizer and exporters write them:
 * - 'qdq': QuantizeLinear/DequantizeLinear pairs around float operators;
 * - 'qoperator': integer operators (QLinearConv, QLinearMatMul, QLinearAdd...);
 * - 'dynamic': ConvInteger/MatMulInteger/DynamicQuantizeLinear (activations quantized at run time).
 */
export type QuantizedForm = 'qdq' | 'qoperator' | 'dynamic';

export interface QuantizedModelFinding {
  readonly form: QuantizedForm;
  /** The operators that show it, with their counts ("QLinearConv x12"). */
  readonly operators: readonly string[];
}

const QOPERATOR = /^QLinear|^QGemm$|^QAttention$|^QEmbedLayerNormalization$/;
const DYNAMIC = new Set(['ConvInteger', 'MatMulInteger', 'DynamicQuantizeLinear', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'DynamicQuantizeLSTM']);

/** Whether (and how) a model is already quantized; null for a float model. */
export function quantizedForm(nodes: readonly GraphNode[]): QuantizedModelFinding | null {
  const counts = new Map<string, number>();
  for (const n of nodes) counts.set(n.opType, (counts.get(n.opType) ?? 0) + 1);
  const list = (ops: string[]) => ops.map((op) => `${op} x${counts.get(op)}`);
  const qop = [...counts.keys()].filter((op) => QOPERATOR.test(op));
  if (qop.length) return { form: 'qoperator', operators: list(qop) };
  const dynamic = [...counts.keys()].filter((op) => DYNAMIC.has(op));
  if (dynamic.length) return { form: 'dynamic', operators: list(dynamic) };
  if (counts.has('DequantizeLinear')) return { form: 'qdq', operators: list(['QuantizeLinear', 'DequantizeLinear'].filter((op) => counts.has(op))) };
  return null;
}

/** The float model of a QDQ model and the activation ranges its quantizers held. */
export interface Dequantized {
  readonly proto: onnx.ModelProto;
  /** Each quantized activation's range (qmin..qmax dequantized), as an imported calibration. */
  readonly ranges: ReadonlyMap<string, CaliEntry>;
  readonly removedPairs: number;
  readonly dequantizedWeights: number;
  /** Relus put back after a Conv/Gemm/MatMul whose quantized range started at 0. */
  readonly restoredRelus: number;
  /** Clip(0, n)s put back where that range ended at a whole number n (Relu6). */
  readonly restoredClips: number;
}

/** Layers after which onnxruntime's quantizer removes a Relu folded into the output's quantizer. */
export const FUSES_RELU = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

const LIMITS: Record<number, [number, number]> = {
  [DataType.UINT8]: [0, 255], [DataType.INT8]: [-128, 127], [DataType.UINT16]: [0, 65535], [DataType.INT16]: [-32768, 32767], [DataType.INT32]: [-2147483648, 2147483647],
};

/**
 * The range a quantizer holds, (qmin - zp) * s .. (qmax - zp) * s for its integer type (uint8 when
 * the zero point is absent), as an imported calibration entry.
 */
export function quantizerRange(scale: number, zeroPoint: number, dataType: number): CaliEntry {
  const [qmin, qmax] = LIMITS[dataType] ?? [0, 255];
  const min = (qmin - zeroPoint) * scale;
  const max = (qmax - zeroPoint) * scale;
  return { min, max, threshold: Math.max(Math.abs(min), Math.abs(max)), source: 'imported' };
}

/**
 * The upper bound of a Clip(0, n) folded into a quantizer of range [0, max]: n when max is a whole
 * number (Relu6's and hardswish's 6: the range is the Clip's output range, 255 * (6 / 255)), else
 * null (a Relu, whose calibrated maximum is no whole number but by chance).
 */
export function foldedClipBound(max: number): number | null {
  const n = Math.round(max);
  return n >= 1 && Math.abs(max - n) <= 1e-5 * n ? n : null;
}

/**
 * The activation onnxruntime's quantizer folded into a quantizer whose range starts at 0 (the
 * quantizer clamps there anyway), put back in the float model, or it would pass negative values on:
 * Clip(0, n) when the range ends at a whole number n (a Clip(0, 6) left without its upper bound
 * makes hardswish x * (x + 3) grow without end), else Relu. Named `<owner>/RestoredRelu` or
 * `<owner>/RestoredClip`; a Clip's bounds are new float initializers (opset 11 and later).
 */
export function restoredActivation(owner: string, input: string, output: string, max: number, uniqueName: (base: string) => string): { readonly node: onnx.NodeProto; readonly initializers: readonly onnx.TensorProto[] } {
  const bound = foldedClipBound(max);
  if (bound === null) return { node: onnx.NodeProto.create({ name: uniqueName(`${owner}/RestoredRelu`), opType: 'Relu', input: [input], output: [output] }), initializers: [] };
  const name = uniqueName(`${owner}/RestoredClip`);
  const low = uniqueName(`${name}/min`);
  const high = uniqueName(`${name}/max`);
  return {
    node: onnx.NodeProto.create({ name, opType: 'Clip', input: [input, low, high], output: [output] }),
    initializers: [makeTensorProto(low, { dtype: 'float32', dims: [], data: new Float32Array([0]) }), makeTensorProto(high, { dtype: 'float32', dims: [], data: new Float32Array([bound]) })],
  };
}

/**
 * Turns a QDQ model back into the float model it was made from (issue #9):
 * - a DequantizeLinear of a constant (a weight, an int32 bias) becomes a float initializer holding
 *   its values, so the weights keep their integer rounding;
 * - a QuantizeLinear -> DequantizeLinear pair on an activation is removed (its readers read the
 *   float tensor), and its range, (qmin - zp) * s .. (qmax - zp) * s, is kept as a calibration;
 * - where such a range starts at 0 right after a Conv, Gemm or MatMul, the Relu onnxruntime's
 *   quantizer folded into it is put back.
 * Anything else of the quantized form (a QuantizeLinear whose output is read by something other
 * than a DequantizeLinear) is refused: that is a QOperator model.
 */
export function dequantizeQdq(model: onnx.ModelProto, fileName: string): Dequantized {
  const graph = model.graph!;
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const producer = new Map<string, onnx.NodeProto>();
  for (const n of graph.node) for (const o of n.output) producer.set(o, n);
  const consumers = new Map<string, onnx.NodeProto[]>();
  for (const n of graph.node) for (const i of n.input) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  const rename = new Map<string, string>();
  const removed = new Set<onnx.NodeProto>();
  const asIdentity = new Set<onnx.NodeProto>();
  const identitySource = new Map<onnx.NodeProto, string>();
  const restoredRelus: onnx.NodeProto[] = [];
  const reluAfter = new Map<onnx.NodeProto, onnx.NodeProto>();
  const taken = graphNames(graph);
  const uniqueName = nameAllocator(taken);
  const newInitializers: onnx.TensorProto[] = [];
  const ranges = new Map<string, CaliEntry>();
  let removedPairs = 0;
  let dequantizedWeights = 0;
  const scalarValue = (name: string | undefined): number => {
    const proto = name ? initializers.get(name) : undefined;
    if (!proto) return 0;
    const values = readTensorProto(proto, fileName).data;
    return Number(values[0]);
  };

  for (const node of graph.node) {
    if (node.opType !== 'DequantizeLinear' || (node.domain && node.domain !== 'ai.onnx')) continue;
    const [x, scale, zeroPoint] = node.input;
    const stored = initializers.get(x);
    if (stored && initializers.has(scale)) {
      newInitializers.push(makeTensorProto(node.output[0], { dtype: 'float32', dims: stored.dims.map(Number), data: dequantizeValues(readTensorProto(stored, fileName), readTensorProto(initializers.get(scale)!, fileName), zeroPoint && initializers.has(zeroPoint) ? readTensorProto(initializers.get(zeroPoint)!, fileName) : null, intAttribute(node, 'axis', 1)) }));
      removed.add(node);
      dequantizedWeights++;
      continue;
    }
    const q = producer.get(x);
    if (!q || q.opType !== 'QuantizeLinear' || !initializers.has(scale)) continue;
    const qScale = scalarValue(q.input[1]);
    const zp = scalarValue(q.input[2]);
    const zpProto = q.input[2] ? initializers.get(q.input[2]) : undefined;
    let source = q.input[0];
    const range = quantizerRange(qScale, zp, zpProto?.dataType ?? DataType.UINT8);
    // onnxruntime's quantizer drops a Relu (or Clip) after a Conv/Gemm/MatMul whose quantized range
    // starts at 0 (the Q clamps at 0 anyway); the float model gets it back.
    const made = producer.get(source);
    if (range.min === 0 && made && FUSES_RELU.has(made.opType) && (consumers.get(source) ?? []).length === 1) {
      const activated = uniqueName(`${source}_relu`);
      const restored = restoredActivation(made.name, source, activated, range.max, uniqueName);
      restoredRelus.push(restored.node);
      newInitializers.push(...restored.initializers);
      reluAfter.set(made, restored.node);
      source = activated;
    }
    if (!ranges.has(source)) ranges.set(source, range);
    if (graphOutputs.has(node.output[0])) {
      // A graph output keeps its name: the float tensor is copied into it.
      asIdentity.add(node);
      identitySource.set(node, source);
    } else {
      rename.set(node.output[0], source);
      removed.add(node);
    }
    if ((consumers.get(q.output[0]) ?? []).every((c) => c.opType === 'DequantizeLinear')) removed.add(q);
    removedPairs++;
  }
  // (float(q) - zp) * s spelled as Cast, Sub, Mul (qbench writes it for float layers that read an
  // int8-stored tensor): the Mul's readers read the float tensor.
  for (const q of graph.node) {
    if (q.opType !== 'QuantizeLinear') continue;
    for (const cast of consumers.get(q.output[0]) ?? []) {
      if (cast.opType !== 'Cast') continue;
      const sub = (consumers.get(cast.output[0]) ?? [])[0];
      const mul = sub?.opType === 'Sub' ? (consumers.get(sub.output[0]) ?? [])[0] : undefined;
      if (!sub || mul?.opType !== 'Mul' || graphOutputs.has(mul.output[0])) continue;
      rename.set(mul.output[0], q.input[0]);
      for (const n of [cast, sub, mul]) removed.add(n);
    }
    if ((consumers.get(q.output[0]) ?? []).every((c) => removed.has(c))) removed.add(q);
  }
  const leftover = graph.node.find((n) => !removed.has(n) && n.opType === 'QuantizeLinear');
  if (leftover) throw new QbenchError(`QuantizeLinear "${leftover.name || leftover.output[0]}" feeds an integer operator, not a DequantizeLinear: this is not a QDQ model qbench can de-quantize`, fileName);
  const nodes = graph.node.filter((n) => !removed.has(n)).flatMap((n) => {
    const copy = asIdentity.has(n)
      ? onnx.NodeProto.create({ name: n.name, opType: 'Identity', input: [rename.get(identitySource.get(n)!) ?? identitySource.get(n)!], output: n.output })
      : onnx.NodeProto.create({ ...n, input: n.input.map((i) => rename.get(i) ?? i) });
    const relu = reluAfter.get(n);
    return relu ? [copy, relu] : [copy];
  });
  const used = new Set(nodes.flatMap((n) => n.input));
  for (const o of graph.output) used.add(o.name);
  const proto = onnx.ModelProto.create({
    ...model,
    graph: onnx.GraphProto.create({
      ...graph,
      node: nodes,
      initializer: [...graph.initializer, ...newInitializers].filter((t) => used.has(t.name)),
      valueInfo: [],
    }),
  });
  const clips = restoredRelus.filter((n) => n.opType === 'Clip').length;
  return { proto, ranges, removedPairs, dequantizedWeights: dequantizedWeights, restoredRelus: restoredRelus.length - clips, restoredClips: clips };
}

/**
 * (q - zp) * s, per tensor or along `axis`: the scale and the zero point each hold one value or one
 * per channel of `axis` (ConvInteger may take a zero point per channel and one scale).
 */
export function dequantizeValues(q: Tensor, scale: Tensor, zeroPoint: Tensor | null, axis: number): Float32Array {
  const values = q.data;
  const s = scale.data as Float32Array;
  const z = zeroPoint?.data;
  const out = new Float32Array(values.length);
  const rank = q.dims.length;
  const a = axis < 0 ? axis + rank : axis;
  const perChannel = s.length > 1 || (z?.length ?? 0) > 1;
  const inner = perChannel ? q.dims.slice(a + 1).reduce((p, d) => p * d, 1) : 1;
  const channels = perChannel ? q.dims[a] : 1;
  for (let i = 0; i < values.length; i++) {
    const c = perChannel ? Math.floor(i / inner) % channels : 0;
    out[i] = (Number(values[i]) - (z ? Number(z[z.length > 1 ? c : 0]) : 0)) * s[s.length > 1 ? c : 0];
  }
  return out;
}

