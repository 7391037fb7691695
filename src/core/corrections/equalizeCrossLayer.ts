import { intAttribute } from '../io/onnx/attributes';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import type { onnx } from '../io/onnx/protobuf';
import { ModelEdit, sizeOf, type FloatWeight } from './modelEdit';

export interface EqualizationOptions {
  /** Stop when the largest |s - 1| of a sweep over every pair is below this (docs/algorithms.md §6: 1e-4). */
  readonly tolerance?: number;
  /** Sweeps at most (default 100). */
  readonly maxIterations?: number;
}

/** Two convolutions whose ranges were equalized, and the activation between them, if any. */
export interface EqualizedPair {
  readonly first: string;
  readonly second: string;
  readonly activation?: string;
}

export interface SkippedPair {
  readonly first: string;
  readonly second: string;
  readonly reason: string;
}

export interface CrossLayerEqualization {
  /** The input model itself when no pair was found, else a new model. */
  readonly model: OnnxModel;
  readonly pairs: readonly EqualizedPair[];
  /** Sweeps over every pair that were run. */
  readonly iterations: number;
  /** Largest |s - 1| of the last sweep (below `tolerance` unless maxIterations stopped it). */
  readonly lastChange: number;
  readonly skipped: readonly SkippedPair[];
}

export const DEFAULT_EQUALIZATION_TOLERANCE = 1e-4;
export const DEFAULT_EQUALIZATION_ITERATIONS = 100;

/**
 * Activations that commute with a positive per-channel scale: f(x / s) = f(x) / s for s > 0.
 * Relu and LeakyRelu (any alpha) are; so is PRelu with a constant slope, of any shape, because it is
 * elementwise: x > 0 ? x : slope * x scales with x. Clip (Relu6) is NOT: clip(x / s, 0, 6) differs
 * from clip(x, 0, 6) / s as soon as x / s or x exceeds 6, since the bound does not scale; nor are
 * Sigmoid, Tanh, HardSwish, Gelu, Elu... Equalizing across those would change the model's function
 * (docs/algorithms.md §6: "only valid across ReLU-like, positively homogeneous ops").
 */
const HOMOGENEOUS = new Set(['Relu', 'LeakyRelu', 'PRelu']);

/** Activations that sit between convolutions but are not positively homogeneous (reported, not equalized). */
const NOT_HOMOGENEOUS: Record<string, string> = {
  Clip: 'Clip (Relu6) is not positively homogeneous: its bounds do not scale with the channel',
  Sigmoid: 'Sigmoid is not positively homogeneous',
  Tanh: 'Tanh is not positively homogeneous',
  HardSigmoid: 'HardSigmoid is not positively homogeneous',
  HardSwish: 'HardSwish is not positively homogeneous',
  Elu: 'Elu is not positively homogeneous',
  Selu: 'Selu is not positively homogeneous',
  Gelu: 'Gelu is not positively homogeneous',
  Softplus: 'Softplus is not positively homogeneous',
};

interface Pair {
  readonly first: onnx.NodeProto;
  readonly second: onnx.NodeProto;
  readonly activation?: onnx.NodeProto;
}

/**
 * Cross-layer weight equalization (docs/algorithms.md §6; Nagel et al., "Data-Free Quantization", 2019):
 * for every Conv -> (Relu | LeakyRelu | PRelu)? -> Conv chain where each tensor between them has that
 * single consumer, output channel i of the first convolution and input channel i of the second get
 *   r1 = max|W1[i]|,  r2 = max|W2[:, i]|,  s = r1 / sqrt(r1 r2) = sqrt(r1 / r2),
 *   W1[i] /= s,  b1[i] /= s,  W2[:, i] *= s
 * so that afterwards r1 = r2 = sqrt(r1 r2). Sweeps over all pairs repeat (a convolution can end one
 * pair and start the next) until the largest |s - 1| of a sweep is below `tolerance` or
 * `maxIterations` sweeps ran. The second convolution may be grouped or depthwise: its input channel i
 * lives in group g = floor(i / (Cin/group)) at index i % (Cin/group) of the weight's axis 1, and only
 * that group's output channels read it. Pairs that cannot be equalized (a ConvTranspose, a weight that
 * is not a float32 initializer, an activation that is not positively homogeneous) are listed in
 * `skipped`. The model computes the same function afterwards, to float rounding.
 *
 * @example
 * const { model, pairs, iterations } = equalizeCrossLayer(readOnnx(bytes, 'net.onnx'));
 * // pairs: [{ first: 'conv1', second: 'conv2', activation: 'relu1' }], iterations: 2
 */
