import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../src/core/io/limits';
import { DEMO_PREPROCESS } from '../src/demo/preprocess';
import { GraphBuilder } from '../test/support/GraphBuilder';
import { preprocessFrom } from './preprocessFlags';
import { runQbench } from '../test/support/runQbench';


/** The real `qbench` command, as a user runs it (test/support/runQbench.ts). */
const qbench = (...args: string[]) => runQbench(args);

const from = (flags: Record<string, string>) => preprocessFrom(flags, DEFAULT_LIMITS);

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
