import { TensorType } from '../flatTensors';
import { TO_CF, TO_NATIVE, type Layout, type Lowering } from '../lowering';
import { intAttr, intsAttr, option, produceActivated, reshape, stringAttr, type OperatorLowering } from './common';

/** Native axis `axis` of a 4-D tensor as a position in its channels-first form. */
function cfAxis(axis: number): number {
  return TO_CF.indexOf(axis);
}

function normalize(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** RESHAPE, SQUEEZE, EXPAND_DIMS: a Reshape to the output's static shape. */
export const reshapeOp: OperatorLowering = (l, op) => {
  const [x] = op.inputs;
  const out = op.outputs[0];
  const input = l.read(x, 'native');
  l.produce(out, 'native', (to) => reshape(l, input, to, l.tensor(out).shape, l.ownName(out)));
};

function sameQuantization(l: Lowering, a: number, b: number): boolean {
  const qa = l.tensor(a).quantization;
  const qb = l.tensor(b).quantization;
  if (!qa || !qb) return qa === qb;
  return qa.scale.length === qb.scale.length && qa.scale.every((s, i) => s === qb.scale[i]) && qa.zeroPoint.every((z, i) => z === qb.zeroPoint[i]);
}

/**
 * TRANSPOSE. NCHW -> NHWC ([0, 2, 3, 1], what a PyTorch export puts first) writes no node: the
 * output's channels-first form is the input itself, so the convolutions after it read the input.
 */
export const transposeOp: OperatorLowering = (l, op) => {
  const [x, permIndex] = op.inputs;
  const out = op.outputs[0];
  const perm = l.constantInts(permIndex);
  if (perm.length === 4 && perm.every((p, i) => p === TO_NATIVE[i]) && sameQuantization(l, x, out)) {
    l.alias(out, 'cf', l.read(x, 'native'));
    return;
  }
  const input = l.read(x, 'native');
  l.produce(out, 'native', (to) => l.node('Transpose', [input], [to], l.ownName(out), [intsAttr('perm', perm)]));
};

export const concatenation: OperatorLowering = (l, op) => {
  const out = op.outputs[0];
  const rank = l.tensor(out).shape.length;
  const axis = normalize(option(op, 'axis', 0), rank);
  const layout: Layout = rank === 4 && op.inputs.every((i) => !l.isConstant(i) && l.has(i, 'cf')) ? 'cf' : 'native';
  const inputs = op.inputs.map((i) => l.read(i, layout));
  produceActivated(l, out, layout, option(op, 'fusedActivationFunction', 0), (to) => l.node('Concat', inputs, [to], l.ownName(out), [intAttr('axis', layout === 'cf' ? cfAxis(axis) : axis)]));
};

/** PAD, PADV2 (a constant value), MIRROR_PAD (REFLECT only: ONNX has no SYMMETRIC mode). */
function pad(kind: 'constant' | 'value' | 'mirror'): OperatorLowering {
  return (l, op) => {
    const [x, paddingsIndex, valueIndex] = op.inputs;
    const out = op.outputs[0];
    const rank = l.tensor(x).shape.length;
    const paddings = l.constantInts(paddingsIndex);
    if (kind === 'mirror' && option(op, 'mode', 0) !== 0) throw l.error('pads in SYMMETRIC mode, which ONNX cannot express');
    const layout: Layout = rank === 4 && l.has(x, 'cf') ? 'cf' : 'native';
    const order = layout === 'cf' ? TO_CF : [...Array(rank).keys()];
    const pads = [...order.map((a) => paddings[2 * a]), ...order.map((a) => paddings[2 * a + 1])];
    const inputs = [l.read(x, layout), l.int64Init(`${l.ownName(out)}/pads`, pads)];
    if (kind === 'value' && valueIndex !== undefined && valueIndex >= 0) inputs.push(l.constant(valueIndex));
    l.produce(out, layout, (to) => l.node('Pad', inputs, [to], l.ownName(out), kind === 'mirror' ? [stringAttr('mode', 'reflect')] : []));
  };
}

export const padOp = pad('constant');
export const padV2 = pad('value');
export const mirrorPad = pad('mirror');

/** MEAN, SUM, REDUCE_MAX...: axes from a constant, computed channels-first when the kept axes keep their order. */
function reduce(opType: string): OperatorLowering {
  return (l, op) => {
    const [x, axesIndex] = op.inputs;
    const out = op.outputs[0];
    const rank = l.tensor(x).shape.length;
    const axes = [...new Set(l.constantInts(axesIndex).map((a) => normalize(a, rank)))].sort((a, b) => a - b);
    const keep = option(op, 'keepDims', false);
    let layout: Layout = 'native';
    if (rank === 4 && l.has(x, 'cf')) {
      // Without keep_dims the result has the kept axes in the order of the layout computed in:
      // channels-first serves only where that is the file's order too (H and W reduced: [N, C]).
      const kept = TO_CF.filter((a) => !axes.includes(a));
      const inOrder = kept.every((a, i) => i === 0 || a > kept[i - 1]);
      if (keep || inOrder) layout = 'cf';
    }
    const outLayout: Layout = layout === 'cf' && keep ? 'cf' : 'native';
    const input = l.read(x, layout);
    const onnxAxes = layout === 'cf' ? axes.map(cfAxis) : axes;
    const axesName = l.int64Init(`${l.ownName(out)}/axes`, onnxAxes);
    l.produce(out, outLayout, (to) => l.node(opType, [input, axesName], [to], l.ownName(out), [intAttr('keepdims', keep ? 1 : 0)]));
  };
}

export const mean = reduce('ReduceMean');
export const sum = reduce('ReduceSum');
export const reduceMax = reduce('ReduceMax');
export const reduceMin = reduce('ReduceMin');
export const reduceProd = reduce('ReduceProd');

/** SOFTMAX (beta scales the logits first) and LOG_SOFTMAX on the last axis. */
export const softmax: OperatorLowering = (l, op) => {
  const [x] = op.inputs;
  const out = op.outputs[0];
  const beta = option(op, 'beta', 1);
  let input = l.read(x, 'native');
  if (beta !== 1) {
    const scaled = l.temp(out, 'scaled');
    l.node('Mul', [input, l.scalarInit(`${l.ownName(out)}/beta`, 'float32', beta)], [scaled], `${l.ownName(out)}/beta`);
    input = scaled;
  }
  l.produce(out, 'native', (to) => l.node('Softmax', [input], [to], l.ownName(out), [intAttr('axis', -1)]));
};

export const logSoftmax: OperatorLowering = (l, op) => {
  const input = l.read(op.inputs[0], 'native');
  l.produce(op.outputs[0], 'native', (to) => l.node('LogSoftmax', [input], [to], l.ownName(op.outputs[0]), [intAttr('axis', -1)]));
};

const BIG = 2 ** 53 - 1;

/**
 * STRIDED_SLICE with constant begin/end/strides -> Slice, then a Reshape to the output's shape
 * (which drops the shrunk axes). The masks are applied here; ellipsis and new-axis masks are refused.
 */
export const stridedSlice: OperatorLowering = (l, op) => {
  const [x, beginIndex, endIndex, stridesIndex] = op.inputs;
  const out = op.outputs[0];
  if (option(op, 'ellipsisMask', 0) || option(op, 'newAxisMask', 0)) throw l.error('uses an ellipsis or new-axis mask, which qbench does not convert');
  const begin = l.constantInts(beginIndex);
  const end = l.constantInts(endIndex);
  const strides = stridesIndex !== undefined && stridesIndex >= 0 ? l.constantInts(stridesIndex) : begin.map(() => 1);
  const beginMask = option(op, 'beginMask', 0);
  const endMask = option(op, 'endMask', 0);
  const shrinkMask = option(op, 'shrinkAxisMask', 0);
  const offset = option(op, 'offset', false);
  const starts: number[] = [];
  const ends: number[] = [];
  begin.forEach((b, i) => {
    const s = strides[i];
    let start = b;
    let stop = offset ? b + end[i] : end[i];
    if (beginMask & (1 << i)) start = s > 0 ? 0 : BIG;
    if (endMask & (1 << i)) stop = s > 0 ? BIG : -BIG;
    if (shrinkMask & (1 << i)) stop = start === -1 ? BIG : start + 1;
    starts.push(start);
    ends.push(stop);
  });
  const own = l.ownName(out);
  const input = l.read(x, 'native');
  const names = [l.int64Init(`${own}/starts`, starts), l.int64Init(`${own}/ends`, ends), l.int64Init(`${own}/axes`, begin.map((_, i) => i)), l.int64Init(`${own}/steps`, strides)];
  l.produce(out, 'native', (to) => {
    const sliced = l.temp(out, 'sliced');
    l.node('Slice', [input, ...names], [sliced], own);
    reshape(l, sliced, to, l.tensor(out).shape, `${own}/shrink`);
  });
};

/** SLICE: begin and size (-1: to the end) from constants. */
export const slice: OperatorLowering = (l, op) => {
  const [x, beginIndex, sizeIndex] = op.inputs;
  const out = op.outputs[0];
  const begin = l.constantInts(beginIndex);
  const size = l.constantInts(sizeIndex);
  const own = l.ownName(out);
  const input = l.read(x, 'native');
  const names = [l.int64Init(`${own}/starts`, begin), l.int64Init(`${own}/ends`, size.map((s, i) => (s < 0 ? BIG : begin[i] + s))), l.int64Init(`${own}/axes`, begin.map((_, i) => i))];
  l.produce(out, 'native', (to) => l.node('Slice', [input, ...names], [to], own));
};

export const gather: OperatorLowering = (l, op) => {
  const [x, indices] = op.inputs;
  const out = op.outputs[0];
  if (option(op, 'batchDims', 0) !== 0) throw l.error('gathers with batch_dims, which qbench does not convert');
  const input = l.read(x, 'native');
  const index = l.isConstant(indices) ? l.int64Init(`${l.ownName(out)}/indices`, l.constantInts(indices)) : l.read(indices, 'native');
  const indexShape = l.tensor(indices).shape;
  let indexName = index;
  if (l.isConstant(indices) && indexShape.length !== 1) {
    indexName = l.temp(out, 'indices_shaped');
    reshape(l, index, indexName, indexShape, `${l.ownName(out)}/indices`);
  }
  l.produce(out, 'native', (to) => l.node('Gather', [input, indexName], [to], l.ownName(out), [intAttr('axis', option(op, 'axis', 0))]));
};

/**
 * RESIZE_BILINEAR / RESIZE_NEAREST_NEIGHBOR -> Resize on NCHW to the output's size, with the
 * coordinate convention TFLite's flags mean (align_corners, half_pixel_centers, else asymmetric).
 */
function resize(mode: 'linear' | 'nearest'): OperatorLowering {
  return (l, op) => {
    const [x] = op.inputs;
    const out = op.outputs[0];
    const [n, h, w, c] = l.tensor(out).shape;
    const alignCorners = option(op, 'alignCorners', false);
    const halfPixel = option(op, 'halfPixelCenters', false);
    const coordinates = alignCorners ? 'align_corners' : halfPixel ? (mode === 'linear' ? 'half_pixel' : 'tf_half_pixel_for_nn') : 'asymmetric';
    const nearest = alignCorners ? 'round_prefer_ceil' : 'floor';
    const attributes = [stringAttr('mode', mode), stringAttr('coordinate_transformation_mode', coordinates === 'tf_half_pixel_for_nn' ? 'half_pixel' : coordinates)];
    // TFLite's half-pixel nearest takes floor((o + 0.5) * scale): half_pixel's (o + 0.5) * scale - 0.5 rounded half up.
    if (mode === 'nearest') attributes.push(stringAttr('nearest_mode', coordinates === 'tf_half_pixel_for_nn' ? 'round_prefer_ceil' : nearest));
    const input = l.read(x, 'cf');
    const sizes = l.int64Init(`${l.ownName(out)}/sizes`, [n, c, h, w]);
    l.produce(out, 'cf', (to) => l.node('Resize', [input, '', '', sizes], [to], l.ownName(out), attributes));
  };
}

export const resizeBilinear = resize('linear');
export const resizeNearest = resize('nearest');

/** SPLIT (axis tensor first) and SPLIT_V (sizes, then axis): one Split with explicit sizes. */
function split(variant: 'split' | 'splitV'): OperatorLowering {
  return (l, op) => {
    const x = variant === 'split' ? op.inputs[1] : op.inputs[0];
    const axisIndex = variant === 'split' ? op.inputs[0] : op.inputs[2];
    const rank = l.tensor(x).shape.length;
    const axis = normalize(l.constantInts(axisIndex)[0], rank);
    const sizes = op.outputs.map((o) => l.tensor(o).shape[axis]);
    const input = l.read(x, 'native');
    const splitName = l.int64Init(`${l.ownName(op.outputs[0])}/split`, sizes);
    l.produceMany(op.outputs, 'native', (outs) => l.node('Split', [input, splitName], outs, l.ownName(op.outputs[0]), [intAttr('axis', axis)]));
  };
}

export const splitOp = split('split');
export const splitV = split('splitV');

/** PACK: each input gets the new axis (Unsqueeze), then one Concat. */
export const pack: OperatorLowering = (l, op) => {
  const out = op.outputs[0];
  const axis = normalize(option(op, 'axis', 0), l.tensor(out).shape.length);
  const own = l.ownName(out);
  const axes = l.int64Init(`${own}/axes`, [axis]);
  const parts = op.inputs.map((i, k) => {
    const part = l.temp(out, `part${k}`);
    l.node('Unsqueeze', [l.read(i, 'native'), axes], [part], `${own}/unsqueeze${k}`);
    return part;
  });
  l.produce(out, 'native', (to) => l.node('Concat', parts, [to], own, [intAttr('axis', axis)]));
};

/** UNPACK: Split into ones along the axis, each squeezed. */
export const unpack: OperatorLowering = (l, op) => {
  const [x] = op.inputs;
  const rank = l.tensor(x).shape.length;
  const axis = normalize(option(op, 'axis', 0), rank);
  const own = l.ownName(op.outputs[0]);
  const input = l.read(x, 'native');
  const splitName = l.int64Init(`${own}/split`, op.outputs.map(() => 1));
  const parts = op.outputs.map((_, k) => l.tensorName(`${own}/slice${k}`));
  l.node('Split', [input, splitName], parts, `${own}/Split`, [intAttr('axis', axis)]);
  const axes = l.int64Init(`${own}/axes`, [axis]);
  op.outputs.forEach((o, k) => l.produce(o, 'native', (to) => l.node('Squeeze', [parts[k], axes], [to], l.ownName(o))));
};

/** DEPTH_TO_SPACE / SPACE_TO_DEPTH: TensorFlow's NHWC channel order is ONNX's DCR on NCHW. */
function depthSpace(opType: 'DepthToSpace' | 'SpaceToDepth'): OperatorLowering {
  return (l, op) => {
    const input = l.read(op.inputs[0], 'cf');
    const attributes = [intAttr('blocksize', option(op, 'blockSize', 2)), ...(opType === 'DepthToSpace' ? [stringAttr('mode', 'DCR')] : [])];
    l.produce(op.outputs[0], 'cf', (to) => l.node(opType, [input], [to], l.ownName(op.outputs[0]), attributes));
  };
}

export const depthToSpace = depthSpace('DepthToSpace');
export const spaceToDepth = depthSpace('SpaceToDepth');

const ONNX_INT = { [TensorType.INT32]: 6, [TensorType.INT64]: 7 } as Record<number, number>;

export const argMax: OperatorLowering = (l, op) => {
  const [x, axisIndex] = op.inputs;
  const out = op.outputs[0];
  const rank = l.tensor(x).shape.length;
  const axis = normalize(l.constantInts(axisIndex)[0], rank);
  const own = l.ownName(out);
  const input = l.read(x, 'native');
  l.produce(out, 'native', (to) => {
    const indices = l.temp(out, 'int64');
    l.node('ArgMax', [input], [indices], own, [intAttr('axis', axis), intAttr('keepdims', 0)]);
    l.node('Cast', [indices], [to], `${own}/Cast`, [intAttr('to', ONNX_INT[l.tensor(out).type] ?? 7)]);
  });
};
