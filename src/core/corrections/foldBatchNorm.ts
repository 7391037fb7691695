import { findAttribute, intAttribute } from '../io/onnx/attributes';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import type { onnx } from '../io/onnx/protobuf';
import { ModelEdit, sizeOf } from './modelEdit';

/** A BatchNormalization folded into the convolution before it. */
export interface FoldedBatchNorm {
  /** The Conv or ConvTranspose node (it keeps its name and now produces the BN's output). */
  readonly conv: string;
  readonly batchNorm: string;
}

/** A BatchNormalization left in the graph, and why. */
export interface SkippedBatchNorm {
  readonly batchNorm: string;
  readonly reason: string;
}

export interface BatchNormFolding {
  /** The input model itself when nothing was folded, else a new model. */
  readonly model: OnnxModel;
  readonly folded: readonly FoldedBatchNorm[];
  readonly skipped: readonly SkippedBatchNorm[];
}

/** ONNX BatchNormalization's default epsilon. */
const DEFAULT_EPSILON = 1e-5;

/**
 * Folds every inference-mode BatchNormalization that directly follows a Conv or ConvTranspose into
 * that convolution (Bolt's -b option; docs/algorithms.md §6 "BatchNorm folding"), per output channel m:
 *   f[m] = gamma[m] / sqrt(var[m] + eps),  W'[m] = W[m] * f[m],  b'[m] = (b[m] - mean[m]) * f[m] + beta[m]
 * (a convolution without a bias gets one). ConvTranspose stores its weight as [Cin, Cout/group, k...]:
 * output channel m is column m % (Cout/group) of the input channels of group floor(m / (Cout/group)).
 *
 * The BN node disappears and the convolution, which keeps its node name, now produces the BN's output
 * tensor, so downstream nodes, graph outputs, QTables and CaliTables keep their names. A BN is folded
 * only when its parameters are float32 initializers, it is not in training mode, its running-statistics
 * outputs are unused and the convolution's output feeds nothing else; every other BN is listed in
 * `skipped` with the reason. The input model is never changed.
 *
 * @example
 * // x -> Conv "conv1" (W, b) -> BatchNormalization "bn1" -> y
 * const { model, folded } = foldBatchNorm(readOnnx(bytes, 'net.onnx'));
 * // folded: [{ conv: 'conv1', batchNorm: 'bn1' }]; model: x -> Conv "conv1" (W', b') -> y
 */
export function foldBatchNorm(model: OnnxModel): BatchNormFolding {
  const edit = new ModelEdit(model);
  const folded: FoldedBatchNorm[] = [];
  const skipped: SkippedBatchNorm[] = [];
  // A snapshot: folding removes nodes from edit.nodes while the loop walks it.
  for (const bn of edit.nodes.slice()) {
    if (bn.opType !== 'BatchNormalization' || (bn.domain && bn.domain !== 'ai.onnx')) continue;
    const result = foldOne(edit, bn);
    if (typeof result === 'string') skipped.push({ batchNorm: bn.name, reason: result });
    else folded.push(result);
  }
  return { model: folded.length ? edit.build() : model, folded, skipped };
}

/** Folds one BN, or says why it cannot. */
function foldOne(edit: ModelEdit, bn: onnx.NodeProto): FoldedBatchNorm | string {
  if (intAttribute(bn, 'training_mode', 0) !== 0) return 'it runs in training mode (training_mode = 1)';
  const extraOutputs = bn.output.slice(1).filter(Boolean);
  if (extraOutputs.some((o) => edit.graphOutputs.has(o) || edit.consumers(o).length > 0)) return 'its running mean or variance outputs are used';
  const x = bn.input[0];
  const conv = edit.producer(x);
  if (!conv || (conv.opType !== 'Conv' && conv.opType !== 'ConvTranspose') || (conv.domain && conv.domain !== 'ai.onnx')) {
    return `its input "${x}" is not produced by a Conv or ConvTranspose`;
  }
  if (conv.output[0] !== x) return `its input "${x}" is not the first output of ${conv.opType} "${conv.name}"`;
  const readers = edit.consumers(x);
  if (readers.length !== 1 || bn.input.lastIndexOf(x) !== 0 || edit.graphOutputs.has(x)) {
    return `the output of ${conv.opType} "${conv.name}" also feeds ${edit.graphOutputs.has(x) ? 'a graph output' : `${readers.length - 1} other node(s)`}`;
  }
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((k) => edit.floatWeight(bn.input[k]));
  if (!gamma || !beta || !mean || !variance) return 'its scale, bias, mean and variance are not all float32 initializers';
  const weight = edit.floatWeight(conv.input[1]);
  if (!weight || weight.dims.length < 3) return `the weight of ${conv.opType} "${conv.name}" is not a float32 initializer`;
  const hasBias = Boolean(conv.input[2]);
  const bias = hasBias ? edit.floatWeight(conv.input[2]) : undefined;
  if (hasBias && !bias) return `the bias of ${conv.opType} "${conv.name}" is not a float32 initializer`;

  const group = intAttribute(conv, 'group', 1);
  const transposed = conv.opType === 'ConvTranspose';
  const channels = transposed ? weight.dims[1] * group : weight.dims[0];
  for (const [label, p] of [['scale', gamma], ['bias', beta], ['mean', mean], ['variance', variance]] as const) {
    if (p.data.length !== channels) return `its ${label} has ${p.data.length} values but ${conv.opType} "${conv.name}" produces ${channels} channels`;
  }
  if (bias && bias.data.length !== channels) return `the bias of ${conv.opType} "${conv.name}" has ${bias.data.length} values for ${channels} channels`;
  const epsilon = findAttribute(bn, 'epsilon')?.f ?? DEFAULT_EPSILON;
  const factor = new Float64Array(channels);
  for (let m = 0; m < channels; m++) {
    const denominator = variance.data[m] + epsilon;
    if (!(denominator > 0)) return `channel ${m} has variance + epsilon = ${denominator}, which is not positive`;
    factor[m] = gamma.data[m] / Math.sqrt(denominator);
  }

  const w = weight.data;
  const inner = sizeOf(weight.dims.slice(2));
  if (transposed) {
    const inputs = weight.dims[0];
    const perGroupOut = weight.dims[1];
    const perGroupIn = inputs / group;
    for (let c = 0; c < inputs; c++) {
      const g = Math.floor(c / perGroupIn);
      for (let j = 0; j < perGroupOut; j++) {
        const f = factor[g * perGroupOut + j];
        const at = (c * perGroupOut + j) * inner;
        for (let k = 0; k < inner; k++) w[at + k] *= f;
      }
    }
  } else {
    const perChannel = sizeOf(weight.dims.slice(1));
    for (let m = 0; m < channels; m++) for (let k = 0; k < perChannel; k++) w[m * perChannel + k] *= factor[m];
  }
  const b = new Float32Array(channels);
  for (let m = 0; m < channels; m++) b[m] = ((bias ? bias.data[m] : 0) - mean.data[m]) * factor[m] + beta.data[m];

  edit.writeInput(conv, 1, weight, 'bn_folded');
  if (hasBias) edit.writeInput(conv, 2, { dims: [channels], data: b }, 'bn_folded');
  else edit.addInput(conv, 2, edit.addWeight(`${conv.name}_bias`, { dims: [channels], data: b }));
  conv.output[0] = bn.output[0];
  edit.removeNode(bn);
  return { conv: conv.name, batchNorm: bn.name };
}
