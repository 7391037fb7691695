import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../src/core/io/limits';
import { DEMO_PREPROCESS } from '../src/demo/preprocess';
import { GraphBuilder } from '../test/support/GraphBuilder';
import { preprocessForModel } from '../src/core/io/dataset/modelPreprocess';
import { describePreprocess, preprocessFrom } from './preprocessFlags';
import { runQbench } from '../test/support/runQbench';


/** The real `qbench` command, as a user runs it (test/support/runQbench.ts). */
const qbench = (...args: string[]) => runQbench(args);

const from = (flags: Record<string, string>, model?: Parameters<typeof preprocessFrom>[2]) => preprocessFrom(flags, DEFAULT_LIMITS, model);

describe('--preset and --resize_mode', () => {
  it('a preset sets mean, scale, colour order and resize mode; each flag given goes over it', () => {
    expect(from({ preset: 'yolo' })).toMatchObject({ resizeMode: 'letterbox', padValue: 114, pixelFormat: 'rgb', mean: [0, 0, 0], layout: 'nchw' });
    expect(from({ preset: 'yolo', pad_value: '0', layout: 'nhwc' })).toMatchObject({ padValue: 0, layout: 'nhwc' });
    expect(from({ preset: 'imagenet', resize_mode: 'stretch' }).resizeMode).toBe('stretch');
    expect(from({ preset: 'minus1_1', pixel_format: 'bgr' }).pixelFormat).toBe('bgr');
    // the demo's own preprocessing, in one flag
    expect({ ...from({ preset: 'ppocr_det' }), resizeMode: undefined }).toEqual({ ...DEMO_PREPROCESS, resizeMode: undefined });
    expect(from({ preset: 'ppocr_rec', input_size: '48,640' })).toMatchObject({ inputSize: [48, 640], resizeMode: 'keep_aspect_pad', padValue: 127.5 });
  });

  it('without either, what it did before: stretch, or crop with --resize_dims', () => {
    expect(from({}).resizeMode).toBeUndefined();
    expect(from({ resize_dims: '256,256' })).toMatchObject({ resizeMode: 'crop', resizeDims: [256, 256] });
    expect(from({ resize_mode: 'letterbox' })).toMatchObject({ resizeMode: 'letterbox' });
  });

  it('bad values are refused by name', () => {
    expect(() => from({ preset: 'coco' })).toThrow('--preset is one of imagenet, yolo, ppocr_det, ppocr_rec, minus1_1, raw; got "coco"');
    expect(() => from({ resize_mode: 'fill' })).toThrow('--resize_mode is one of stretch, crop, letterbox, keep_aspect_pad; got "fill"');
    expect(() => from({ resize_mode: 'letterbox', resize_dims: '256,256' })).toThrow('--resize_dims sets the size before a centre crop: use it with --resize_mode crop, not letterbox');
    expect(() => from({ resize_mode: 'letterbox', pad_value: '300' })).toThrow('--pad_value takes a pixel value from 0 to 255, got "300"');
    expect(() => from({ pad_value: '114' })).toThrow('--pad_value is the padding of --resize_mode letterbox or keep_aspect_pad');
  });

  it('the CLI exits 2 on them, with the usage text naming the flags', async () => {
    const badPreset = await qbench('eval', '--model', 'm.onnx', '--data', 'd', '--preset', 'coco');
    expect(badPreset.code).toBe(2);
    expect(badPreset.stderr).toContain('--preset is one of imagenet, yolo, ppocr_det, ppocr_rec, minus1_1, raw; got "coco"');
    expect(badPreset.stderr).toContain('--resize_mode stretch|crop|letterbox|keep_aspect_pad');
    const badMode = await qbench('calibrate', '--model', 'm.onnx', '--data', 'd', '-o', 't', '--resize_mode', 'fill');
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toContain('--resize_mode is one of stretch, crop, letterbox, keep_aspect_pad; got "fill"');
  });

  it('eval reads images with each resize mode (a 32x48 NCHW model, two demo JPEGs)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qbench-pre-'));
    const b = new GraphBuilder({ seed: 5 });
    b.output(b.conv(b.relu(b.conv(b.input('x', [1, 3, 32, 48]), 4, 3)), 2, 3));
    writeFileSync(join(dir, 'model.onnx'), b.toBytes());
    const data = ['book_columns.jpg', 'document.jpg'].map((n) => join(import.meta.dirname, '..', 'demo', 'images', n)).join(',');
    for (const flags of [['--preset', 'yolo'], ['--resize_mode', 'keep_aspect_pad', '--pad_value', '127.5'], ['--preset', 'imagenet']]) {
      const r = await qbench('eval', '--model', join(dir, 'model.onnx'), '--data', data, '--json', ...flags);
      expect(r.code, r.stderr).toBe(0);
    }
  });
});

