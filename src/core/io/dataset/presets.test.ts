import { describe, expect, it } from 'vitest';
import { DEMO_PREPROCESS } from '../../../demo/preprocess';
import { DEFAULT_PREPROCESS, padValueOf, resizeModeOf } from './ImagePreprocess';
import { preprocessForModel } from './modelPreprocess';
import { PRESETS, presetOf, withPreset } from './presets';

const nhwc = { ...DEFAULT_PREPROCESS, layout: 'nhwc' as const };

describe('presets', () => {
  it('ImageNet: RGB, mean 255 * [0.485, 0.456, 0.406], scale 1 / (255 * [0.229, 0.224, 0.225])', () => {
    const p = withPreset(DEFAULT_PREPROCESS, 'imagenet');
    expect(p.pixelFormat).toBe('rgb');
    [0.485, 0.456, 0.406].forEach((m, i) => expect(p.mean[i]).toBeCloseTo(m * 255, 9));
    [0.229, 0.224, 0.225].forEach((s, i) => expect(p.scale[i]).toBeCloseTo(1 / (s * 255), 12));
  });

  it('YOLO: letterbox padded with 114, /255, RGB; the layout stays the model\'s', () => {
    const p = withPreset(nhwc, 'yolo');
    expect(p).toMatchObject({ layout: 'nhwc', pixelFormat: 'rgb', mean: [0, 0, 0], resizeMode: 'letterbox', padValue: 114 });
    expect(p.scale[0]).toBeCloseTo(1 / 255, 12);
  });

  it("PaddleOCR det is the demo's own preprocessing; the recognizer keeps the aspect at height 48 and pads with 0 after normalising", () => {
    expect(presetOf(DEMO_PREPROCESS)).toBe('ppocr_det');
    const det = withPreset(DEFAULT_PREPROCESS, 'ppocr_det');
    expect({ ...det, resizeMode: undefined }).toEqual({ ...DEMO_PREPROCESS, resizeMode: undefined });
    const rec = withPreset(DEFAULT_PREPROCESS, 'ppocr_rec');
    expect(rec).toMatchObject({ pixelFormat: 'bgr', resizeMode: 'keep_aspect_pad', inputSize: [48, 320], padValue: 127.5 });
    expect((padValueOf(rec) - rec.mean[0]) * rec.scale[0]).toBe(0);
  });

  it('[-1, 1] maps 0 to -1 and 255 to 1; raw keeps pixels', () => {
    const p = withPreset(DEFAULT_PREPROCESS, 'minus1_1');
    expect((0 - p.mean[0]) * p.scale[0]).toBe(-1);
    expect((255 - p.mean[0]) * p.scale[0]).toBe(1);
    expect(withPreset(DEFAULT_PREPROCESS, 'raw')).toMatchObject({ mean: [0, 0, 0], scale: [1, 1, 1] });
  });

  it('a preset keeps a gray model gray, a size the model leaves open gets the preset\'s, a pad value does not outlive its preset', () => {
    expect(withPreset({ ...DEFAULT_PREPROCESS, pixelFormat: 'gray' }, 'imagenet').pixelFormat).toBe('gray');
    expect(withPreset(DEFAULT_PREPROCESS, 'yolo').inputSize).toEqual([640, 640]);
    expect(withPreset({ ...DEFAULT_PREPROCESS, inputSize: [320, 320] }, 'yolo').inputSize).toEqual([320, 320]);
    const fromYolo = withPreset(withPreset(DEFAULT_PREPROCESS, 'yolo'), 'minus1_1');
    expect(fromYolo.padValue).toBeUndefined();
    expect(resizeModeOf(fromYolo)).toBe('stretch');
  });

  it('presetOf tells each preset back, and nothing else', () => {
    for (const id of Object.keys(PRESETS) as (keyof typeof PRESETS)[]) expect(presetOf(withPreset(DEFAULT_PREPROCESS, id))).toBe(id);
    expect(presetOf({ ...withPreset(DEFAULT_PREPROCESS, 'yolo'), padValue: 0 })).toBeNull();
    expect(presetOf({ ...DEFAULT_PREPROCESS, mean: [1, 2, 3] })).toBeNull();
  });
});

describe('preprocessForModel', () => {
  const input = (dims: (number | null)[], dtype: 'float32' | 'uint8' = 'float32') => ({ name: 'x', dtype, dims });

  it("reads the layout and channel count from the input's shape", () => {
    expect(preprocessForModel(input([1, 128, 128, 3])).preprocess).toMatchObject({ layout: 'nhwc', pixelFormat: 'rgb', resizeMode: 'stretch' });
    expect(preprocessForModel(input([1, 3, 224, 224])).preprocess).toMatchObject({ layout: 'nchw', pixelFormat: 'rgb' });
    expect(preprocessForModel(input([1, 1, 28, 28])).preprocess).toMatchObject({ layout: 'nchw', pixelFormat: 'gray' });
    const dynamic = preprocessForModel(input([null, 3, null, null]));
    expect(dynamic.preprocess.inputSize).toBeNull();
    expect(dynamic.notes[0]).toBe('input "x" is [?, 3, ?, ?]: NCHW, 3 channels, height and width dynamic');
    expect(preprocessForModel(input([1, 64, 64, 3], 'uint8')).preprocess).toMatchObject({ mean: [0, 0, 0], scale: [1, 1, 1] });
  });

  it("takes Windows ML's image metadata, mean and std in 0..1 pixels, and an ultralytics export", () => {
    const win = preprocessForModel(input([1, 3, 224, 224]), { 'Image.BitmapPixelFormat': 'Bgr8', 'Image.NominalPixelRange': 'Normalized_1_1' }).preprocess;
    expect(win).toMatchObject({ pixelFormat: 'bgr', mean: [127.5, 127.5, 127.5] });
    const torch = preprocessForModel(input([1, 3, 224, 224]), { mean: '[0.485, 0.456, 0.406]', std: '[0.229, 0.224, 0.225]', color_format: 'RGB' });
    expect(torch.preprocess.mean[0]).toBeCloseTo(123.675, 9);
    expect(torch.preprocess.scale[2]).toBeCloseTo(1 / 57.375, 12);
    expect(torch.notes.some((n) => n.includes('times 255'))).toBe(true);
    const yolo = preprocessForModel(input([1, 3, null, null]), { author: 'Ultralytics', stride: '32', imgsz: '[480, 640]' }).preprocess;
    expect(yolo).toMatchObject({ resizeMode: 'letterbox', padValue: 114, inputSize: [480, 640] });
  });

  it('a non-image input says so and keeps the defaults', () => {
    const told = preprocessForModel(input([1, 512]));
    expect(told.notes).toEqual(['input "x" is [1, 512]: not an image input (images need rank 4)']);
  });
});
