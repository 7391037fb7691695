import type { FlatOperator } from '../flatModel';
import { transpose, TO_CF, type Lowering } from '../lowering';
import { intAttr, intsAttr, option, produceActivated, windowPads, type OperatorLowering } from './common';
import { integerConv } from './integer';

interface WindowOptions {
  readonly padding: number;
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly fused: number;
}

function windowOptions(op: FlatOperator): WindowOptions {
  return {
    padding: option(op, 'padding', 0),
    strides: [option(op, 'strideH', 1), option(op, 'strideW', 1)],
    dilations: [option(op, 'dilationHFactor', 1), option(op, 'dilationWFactor', 1)],
    fused: option(op, 'fusedActivationFunction', 0),
  };
}

function constantKernel(l: Lowering, index: number): void {
  if (!l.isConstant(index)) throw l.error(`has a kernel ("${l.tensor(index).name}") computed by the model; qbench converts convolutions with constant kernels only`);
}

/** CONV_2D: NHWC input, OHWI kernel -> ONNX Conv on NCHW with an OIHW kernel (grouped when the input has more channels than the kernel). */
export const conv2d: OperatorLowering = (l, op) => {
  const [x, w, b] = op.inputs;
  const o = windowOptions(op);
  constantKernel(l, w);
  if (integerConv(l, op, false)) return;
  const [outC, kh, kw, inC] = l.tensor(w).shape;
  const channels = l.tensor(x).shape[3];
  const kernel = l.weightInit(w, transpose(l.constantFloats(w), [outC, kh, kw, inC], TO_CF), [outC, inC, kh, kw]);
  const inputs = [l.read(x, 'cf'), kernel, ...(b !== undefined && b >= 0 ? [l.constant(b)] : [])];
  const own = l.ownName(op.outputs[0]);
  produceActivated(l, op.outputs[0], 'cf', o.fused, (out) => l.node('Conv', inputs, [out], own, [
    intsAttr('kernel_shape', [kh, kw]), intsAttr('strides', o.strides), intsAttr('dilations', o.dilations),
    intsAttr('pads', windowPads(o.padding, l.tensor(x).shape, [kh, kw], o.strides, o.dilations)), intAttr('group', channels / inC),
  ]));
};

/** DEPTHWISE_CONV_2D: a [1, H, W, C*M] kernel -> ONNX Conv with group = C and a [C*M, 1, H, W] kernel (output channel c*M+m in both). */
export const depthwiseConv2d: OperatorLowering = (l, op) => {
  const [x, w, b] = op.inputs;
  const o = windowOptions(op);
  constantKernel(l, w);
  if (integerConv(l, op, true)) return;
  const [, kh, kw, outC] = l.tensor(w).shape;
  const channels = l.tensor(x).shape[3];
  const kernel = l.weightInit(w, transpose(l.constantFloats(w), [1, kh, kw, outC], [3, 0, 1, 2]), [outC, 1, kh, kw]);
  const inputs = [l.read(x, 'cf'), kernel, ...(b !== undefined && b >= 0 ? [l.constant(b)] : [])];
  const own = l.ownName(op.outputs[0]);
  produceActivated(l, op.outputs[0], 'cf', o.fused, (out) => l.node('Conv', inputs, [out], own, [
    intsAttr('kernel_shape', [kh, kw]), intsAttr('strides', o.strides), intsAttr('dilations', o.dilations),
    intsAttr('pads', windowPads(o.padding, l.tensor(x).shape, [kh, kw], o.strides, o.dilations)), intAttr('group', channels),
  ]));
};

/**
 * TRANSPOSE_CONV (inputs: output shape, OHWI kernel, input, optional bias) -> ONNX ConvTranspose
 * with an IOHW kernel; the padding is derived from the output shape the file states, as TFLite
 * does (the odd pixel after), and any remainder becomes output_padding.
 */
export const transposeConv: OperatorLowering = (l, op) => {
  const [, w, x, b] = op.inputs;
  const o = windowOptions(op);
  constantKernel(l, w);
  const [outC, kh, kw, inC] = l.tensor(w).shape;
  const kernel = l.weightInit(w, transpose(l.constantFloats(w), [outC, kh, kw, inC], [3, 0, 1, 2]), [inC, outC, kh, kw]);
  const inShape = l.tensor(x).shape;
  const outShape = l.tensor(op.outputs[0]).shape;
  const pads = [0, 0, 0, 0];
  const outputPadding = [0, 0];
  [[1, kh], [2, kw]].forEach(([axis, k], i) => {
    const total = (inShape[axis] - 1) * o.strides[i] + k - outShape[axis];
    if (total >= 0) {
      pads[i] = Math.floor(total / 2);
      pads[i + 2] = total - pads[i];
    } else {
      outputPadding[i] = -total;
    }
  });
  const inputs = [l.read(x, 'cf'), kernel, ...(b !== undefined && b >= 0 ? [l.constant(b)] : [])];
  const own = l.ownName(op.outputs[0]);
  produceActivated(l, op.outputs[0], 'cf', o.fused, (out) => l.node('ConvTranspose', inputs, [out], own, [
    intsAttr('kernel_shape', [kh, kw]), intsAttr('strides', o.strides), intsAttr('pads', pads), intsAttr('output_padding', outputPadding),
  ]));
};

/** AVERAGE_POOL_2D / MAX_POOL_2D on NCHW; TFLite's average leaves padding out of the count (count_include_pad = 0). */
function pool(opType: 'AveragePool' | 'MaxPool'): OperatorLowering {
  return (l, op) => {
    const [x] = op.inputs;
    const o = windowOptions(op);
    const kernel: [number, number] = [option(op, 'filterHeight', 1), option(op, 'filterWidth', 1)];
    const own = l.ownName(op.outputs[0]);
    const input = l.read(x, 'cf');
    produceActivated(l, op.outputs[0], 'cf', o.fused, (out) => l.node(opType, [input], [out], own, [
      intsAttr('kernel_shape', kernel), intsAttr('strides', o.strides), intsAttr('pads', windowPads(o.padding, l.tensor(x).shape, kernel, o.strides)),
    ]));
  };
}

export const averagePool2d = pool('AveragePool');
export const maxPool2d = pool('MaxPool');
