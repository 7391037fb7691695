/**
 * What each input of an operator is to quantization (docs/algorithms.md §1, ONNX operator specs):
 * - data: an activation that a quantized layer reads quantized;
 * - weight: a constant quantized per output channel (Conv, ConvTranspose, Gemm, MatMul);
 * - bias: a constant quantized to int32 with scale s_in * s_w;
 * - param: a shape, an index, a scale factor, a clip bound... never quantized.
 */
export type InputRole = 'data' | 'weight' | 'bias' | 'param';

/** Operators whose inputs after the first are all parameters. */
const FIRST_INPUT_ONLY = new Set([
  'Reshape', 'Expand', 'Tile', 'Slice', 'Gather', 'GatherElements', 'GatherND', 'Squeeze', 'Unsqueeze',
  'Split', 'Resize', 'Upsample', 'Pad', 'Clip', 'TopK', 'BatchNormalization', 'InstanceNormalization',
  'LayerNormalization', 'GroupNormalization', 'PRelu', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin',
  'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare', 'CumSum',
  'DepthToSpace', 'SpaceToDepth', 'Dropout', 'Trilu', 'RoiAlign', 'GridSample', 'Compress', 'OneHot',
]);

/** Operators with no data inputs at all: they only compute shapes, ranges or constants. */
const NO_DATA_INPUTS = new Set(['Shape', 'Size', 'ConstantOfShape', 'Range', 'NonZero', 'EyeLike']);

export function inputRole(opType: string, index: number, isInitializer: boolean): InputRole {
  if (NO_DATA_INPUTS.has(opType)) return 'param';
  switch (opType) {
    case 'Conv':
    case 'ConvTranspose':
      return index === 0 ? 'data' : index === 1 ? (isInitializer ? 'weight' : 'data') : isInitializer ? 'bias' : 'param';
    case 'Gemm':
      if (index === 0) return 'data';
      if (index === 1) return isInitializer ? 'weight' : 'data';
      return isInitializer ? 'bias' : 'param';
    case 'MatMul':
      return index === 1 && isInitializer ? 'weight' : 'data';
    case 'Where':
      return index === 0 ? 'param' : 'data';
    case 'ScatterND':
    case 'ScatterElements':
      return index === 1 ? 'param' : 'data';
  }
  if (FIRST_INPUT_ONLY.has(opType)) return index === 0 ? 'data' : 'param';
  return 'data';
}

/**
 * Activation functions a toolchain fuses into the layer before them: between such a pair there is
 * no quantizer (TPU-MLIR folds Relu into Conv; onnxruntime fuses Relu/Clip into QLinearConv or
 * drops them at the quantizer). BatchNormalization after a convolution is folded the same way.
 */
export function fusesIntoProducer(consumerOp: string, producerOp: string): boolean {
  if (consumerOp === 'Relu' || consumerOp === 'Clip') return true;
  return consumerOp === 'BatchNormalization' && (producerOp === 'Conv' || producerOp === 'ConvTranspose');
}

/** Output-channel axis of a weight, for per-channel scales (docs/algorithms.md §1). */
export function weightChannelAxis(opType: string, rank: number, attributes: { transB?: number }): number {
  switch (opType) {
    case 'Conv': return 0;            // OIHW; depthwise is still dim 0
    case 'ConvTranspose': return 1;   // I(O/g)HW
    case 'Gemm': return attributes.transB ? 0 : 1;
    case 'MatMul': return rank - 1;   // [.., K, N]: one scale per output feature
    default: return 0;
  }
}
