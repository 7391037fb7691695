import type { Tensor } from '../../model/tensor';
import type { RgbaImage } from './ImageDecoder';
import type { ImagePreprocess } from './ImagePreprocess';
import { fitPicture, imageToTensor, type ImageInputShape } from './images';

/** One channel of the tensor a model gets, in the pixel format's order. */
export interface ChannelRange {
  /** R, G, B (or B, G, R) or Y for gray. */
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

/** One image as the model receives it: the picture after resize, crop or padding, and the tensor's values per channel. */
export interface PreprocessPreview {
  /** The input's height x width: the fitted image, padding drawn with the pad value (rounded). */
  readonly picture: RgbaImage;
  readonly dims: readonly number[];
  readonly channels: readonly ChannelRange[];
  /** Where the image sits in the input (the rest is padding). */
  readonly content: { readonly top: number; readonly left: number; readonly height: number; readonly width: number };
}

const NAMES = { rgb: ['R', 'G', 'B'], bgr: ['B', 'G', 'R'], gray: ['Y'] } as const;

/** Minimum, maximum and mean of each channel of the first image of an image tensor. */
export function channelRanges(tensor: Tensor, shape: ImageInputShape, preprocess: ImagePreprocess): ChannelRange[] {
  const data = tensor.data as Float32Array;
  const plane = shape.height * shape.width;
  const nchw = preprocess.layout === 'nchw';
  return NAMES[preprocess.pixelFormat].map((name, c) => {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (let p = 0; p < plane; p++) {
      const v = data[nchw ? c * plane + p : p * shape.channels + c];
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    return { name, min, max, mean: sum / plane };
  });
}

/**
 * What `image` becomes for an input of `shape` under `preprocess`: the very tensor calibration
 * would get (imageToTensor), its ranges per channel, and the fitted picture drawn in RGB.
 */
export function previewImage(image: RgbaImage, shape: ImageInputShape, preprocess: ImagePreprocess): PreprocessPreview {
  const tensor = imageToTensor(image, shape, preprocess);
  const { content, fit } = fitPicture(image, shape, preprocess);
  const { height, width } = shape;
  const data = new Uint8ClampedArray(height * width * 4);
  const pad = Math.round(fit.pad);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cy = y - fit.top;
      const cx = x - fit.left;
      const at = (y * width + x) * 4;
      const inside = cy >= 0 && cy < fit.height && cx >= 0 && cx < fit.width;
      const from = (cy * fit.width + cx) * 4;
      for (let c = 0; c < 3; c++) data[at + c] = inside ? content.data[from + c] : pad;
      data[at + 3] = 255;
    }
  }
  return {
    picture: { width, height, data },
    dims: tensor.dims,
    channels: channelRanges(tensor, shape, preprocess),
    content: { top: fit.top, left: fit.left, height: fit.height, width: fit.width },
  };
}
