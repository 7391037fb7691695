/**
 * How images become input tensors, in TPU-MLIR's terms (model_transform.py --resize_dims,
 * --mean, --scale, --pixel_format, --channel_format; python/utils/preprocess.py):
 * value = (pixel - mean[c]) * scale[c], with c counted in the pixel format's channel order.
 */
export interface ImagePreprocess {
  /** [H, W] to resize to before a centre crop to the input size; null = resize straight to the input size. */
  readonly resizeDims: readonly [number, number] | null;
  /** [H, W] to use when the model's input H/W are dynamic (e.g. PP-OCR det [?,3,?,?]); ignored when the model gives them. */
  readonly inputSize: readonly [number, number] | null;
  readonly mean: readonly [number, number, number];
  readonly scale: readonly [number, number, number];
  readonly pixelFormat: 'rgb' | 'bgr' | 'gray';
  readonly layout: 'nchw' | 'nhwc';
}

/** Pixels scaled to [0, 1], RGB, NCHW: what most exported vision models expect. */
export const DEFAULT_PREPROCESS: ImagePreprocess = {
  resizeDims: null,
  inputSize: null,
  mean: [0, 0, 0],
  scale: [1 / 255, 1 / 255, 1 / 255],
  pixelFormat: 'rgb',
  layout: 'nchw',
};