export function equalizeCrossLayer(model: OnnxModel, options: EqualizationOptions = {}): CrossLayerEqualization {
  const tolerance = options.tolerance ?? DEFAULT_EQUALIZATION_TOLERANCE;
  const maxIterations = options.maxIterations ?? DEFAULT_EQUALIZATION_ITERATIONS;
  if (!(tolerance > 0)) throw new RangeError(`tolerance must be positive, got ${tolerance}`);
  if (!(maxIterations >= 1) || !Number.isInteger(maxIterations)) throw new RangeError(`maxIterations must be a positive integer, got ${maxIterations}`);
  const edit = new ModelEdit(model);
  const { pairs, skipped } = findPairs(edit);
  if (pairs.length === 0) return { model, pairs: [], iterations: 0, lastChange: 0, skipped };

  // Each convolution's weight and bias, private to it while sweeping (keyed by node, not by
  // initializer, so tied weights are written back as separate copies).
  const weights = new Map<onnx.NodeProto, { weight: FloatWeight; bias?: FloatWeight }>();
  for (const { first, second } of pairs) {
    for (const conv of [first, second]) {
      if (!weights.has(conv)) weights.set(conv, { weight: edit.floatWeight(conv.input[1])!, bias: edit.floatWeight(conv.input[2]) });
    }
  }
  let iterations = 0;
  let lastChange = Infinity;
  while (iterations < maxIterations && lastChange >= tolerance) {
    lastChange = 0;
    for (const pair of pairs) {
      const a = weights.get(pair.first)!;
      const b = weights.get(pair.second)!;
      lastChange = Math.max(lastChange, equalizePair(a.weight, a.bias, b.weight, intAttribute(pair.second, 'group', 1)));
    }
    iterations++;
  }
  const firsts = new Set(pairs.map((p) => p.first));
  for (const [conv, { weight, bias }] of weights) {
    edit.writeInput(conv, 1, weight, 'equalized');
    if (bias && firsts.has(conv)) edit.writeInput(conv, 2, bias, 'equalized'); // only a first convolution's bias changes
  }
  return {
    model: edit.build(),
    pairs: pairs.map(({ first, second, activation }) => (activation ? { first: first.name, second: second.name, activation: activation.name } : { first: first.name, second: second.name })),
    iterations,
    lastChange,
    skipped,
  };
}

/**
 * Per-channel ranges r1[i] = max|W1[i]| and r2[i] = max|W2[:, i]| of a pair (what equalization makes
 * equal); for a grouped second convolution, W2[:, i] is the column i % (Cin/group) of group i's outputs.
 * @example pairRanges({ dims: [2, 1, 1, 1], data: [4, 1] }, { dims: [1, 2, 1, 1], data: [1, 4] }, 1) // r1 [4, 1], r2 [1, 4]
 */
export function pairRanges(w1: FloatWeight, w2: FloatWeight, group2: number): { r1: Float64Array; r2: Float64Array } {
  const channels = w1.dims[0];
  const r1 = new Float64Array(channels);
  const per1 = sizeOf(w1.dims.slice(1));
  for (let i = 0; i < channels; i++) {
    let m = 0;
    for (let k = 0; k < per1; k++) m = Math.max(m, Math.abs(w1.data[i * per1 + k]));
    r1[i] = m;
  }
  const r2 = new Float64Array(channels);
  forEachInputChannel(w2, group2, (i, at, inner) => {
    let m = r2[i];
    for (let k = 0; k < inner; k++) m = Math.max(m, Math.abs(w2.data[at + k]));
    r2[i] = m;
  });
  return { r1, r2 };
}

/**
 * Calls `visit(i, offset, inner)` for every block of the second convolution's weight that reads its
 * input channel i: output channel m of i's group, kernel positions [offset, offset + inner).
 */
function forEachInputChannel(w2: FloatWeight, group: number, visit: (i: number, offset: number, inner: number) => void): void {
  const [outputs, perGroupIn] = w2.dims;
  const inner = sizeOf(w2.dims.slice(2));
  const perGroupOut = outputs / group;
  for (let m = 0; m < outputs; m++) {
    const g = Math.floor(m / perGroupOut);
    for (let j = 0; j < perGroupIn; j++) visit(g * perGroupIn + j, (m * perGroupIn + j) * inner, inner);
  }
}

