import { DataError } from '../../errors';
import type { ValueDesc } from '../../model/ModelGraph';
import { elementCount, formatDims, type Tensor } from '../../model/tensor';
import { checkLimit, DEFAULT_LIMITS, type Limits } from '../limits';
import type { RgbaImage } from './ImageDecoder';
import type { ImagePreprocess } from './ImagePreprocess';
import { fitImage, type ImageFit } from './fit';
import { cropAt, resizeBilinear } from './resize';

/** Where an image goes in a model input: the tensor dims and the picture size inside them. */
export interface ImageInputShape {
  readonly dims: readonly number[];
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
}

const positive = (pair: readonly [number, number] | null) => !pair || pair.every((v) => Number.isInteger(v) && v > 0);

/**
 * The shape an image takes for `input`: NCHW [N, C, H, W] or NHWC [N, H, W, C] by
 * `preprocess.layout`, C = 3 (1 for gray); H and W from the model, or from `preprocess.inputSize`
 * where the model leaves them dynamic; a dynamic batch becomes 1. Each side (and each resize dim)
 * must be within `limits.inputSide` and the float32 tensor within `limits.tensorBytes`; `fileName`
 * (the first image) is named when they are not.
 * @example imageInputShape({ name: 'x', dtype: 'float32', dims: [null, 3, null, null] }, { ...DEFAULT_PREPROCESS, inputSize: [320, 320] }) // { dims: [1, 3, 320, 320], height: 320, width: 320, channels: 3 }
 */
export function imageInputShape(input: ValueDesc, preprocess: ImagePreprocess, limits: Pick<Limits, 'inputSide' | 'tensorBytes'> = DEFAULT_LIMITS, fileName?: string): ImageInputShape {
  const { layout, pixelFormat } = preprocess;
  const channels = pixelFormat === 'gray' ? 1 : 3;
  const nchw = layout === 'nchw';
  const want = input.dims ?? (nchw ? [null, channels, null, null] : [null, null, null, channels]);
  if (want.length !== 4) {
    throw new DataError(`input "${input.name}" has shape ${formatDims(want)}; images feed a rank-4 input ([N, C, H, W] for layout nchw, [N, H, W, C] for nhwc)`);
  }
  const [cAxis, hAxis, wAxis] = nchw ? [1, 2, 3] : [3, 1, 2];
  const c = want[cAxis];
  if (c !== null && c !== channels) {
    const other = want[nchw ? 3 : 1];
    const hint = other === channels ? `set the layout to ${nchw ? 'nhwc' : 'nchw'}` : c === 1 || c === 3 ? `set the pixel format to ${c === 1 ? 'gray' : 'rgb or bgr'}` : 'images give 1 or 3 channels';
    throw new DataError(`input "${input.name}" has shape ${formatDims(want)}: with layout ${layout} its channel dim is ${c}, but pixel format ${pixelFormat} gives ${channels}; ${hint}`);
  }
  if (!positive(preprocess.inputSize) || !positive(preprocess.resizeDims)) {
    throw new DataError(`the input size and resize dims must be whole numbers above 0 (input size ${preprocess.inputSize?.join(',') ?? 'none'}, resize dims ${preprocess.resizeDims?.join(',') ?? 'none'})`);
  }
  let height = want[hAxis];
  let width = want[wAxis];
  if (height === null || width === null) {
    if (!preprocess.inputSize) throw new DataError(`input "${input.name}" has a dynamic size; set the input size in the preprocessing form (--input_size H,W)`);
    height ??= preprocess.inputSize[0];
    width ??= preprocess.inputSize[1];
  }
  const batch = want[0] ?? 1;
  const dims = nchw ? [batch, channels, height, width] : [batch, height, width, channels];
  const sized = (h: number, w: number, source: string) => checkLimit(limits, 'inputSide', Math.max(h, w), `${source} ${h} x ${w} has a side`, fileName);
  sized(height, width, want[hAxis] === null || want[wAxis] === null ? 'the input size' : `input "${input.name}"'s size`);
  if (preprocess.resizeDims) sized(preprocess.resizeDims[0], preprocess.resizeDims[1], 'the resize dims');
  checkLimit(limits, 'tensorBytes', elementCount(dims) * 4, `input "${input.name}" takes float32 ${formatDims(dims)}`, fileName);
  return { dims, height, width, channels };
}