describe('the model\'s own preprocessing first (issue #13 item 1), the flags over it', () => {
  const nhwc = preprocessForModel({ name: 'x', dtype: 'float32', dims: [1, 96, 96, 3] }).preprocess;
  const uint8Gray = preprocessForModel({ name: 'x', dtype: 'uint8', dims: [1, 1, 28, 28] }).preprocess;

  it('starts from what the model says: its layout, channels and value range', () => {
    expect(from({}, nhwc)).toMatchObject({ layout: 'nhwc', pixelFormat: 'rgb', mean: [0, 0, 0], scale: [1 / 255, 1 / 255, 1 / 255], resizeMode: 'stretch' });
    expect(from({}, uint8Gray)).toMatchObject({ layout: 'nchw', pixelFormat: 'gray', scale: [1, 1, 1] });
  });

  it('each flag given wins over the model; a preset keeps the model\'s layout and channels', () => {
    expect(from({ layout: 'nchw' }, nhwc).layout).toBe('nchw');
    expect(from({ preset: 'yolo' }, nhwc)).toMatchObject({ layout: 'nhwc', resizeMode: 'letterbox', padValue: 114 });
    expect(from({ preset: 'minus1_1' }, uint8Gray)).toMatchObject({ pixelFormat: 'gray', mean: [127.5, 127.5, 127.5] });
    expect(from({ mean: '1,2,3', pixel_format: 'bgr' }, nhwc)).toMatchObject({ layout: 'nhwc', mean: [1, 2, 3], pixelFormat: 'bgr' });
    // A session's crop from 256x256 (the base) goes with another resize mode given.
    const cropped = { ...nhwc, resizeMode: 'crop' as const, resizeDims: [256, 256] as const };
    expect(from({ resize_mode: 'letterbox' }, cropped)).toMatchObject({ resizeMode: 'letterbox', resizeDims: null });
    expect(from({ input_size: '64,64' }, cropped)).toMatchObject({ resizeMode: 'crop', resizeDims: [256, 256], inputSize: [64, 64] });
    // The base's letterbox takes a --pad_value without --resize_mode.
    expect(from({ pad_value: '0' }, from({ preset: 'yolo' }, nhwc)).padValue).toBe(0);
  });

  it('the note says what was used and where it came from', () => {
    expect(describePreprocess(from({}, nhwc), 'the model', [], false)).toBe('NHWC, RGB, mean 0, scale 0.003922, stretch: from the model, no preprocessing flag over it');
    expect(describePreprocess(from({ preset: 'yolo' }, nhwc), 'the model', ['--preset yolo'], true)).toBe('NHWC, RGB, mean 0, scale 0.003922, letterbox padded with 114, input size 640x640: from the model, with --preset yolo over it');
  });

  const TFLITE = join(import.meta.dirname, '..', '..', 'shared', 'corpus', 'tflite', 'keras_mobilenetv2_035_96_float.tflite');
  const IMAGES = ['book_columns.jpg', 'document.jpg'].map((n) => join(import.meta.dirname, '..', 'demo', 'images', n)).join(',');

  it.skipIf(!existsSync(TFLITE))('an NHWC model (a converted .tflite) reads images without layout flags, as with them, and says so', async () => {
    const own = await qbench('eval', '--model', TFLITE, '--data', IMAGES);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stdout).toContain('note: images preprocessed as NHWC, RGB, mean 0, scale 0.003922, stretch: from the model (input "serving_default_keras_tensor:0" is [1, 96, 96, 3]: NHWC, 3 channels), no preprocessing flag over it');
    // The same tensors as the flags spelled out (before the model's own, these were needed: NCHW was refused).
    const [a, b] = await Promise.all([
      qbench('eval', '--model', TFLITE, '--data', IMAGES, '--json'),
      qbench('eval', '--model', TFLITE, '--data', IMAGES, '--json', '--layout', 'nhwc', '--pixel_format', 'rgb', '--mean', '0,0,0', '--scale', `${1 / 255},${1 / 255},${1 / 255}`),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(a.stdout).layers).toEqual(JSON.parse(b.stdout).layers);
    // A flag still wins over the model: NCHW asked for, NCHW refused by name.
    const forced = await qbench('eval', '--model', TFLITE, '--data', IMAGES, '--layout', 'nchw');
    expect(forced.code).not.toBe(0);
    expect(forced.stderr).toContain('with layout nchw its channel dim is 96');
    const preset = await qbench('calibrate', '--model', TFLITE, '--data', IMAGES, '-o', join(mkdtempSync(join(tmpdir(), 'qbench-pre-')), 't.table'), '--preset', 'minus1_1');
    expect(preset.code, preset.stderr).toBe(0);
    expect(preset.stdout).toContain('note: images preprocessed as NHWC, RGB, mean 127.5, scale 0.007843, stretch: from the model (input "serving_default_keras_tensor:0" is [1, 96, 96, 3]: NHWC, 3 channels), with --preset minus1_1 over it');
  });
});
