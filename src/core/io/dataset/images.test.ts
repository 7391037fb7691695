import { describe, expect, it } from 'vitest';
import { DataError } from '../../errors';
import type { ValueDesc } from '../../model/ModelGraph';
import type { RgbaImage } from './ImageDecoder';
import { DEFAULT_PREPROCESS, type ImagePreprocess } from './ImagePreprocess';
import { imageInputShape, imageToTensor, toGray } from './images';

/** 2x2 RGBA: (10,20,30) (40,50,60) / (70,80,90) (100,110,120), alpha ignored. */
const tiny: RgbaImage = {
  width: 2,
  height: 2,
  data: new Uint8ClampedArray([10, 20, 30, 0, 40, 50, 60, 99, 70, 80, 90, 255, 100, 110, 120, 7]),
};
const input = (dims: (number | null)[] | null): ValueDesc => ({ name: 'x', dtype: 'float32', dims });
const pre = (p: Partial<ImagePreprocess>): ImagePreprocess => ({ ...DEFAULT_PREPROCESS, ...p });

describe('imageToTensor', () => {
  const meanScale = { mean: [1, 2, 3] as const, scale: [0.5, 0.25, 2] as const };

  it('bgr, nchw: mean[0] and scale[0] apply to B, the first output channel', () => {
    const p = pre({ ...meanScale, pixelFormat: 'bgr', layout: 'nchw' });
    const tensor = imageToTensor(tiny, imageInputShape(input([1, 3, 2, 2]), p), p);
    expect(tensor.dims).toEqual([1, 3, 2, 2]);
    expect([...tensor.data]).toEqual([
      // B: (30, 60, 90, 120 - 1) * 0.5
      14.5, 29.5, 44.5, 59.5,
      // G: (20, 50, 80, 110 - 2) * 0.25
      4.5, 12, 19.5, 27,
      // R: (10, 40, 70, 100 - 3) * 2
      14, 74, 134, 194,
    ]);
  });

  it('rgb, nhwc: channels last, mean[0] on R', () => {
    const p = pre({ ...meanScale, pixelFormat: 'rgb', layout: 'nhwc' });
    const tensor = imageToTensor(tiny, imageInputShape(input([1, 2, 2, 3]), p), p);
    expect(tensor.dims).toEqual([1, 2, 2, 3]);
    expect([...tensor.data]).toEqual([4.5, 4.5, 54, 19.5, 12, 114, 34.5, 19.5, 174, 49.5, 27, 234]);
  });

  it('gray: one channel of 0.299 R + 0.587 G + 0.114 B, rounded as cv2 does', () => {
    // (10,20,30): (4899*10 + 9617*20 + 1868*30 + 8192) >> 14 = 18 (exactly 18.15)
    expect(toGray(tiny).data.slice(0, 4)).toEqual(new Uint8ClampedArray([18, 18, 18, 0]));
    const p = pre({ mean: [10, 0, 0], scale: [1, 1, 1], pixelFormat: 'gray' });
    const tensor = imageToTensor(tiny, imageInputShape(input([1, 1, 2, 2]), p), p);
    expect(tensor.dims).toEqual([1, 1, 2, 2]);
    // 48.15 -> 48, 78.15 -> 78, 108.15 -> 108, minus mean 10
    expect([...tensor.data]).toEqual([8, 38, 68, 98]);
  });

  it('rounds like numpy float32: (x - mean) * scale, each step to float32', () => {
    const pixels: RgbaImage = { width: 4, height: 1, data: new Uint8ClampedArray([0, 0, 0, 255, 1, 1, 1, 255, 128, 128, 128, 255, 255, 255, 255, 255]) };
    const p = pre({ layout: 'nhwc' });
    const tensor = imageToTensor(pixels, imageInputShape(input([1, 1, 4, 3]), p), p);
    // np.float32(x) * np.float32(1/255) for x = 0, 1, 128, 255
    expect([...tensor.data].filter((_, i) => i % 3 === 0)).toEqual([0, 0.003921568859368563, 0.501960813999176, 1]);
    const imagenet = pre({ mean: [123.675, 116.28, 103.53], scale: [0.0171, 0.0175, 0.0174], layout: 'nhwc' });
    const r = imageToTensor({ width: 2, height: 1, data: new Uint8ClampedArray([0, 0, 0, 255, 200, 0, 0, 255]) }, imageInputShape(input([1, 1, 2, 3]), imagenet), imagenet);
    // (np.float32(0) - np.float32(123.675)) * np.float32(0.0171), and for 200
    expect([r.data[0], r.data[3]]).toEqual([-2.114842653274536, 1.3051575422286987]);
  });

  it('a fixed batch above 1 repeats the image, as TPU-MLIR does for one image', () => {
    const p = pre({ mean: [0, 0, 0], scale: [1, 1, 1] });
    const tensor = imageToTensor(tiny, imageInputShape(input([2, 3, 2, 2]), p), p);
    expect(tensor.dims).toEqual([2, 3, 2, 2]);
    const pixels = tensor.data as Float32Array;
    expect(Array.from(pixels.slice(12))).toEqual(Array.from(pixels.slice(0, 12)));
  });
});

describe('imageInputShape', () => {
  it('takes H and W from the model, or from inputSize where they are dynamic', () => {
    expect(imageInputShape(input([1, 3, 224, 192]), pre({ inputSize: [32, 32] }))).toEqual({ dims: [1, 3, 224, 192], height: 224, width: 192, channels: 3 });
    expect(imageInputShape(input([null, 3, null, null]), pre({ inputSize: [320, 256] }))).toEqual({ dims: [1, 3, 320, 256], height: 320, width: 256, channels: 3 });
    expect(imageInputShape(input([1, null, 640, 1]), pre({ inputSize: [320, 256], layout: 'nhwc', pixelFormat: 'gray' }))).toEqual({ dims: [1, 320, 640, 1], height: 320, width: 640, channels: 1 });
    expect(imageInputShape(input(null), pre({ inputSize: [8, 8] }))).toEqual({ dims: [1, 3, 8, 8], height: 8, width: 8, channels: 3 });
  });

  it('says what to set when the size is dynamic and no input size is given', () => {
    expect(() => imageInputShape(input([null, 3, null, null]), DEFAULT_PREPROCESS)).toThrow(
      new DataError('input "x" has a dynamic size; set the input size in the preprocessing form (--input_size H,W)'),
    );
  });

  it('says what to change when the channels do not fit', () => {
    expect(() => imageInputShape(input([1, 224, 224, 3]), DEFAULT_PREPROCESS)).toThrow(
      'input "x" has shape [1, 224, 224, 3]: with layout nchw its channel dim is 224, but pixel format rgb gives 3; set the layout to nhwc',
    );
    expect(() => imageInputShape(input([1, 1, 28, 28]), DEFAULT_PREPROCESS)).toThrow(
      'input "x" has shape [1, 1, 28, 28]: with layout nchw its channel dim is 1, but pixel format rgb gives 3; set the pixel format to gray',
    );
    expect(() => imageInputShape(input([1, 768]), DEFAULT_PREPROCESS)).toThrow(
      'input "x" has shape [1, 768]; images feed a rank-4 input ([N, C, H, W] for layout nchw, [N, H, W, C] for nhwc)',
    );
  });
});
