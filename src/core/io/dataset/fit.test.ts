import { describe, expect, it } from 'vitest';
import type { ValueDesc } from '../../model/ModelGraph';
import { fitImage } from './fit';
import type { RgbaImage } from './ImageDecoder';
import { grey } from './testSupport';
import { DEFAULT_PREPROCESS, type ImagePreprocess } from './ImagePreprocess';
import { imageInputShape, imageToTensor } from './images';
import { previewImage } from './preview';


const input = (dims: number[]): ValueDesc => ({ name: 'x', dtype: 'float32', dims });
/** Raw pixels, one channel's plane of an NCHW tensor, as rows. */
const raw = (p: Partial<ImagePreprocess>): ImagePreprocess => ({ ...DEFAULT_PREPROCESS, mean: [0, 0, 0], scale: [1, 1, 1], ...p });
function plane(image: RgbaImage, h: number, w: number, p: ImagePreprocess, channel = 0): number[][] {
  const tensor = imageToTensor(image, imageInputShape(input([1, 3, h, w]), p), p);
  const values = Array.from(tensor.data as Float32Array).slice(channel * h * w, (channel + 1) * h * w);
  return Array.from({ length: h }, (_, y) => values.slice(y * w, (y + 1) * w));
}

describe('fitImage (where the image goes, by resize mode)', () => {
  it('stretch fills the input; crop covers it and cuts the centre', () => {
    expect(fitImage(100, 200, 64, 64, raw({ resizeMode: 'stretch' }))).toMatchObject({ resize: [64, 64], top: 0, left: 0, height: 64, width: 64 });
    // scale max(64/100, 64/200) = 0.64: 64 x 128, the centre 64 columns from 64 - 32 = 32
    expect(fitImage(100, 200, 64, 64, raw({ resizeMode: 'crop' }))).toMatchObject({ resize: [64, 128], cropTop: 0, cropLeft: 32, height: 64, width: 64 });
    // TPU-MLIR's --resize_dims: each side at least the input's
    expect(fitImage(100, 200, 64, 64, raw({ resizeDims: [80, 70] }))).toMatchObject({ resize: [80, 70], cropTop: 8, cropLeft: 3 });
  });

  it("letterbox is ultralytics' LetterBox: round(src * r), borders round(d - 0.1) before the image", () => {
    // r = min(64/100, 64/200) = 0.32: 32 x 64, 32 rows of border split 16 / 16
    expect(fitImage(100, 200, 64, 64, raw({ resizeMode: 'letterbox' }))).toMatchObject({ resize: [32, 64], top: 16, left: 0, pad: 114 });
    // 640 x 427 into 640: 427 rows, 213 rows of border: round(106.5 - 0.1) = 106 above, 107 below
    expect(fitImage(427, 640, 640, 640, raw({ resizeMode: 'letterbox' }))).toMatchObject({ resize: [427, 640], top: 106, left: 0 });
  });

  it("keep_aspect_pad is PaddleOCR's resize_norm_img: height fills, width ceil(H * w / h) up to W, at the left", () => {
    expect(fitImage(30, 100, 48, 320, raw({ resizeMode: 'keep_aspect_pad' }))).toMatchObject({ resize: [48, 160], top: 0, left: 0, width: 160, pad: 0 });
    expect(fitImage(31, 100, 48, 320, raw({ resizeMode: 'keep_aspect_pad' }))).toMatchObject({ resize: [48, 155] }); // 154.8 up
    expect(fitImage(10, 1000, 48, 320, raw({ resizeMode: 'keep_aspect_pad' }))).toMatchObject({ resize: [48, 320] }); // wider: squeezed
  });
});

describe('imageToTensor by resize mode, values by hand', () => {
  // 1 row, 2 columns: 0 and 200
  const bar = grey([[0, 200]]);

  it('letterbox: the 1x2 image becomes 2x4 (cv2 bilinear 0, 50, 150, 200), one row of 114 above and below', () => {
    expect(plane(bar, 4, 4, raw({ resizeMode: 'letterbox' }))).toEqual([
      [114, 114, 114, 114],
      [0, 50, 150, 200],
      [0, 50, 150, 200],
      [114, 114, 114, 114],
    ]);
  });

  it('letterbox pads with the pad value normalised like the pixels: (114 - 127.5) / 127.5', () => {
    const p = raw({ resizeMode: 'letterbox', mean: [127.5, 127.5, 127.5], scale: [1 / 127.5, 1 / 127.5, 1 / 127.5] });
    const rows = plane(bar, 4, 4, p);
    expect(rows[0][0]).toBeCloseTo(-13.5 / 127.5, 6);
    expect(rows[1]).toEqual([-1, Math.fround(Math.fround(50 - 127.5) * Math.fround(1 / 127.5)), Math.fround(Math.fround(150 - 127.5) * Math.fround(1 / 127.5)), Math.fround(Math.fround(72.5) * Math.fround(1 / 127.5))]);
  });

  it('keep_aspect_pad: the image at the left, its height filled, padding on the right (127.5 is 0 after (x - 127.5) / 127.5)', () => {
    const square = grey([[10, 20], [30, 40]]);
    const p = raw({ resizeMode: 'keep_aspect_pad', padValue: 127.5, mean: [127.5, 127.5, 127.5], scale: [1 / 127.5, 1 / 127.5, 1 / 127.5] });
    const rows = plane(square, 2, 4, p);
    const v = (x: number) => Math.fround(Math.fround(x - 127.5) * Math.fround(1 / 127.5));
    expect(rows).toEqual([[v(10), v(20), 0, 0], [v(30), v(40), 0, 0]]);
  });

  it('crop without resize dims: the shorter side fits, the centre columns stay', () => {
    const wide = grey([[1, 2, 3, 4], [5, 6, 7, 8]]);
    expect(plane(wide, 2, 2, raw({ resizeMode: 'crop' }))).toEqual([[2, 3], [6, 7]]);
  });

  it('stretch: resized to the input size as before resize modes', () => {
    expect(plane(bar, 1, 4, raw({ resizeMode: 'stretch' }))).toEqual([[0, 50, 150, 200]]);
    expect(plane(bar, 1, 4, raw({}))).toEqual([[0, 50, 150, 200]]);
  });
});

describe('previewImage', () => {
  it('draws the padding, says where the image sits and gives each channel its range', () => {
    const p = raw({ resizeMode: 'letterbox', pixelFormat: 'bgr', mean: [0, 0, 0], scale: [1 / 255, 1 / 255, 1 / 255] });
    const preview = previewImage(grey([[0, 255]]), imageInputShape(input([1, 3, 4, 4]), p), p);
    expect(preview.content).toEqual({ top: 1, left: 0, height: 2, width: 4 });
    expect(Array.from(preview.picture.data.subarray(0, 4))).toEqual([114, 114, 114, 255]);
    expect(preview.channels.map((c) => c.name)).toEqual(['B', 'G', 'R']);
    expect(preview.channels[0]).toMatchObject({ min: 0, max: 1 });
  });
});
