import { intAttr, intsAttr, option, produceActivated, reshape, type OperatorLowering } from './common';

/**
 * FULLY_CONNECTED: y = x W^T + b over the last axis, x flattened to [-1, in] first (TFLite's
 * rule), as an ONNX Gemm with transB, then reshaped to the output's shape when that is not 2-D
 * (keep_num_dims).
 */
export const fullyConnected: OperatorLowering = (l, op) => {
  const [x, w, b] = op.inputs;
  const out = op.outputs[0];
  if (option(op, 'weightsFormat', 0) !== 0) throw l.error('stores its weights shuffled (weights_format), which qbench does not convert');
  const own = l.ownName(out);
  const [units, depth] = l.tensor(w).shape;
  const xShape = l.tensor(x).shape;
  let input = l.read(x, 'native');
  if (xShape.length !== 2 || xShape[1] !== depth) {
    const flat = l.temp(out, 'flattened');
    reshape(l, input, flat, [-1, depth], `${own}/flatten`);
    input = flat;
  }
  const inputs = [input, l.read(w, 'native'), ...(b !== undefined && b >= 0 ? [l.read(b, 'native')] : [])];
  const outShape = l.tensor(out).shape;
  const reshaped = outShape.length !== 2 || outShape[1] !== units;
  produceActivated(l, out, 'native', option(op, 'fusedActivationFunction', 0), (to) => {
    if (!reshaped) {
      l.node('Gemm', inputs, [to], own, [intAttr('transB', 1)]);
      return;
    }
    const flat = l.temp(out, 'gemm');
    l.node('Gemm', inputs, [flat], own, [intAttr('transB', 1)]);
    reshape(l, flat, to, outShape, `${own}/unflatten`);
  });
};

/** BATCH_MATMUL: MatMul, with the last two axes of an adjoint operand swapped first. */
export const batchMatMul: OperatorLowering = (l, op) => {
  const out = op.outputs[0];
  const own = l.ownName(out);
  const [a, b] = op.inputs.map((index, k) => {
    const name = l.read(index, 'native');
    if (!option(op, k === 0 ? 'adjointLhs' : 'adjointRhs', false)) return name;
    const rank = l.tensor(index).shape.length;
    const perm = [...Array(rank).keys()];
    [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
    const swapped = l.temp(out, `adjoint${k}`);
    l.node('Transpose', [name], [swapped], `${own}/adjoint${k}`, [intsAttr('perm', perm)]);
    return swapped;
  });
  l.produce(out, 'native', (to) => l.node('MatMul', [a, b], [to], own));
};
