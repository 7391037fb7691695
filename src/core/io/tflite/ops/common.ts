import { floatAttr, intAttr, intsAttr, stringAttr } from '../../onnx/attributes';
import type { FlatOperator } from '../flatModel';
import type { Layout, Lowering } from '../lowering';

export { floatAttr, intAttr, intsAttr, stringAttr };

/** Converts one TFLite operator: reads its inputs from the lowering and produces its outputs. */
export type OperatorLowering = (l: Lowering, op: FlatOperator) => void;

/** An option of the operator's builtin options table (the schema's default where the table is absent). */
export function option<T>(op: FlatOperator, name: string, fallback: T): T {
  const value = op.options?.[name];
  return value === undefined || value === null ? fallback : (value as T);
}

/** ActivationFunctionType codes. */
export const Activation = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4, SIGN_BIT: 5 } as const;

/**
 * Writes `from` through a fused activation into `to` (TFLite folds them into the operator; ONNX
 * spells them as nodes, which onnxruntime's quantizer fuses back into a Conv or Gemm).
 */
export function activation(l: Lowering, code: number, from: string, to: string, owner: string): void {
  switch (code) {
    case Activation.RELU: l.node('Relu', [from], [to], `${owner}/Relu`); return;
    case Activation.RELU6: clip(l, from, to, owner, 0, 6, 'Relu6'); return;
    case Activation.RELU_N1_TO_1: clip(l, from, to, owner, -1, 1, 'ReluN1To1'); return;
    case Activation.TANH: l.node('Tanh', [from], [to], `${owner}/Tanh`); return;
    default: throw l.error(`has fused activation ${code}, which qbench does not convert`);
  }
}

export function clip(l: Lowering, from: string, to: string, owner: string, low: number, high: number, what = 'Clip'): void {
  const min = l.scalarInit(`${owner}/${what}/min`, 'float32', low);
  const max = l.scalarInit(`${owner}/${what}/max`, 'float32', high);
  l.node('Clip', [from, min, max], [to], `${owner}/${what}`);
}

/**
 * Produces operator output `index` in `layout`: `compute(out)` writes the operator's own node(s),
 * named after the output, then the fused activation if there is one.
 */
export function produceActivated(l: Lowering, index: number, layout: Layout, fused: number, compute: (out: string) => void): string {
  return l.produce(index, layout, (out) => {
    if (!fused) {
      compute(out);
      return;
    }
    const before = l.temp(index, 'before_activation');
    compute(before);
    activation(l, fused, before, out, l.ownName(index));
  });
}

/** Padding codes. */
export const Padding = { SAME: 0, VALID: 1 } as const;

/**
 * TensorFlow's SAME padding of one spatial axis as [before, after]: the output has ceil(in / stride)
 * positions and the odd pixel of padding goes after (ONNX's SAME_UPPER), spelled out explicitly.
 */
export function samePadding(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** ONNX `pads` ([top, left, bottom, right]) of a 2-D window over an NHWC input of shape `shape`. */
export function windowPads(padding: number, shape: readonly number[], kernel: [number, number], strides: [number, number], dilations: [number, number] = [1, 1]): number[] {
  if (padding === Padding.VALID) return [0, 0, 0, 0];
  const [top, bottom] = samePadding(shape[1], kernel[0], strides[0], dilations[0]);
  const [left, right] = samePadding(shape[2], kernel[1], strides[1], dilations[1]);
  return [top, left, bottom, right];
}

/** A Reshape of `from` to the static shape `dims`. */
export function reshape(l: Lowering, from: string, to: string, dims: readonly number[], name: string): void {
  const shape = l.int64Init(`${name}/shape`, dims);
  l.node('Reshape', [from, shape], [to], name);
}

/** The file's shape of a tensor. */
export function shapeOf(l: Lowering, index: number): readonly number[] {
  return l.tensor(index).shape;
}