/**
 * Grey levels in R, G and B, as OpenCV's cvtColor RGB2GRAY computes them for 8-bit images:
 * (4899 R + 9617 G + 1868 B + 2^13) >> 14, i.e. 0.299 R + 0.587 G + 0.114 B rounded. (cv2.imread
 * with IMREAD_GRAYSCALE lets the codec convert, which can differ by a level.)
 */
export function toGray(image: RgbaImage): RgbaImage {
  const { data } = image;
  const out = new Uint8ClampedArray(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const y = (data[i] * 4899 + data[i + 1] * 9617 + data[i + 2] * 1868 + 8192) >> 14;
    out[i] = out[i + 1] = out[i + 2] = y;
    out[i + 3] = data[i + 3];
  }
  return { width: image.width, height: image.height, data: out };
}

/** Which RGBA channel feeds each output channel, in the pixel format's order. */
const SOURCE_CHANNELS = { rgb: [0, 1, 2], bgr: [2, 1, 0], gray: [0] } as const;

/** An image fitted into the input: the part of the resized image kept, and where it sits (fit.ts). */
export interface FittedPicture {
  /** The kept pixels, fit.width x fit.height, RGBA (grey in R, G and B for gray). */
  readonly content: RgbaImage;
  readonly fit: ImageFit;
}

/**
 * Grey first if the pixel format is gray (cv2 reads it grey), then resized (cv2.resize
 * INTER_LINEAR) and cropped as the resize mode says (fit.ts). The padding is not drawn here: it
 * is a value of the tensor (it may be fractional, PaddleOCR's recognizer pads with 0 after
 * normalising, pixel 127.5).
 */
export function fitPicture(image: RgbaImage, shape: Pick<ImageInputShape, 'height' | 'width'>, preprocess: ImagePreprocess): FittedPicture {
  const fit = fitImage(image.height, image.width, shape.height, shape.width, preprocess);
  const grey = preprocess.pixelFormat === 'gray' ? toGray(image) : image;
  const resized = resizeBilinear(grey, fit.resize[0], fit.resize[1]);
  const kept = fit.height === resized.height && fit.width === resized.width ? resized : cropAt(resized, fit.cropTop, fit.cropLeft, fit.height, fit.width);
  return { content: kept, fit };
}

/**
 * An image as a float32 input tensor, the way TPU-MLIR's preprocess.py makes one: fitted into the
 * input (fitPicture: grey, resize, crop or pad by the resize mode), then (pixel - mean[c]) *
 * scale[c] in float32, c in the pixel format's order (for bgr, mean[0] is B's); padding is the pad
 * value normalised the same way. A fixed batch above 1 repeats the image, as TPU-MLIR does for one image.
 * @example imageToTensor(img, { dims: [1, 3, 2, 2], height: 2, width: 2, channels: 3 }, DEFAULT_PREPROCESS) // float32 [1, 3, 2, 2], pixels / 255
 */
export function imageToTensor(image: RgbaImage, shape: ImageInputShape, preprocess: ImagePreprocess): Tensor {
  const { height, width, channels, dims } = shape;
  const { content, fit } = fitPicture(image, shape, preprocess);
  const plane = height * width;
  const one = new Float32Array(plane * channels);
  const nchw = preprocess.layout === 'nchw';
  SOURCE_CHANNELS[preprocess.pixelFormat].forEach((source, c) => {
    const mean = Math.fround(preprocess.mean[c]);
    const scale = Math.fround(preprocess.scale[c]);
    // numpy float32: (x - mean) rounds to float32, then * scale rounds again
    const padded = Math.fround(Math.fround(fit.pad - mean) * scale);
    for (let y = 0; y < height; y++) {
      const cy = y - fit.top;
      for (let x = 0; x < width; x++) {
        const p = y * width + x;
        const cx = x - fit.left;
        const inside = cy >= 0 && cy < fit.height && cx >= 0 && cx < fit.width;
        one[nchw ? c * plane + p : p * channels + c] = inside ? Math.fround(Math.fround(content.data[(cy * fit.width + cx) * 4 + source] - mean) * scale) : padded;
      }
    }
  });
  const batch = dims[0];
  if (batch === 1) return { dtype: 'float32', dims: [...dims], data: one };
  const data = new Float32Array(one.length * batch);
  for (let b = 0; b < batch; b++) data.set(one, b * one.length);
  return { dtype: 'float32', dims: [...dims], data };
}
