/**
 * How an image is fitted into the model's input height and width:
 * - stretch: resized to the input size, aspect ratio ignored;
 * - crop: resized to cover the input (to `resizeDims` when given, TPU-MLIR's --resize_dims, else
 *   keeping the aspect ratio until the shorter side fits), then the centre is cut out;
 * - letterbox: resized to fit inside, aspect kept, centred, the borders padded (YOLO: 114);
 * - keep_aspect_pad: PaddleOCR's recognizer (resize_norm_img): the height fills the input, the
 *   width follows the aspect ratio rounded up (squeezed to the input width when wider), padded on
 *   the right.
 */
export type ResizeMode = 'stretch' | 'crop' | 'letterbox' | 'keep_aspect_pad';

export const RESIZE_MODES: readonly ResizeMode[] = ['stretch', 'crop', 'letterbox', 'keep_aspect_pad'];

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
  /**
   * Optional so that preprocessing saved before resize modes existed (a kept session) still reads:
   * absent means crop when `resizeDims` is set, else stretch, which is what it did then.
   */
  readonly resizeMode?: ResizeMode;
  /** The pixel value (0..255, may be fractional) the padding of letterbox and keep_aspect_pad takes; default 114 and 0. */
  readonly padValue?: number;
}

/** The resize mode `p` asks for, an absent one read as it was before resize modes existed. */
export function resizeModeOf(p: ImagePreprocess): ResizeMode {
  return p.resizeMode ?? (p.resizeDims ? 'crop' : 'stretch');
}

/** The value padding takes: YOLO's grey 114 for letterbox, black otherwise, unless set. */
export function padValueOf(p: ImagePreprocess): number {
  return p.padValue ?? (resizeModeOf(p) === 'letterbox' ? 114 : 0);
}

/** Pixels scaled to [0, 1], RGB, NCHW, stretched: what most exported vision models expect (no resizeMode: spreading it with resizeDims keeps meaning crop). */
export const DEFAULT_PREPROCESS: ImagePreprocess = {
  resizeDims: null,
  inputSize: null,
  mean: [0, 0, 0],
  scale: [1 / 255, 1 / 255, 1 / 255],
  pixelFormat: 'rgb',
  layout: 'nchw',
};
