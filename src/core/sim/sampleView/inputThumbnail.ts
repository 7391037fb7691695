import type { RgbaImage } from '../../io/dataset/ImageDecoder';
import { float16BitsToFloat32 } from '../../model/float16';
import { toFloat32, type Tensor } from '../../model/tensor';
import { paint, rasterOf } from './raster';

/** How an image-shaped input holds its pixels. */
export interface ImageLayout {
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  readonly channelsLast: boolean;
}

/** Smaller than this on a side, a 4-D input is more likely features than a picture. */
const MIN_SIDE = 8;

/**
 * The pixel layout of an image input: [N, 3, H, W], [N, H, W, 3], or the same with one channel;
 * null for anything else (a sequence [N, T, C] is no picture, even when it would fit one).
 */
export function imageLayout(dims: readonly number[]): ImageLayout | null {
  if (dims.length !== 4) return null;
  const [, a, b, c] = dims;
  if ((a === 3 || a === 1) && b >= MIN_SIDE && c >= MIN_SIDE) return { channels: a, channelsLast: false, height: b, width: c };
  if ((c === 3 || c === 1) && a >= MIN_SIDE && b >= MIN_SIDE) return { channels: c, channelsLast: true, height: a, width: b };
  return null;
}

/**
 * The first image of an input tensor as an RGBA thumbnail (at most MAX_IMAGE_SIDE a side). The
 * tensor is what the model receives, after mean and scale: its values are stretched from their
 * minimum to their maximum over the image (undoing any per-tensor normalisation; a per-channel one
 * leaves a slight tint). `channelOrder` 'bgr' puts channel 0 in blue, as the data was read.
 */
export function inputThumbnail(tensor: Tensor, channelOrder: 'rgb' | 'bgr' = 'rgb'): RgbaImage | null {
  const layout = imageLayout(tensor.dims);
  if (!layout) return null;
  const { height, width, channels, channelsLast } = layout;
  const values = toFloat32(tensor, float16BitsToFloat32);
  const plane = height * width;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < plane * channels; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // 8-bit pixels fed as they are need no stretching; a constant image is mid-grey.
  const [offset, gain] = tensor.dtype === 'uint8' ? [0, 1] : [lo, hi > lo ? 255 / (hi - lo) : 0];
  const at = channelsLast ? (c: number, p: number) => values[p * channels + c] : (c: number, p: number) => values[c * plane + p];
  const order = channels === 1 ? [0, 0, 0] : channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const level = (c: number, p: number) => (gain === 0 ? 128 : (at(c, p) - offset) * gain);
  return paint(rasterOf(height, width), (y, x) => {
    const p = y * width + x;
    return [level(order[0], p), level(order[1], p), level(order[2], p)];
  });
}