/** One equalization step of one pair, in place; returns the largest |s - 1|. */
function equalizePair(w1: FloatWeight, b1: FloatWeight | undefined, w2: FloatWeight, group2: number): number {
  const { r1, r2 } = pairRanges(w1, w2, group2);
  const s = new Float64Array(r1.length);
  let change = 0;
  for (let i = 0; i < r1.length; i++) {
    s[i] = r1[i] > 0 && r2[i] > 0 ? Math.sqrt(r1[i] / r2[i]) : 1;
    change = Math.max(change, Math.abs(s[i] - 1));
  }
  const per1 = sizeOf(w1.dims.slice(1));
  for (let i = 0; i < r1.length; i++) {
    for (let k = 0; k < per1; k++) w1.data[i * per1 + k] /= s[i];
    if (b1) b1.data[i] /= s[i];
  }
  forEachInputChannel(w2, group2, (i, at, inner) => {
    for (let k = 0; k < inner; k++) w2.data[at + k] *= s[i];
  });
  return change;
}

function findPairs(edit: ModelEdit): { pairs: Pair[]; skipped: SkippedPair[] } {
  const pairs: Pair[] = [];
  const skipped: SkippedPair[] = [];
  const single = (tensor: string): onnx.NodeProto | undefined => {
    const users = edit.consumers(tensor);
    return users.length === 1 && !edit.graphOutputs.has(tensor) ? users[0] : undefined;
  };
  for (const first of edit.nodes) {
    if (first.opType !== 'Conv' || (first.domain && first.domain !== 'ai.onnx')) continue;
    let next = single(first.output[0]);
    if (!next) continue;
    let activation: onnx.NodeProto | undefined;
    if (HOMOGENEOUS.has(next.opType) || NOT_HOMOGENEOUS[next.opType]) {
      activation = next;
      next = single(activation.output[0]);
      if (!next) continue;
    }
    if (next.opType !== 'Conv' && next.opType !== 'ConvTranspose') continue;
    const skip = (reason: string) => skipped.push({ first: first.name, second: next!.name, reason });
    if (activation && NOT_HOMOGENEOUS[activation.opType]) {
      skip(`${NOT_HOMOGENEOUS[activation.opType]} ("${activation.name}")`);
      continue;
    }
    const reason = pairProblem(edit, first, next, activation);
    if (reason) skip(reason);
    else pairs.push({ first, second: next, activation });
  }
  return { pairs, skipped };
}

function pairProblem(edit: ModelEdit, first: onnx.NodeProto, second: onnx.NodeProto, activation: onnx.NodeProto | undefined): string | undefined {
  if (second.opType !== 'Conv') return `the second layer is a ${second.opType}; only Conv -> Conv pairs are equalized`;
  const between = activation ? activation.output[0] : first.output[0];
  if (second.input[0] !== between || second.input.lastIndexOf(between) !== 0) return `"${second.name}" reads "${between}" other than as its data input`;
  if (activation && activation.input[0] !== first.output[0]) return `"${activation.name}" reads "${first.output[0]}" other than as its data input`;
  if (activation?.opType === 'PRelu' && !edit.isInitializer(activation.input[1])) return `the slope of PRelu "${activation.name}" is not a constant`;
  const w1 = edit.floatWeight(first.input[1]);
  const w2 = edit.floatWeight(second.input[1]);
  if (!w1 || w1.dims.length < 3) return `the weight of "${first.name}" is not a float32 initializer`;
  if (!w2 || w2.dims.length < 3) return `the weight of "${second.name}" is not a float32 initializer`;
  if (first.input[2] && !edit.floatWeight(first.input[2])) return `the bias of "${first.name}" is not a float32 initializer`;
  const group = intAttribute(second, 'group', 1);
  if (w2.dims[1] * group !== w1.dims[0]) return `"${second.name}" reads ${w2.dims[1] * group} channels but "${first.name}" produces ${w1.dims[0]}`;
  if (w2.dims[0] % group !== 0) return `"${second.name}" has ${w2.dims[0]} output channels, not a multiple of its ${group} groups`;
  return undefined;
}
