import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../../../cli/nodeImageDecoder';
import { FormatError } from '../../errors';
import type { ValueDesc } from '../../model/ModelGraph';
import { DEFAULT_PREPROCESS, loadDataset, type ImagePreprocess } from './loadDataset';
import { parseNpy } from './npy';

const fixture = (path: string) => new Uint8Array(readFileSync(new URL(`../../../../test/fixtures/data/${path}`, import.meta.url)));

/** RGBA pixels of a width x height image where pixel i is (i*10, i*10+1, i*10+2). */
function pattern(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([i * 10, i * 10 + 1, i * 10 + 2, 255], i * 4);
  return data;
}
const pngBytes = (width: number, height: number, data: Uint8Array) => {
  const png = new PNG({ width, height });
  png.data = Buffer.from(data);
  return new Uint8Array(PNG.sync.write(png));
};
const identity: ImagePreprocess = { ...DEFAULT_PREPROCESS, scale: [1, 1, 1] };

describe('images through nodeImageDecoder and loadDataset', () => {
  it('a PNG made by pngjs comes back exactly, one sample per image, in natural order', async () => {
    const input: ValueDesc[] = [{ name: 'x', dtype: 'float32', dims: [1, 3, 2, 3] }];
    const files = [
      { name: 'shot10.png', bytes: pngBytes(3, 2, pattern(3, 2)) },
      { name: 'shot9.png', bytes: pngBytes(3, 2, pattern(3, 2).map((v, i) => (i % 4 === 3 ? 255 : 255 - v))) },
    ];
    const dataset = await loadDataset(files, input, identity, nodeImageDecoder);
    expect(dataset.sampleNames).toEqual(['shot9.png', 'shot10.png']);
    // NCHW rgb: R plane 0,10,..,50; G plane 1,11,..; B plane 2,12,..
    expect([...dataset.samples[1].x.data]).toEqual([0, 10, 20, 30, 40, 50, 1, 11, 21, 31, 41, 51, 2, 12, 22, 32, 42, 52]);
    expect(dataset.samples[0].x.data[0]).toBe(255);
  });

  it('a JPEG made by jpeg-js decodes to within JPEG error of its pixels', async () => {
    const width = 16;
    const height = 16;
    const data = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) data.set(i < 128 ? [200, 40, 90, 255] : [30, 160, 220, 255], i * 4);
    const bytes = new Uint8Array(jpeg.encode({ width, height, data }, 100).data);
    const input: ValueDesc[] = [{ name: 'x', dtype: 'float32', dims: [1, 16, 16, 3] }];
    const dataset = await loadDataset([{ name: 'flat.JPG', bytes }], input, { ...identity, layout: 'nhwc' }, nodeImageDecoder);
    const x = dataset.samples[0].x.data as Float32Array;
    expect(x.length).toBe(16 * 16 * 3);
    // away from the edge between the two halves, each pixel keeps its colour to within 3 levels
    for (const [pixel, colour] of [[17, [200, 40, 90]], [230, [30, 160, 220]]] as const) {
      colour.forEach((v, c) => expect(Math.abs(x[pixel * 3 + c] - v)).toBeLessThanOrEqual(3));
    }
  });

  it("equals TPU-MLIR's preprocessing done with cv2: resize_dims 6,8, centre crop to 4x5, bgr, mean/scale", async () => {
    const input: ValueDesc[] = [{ name: 'images', dtype: 'float32', dims: [1, 3, 4, 5] }];
    const preprocess: ImagePreprocess = { resizeDims: [6, 8], inputSize: null, mean: [103.94, 116.78, 123.68], scale: [0.017, 0.017, 0.017], pixelFormat: 'bgr', layout: 'nchw' };
    const dataset = await loadDataset([{ name: 'noise_9x11.png', bytes: fixture('images/noise_9x11.png') }], input, preprocess, nodeImageDecoder);
    const expected = parseNpy(fixture('images/noise_9x11_bgr_6x8_crop4x5.npy'), 'expected.npy');
    expect(dataset.samples[0].images).toEqual(expected);
  });

  it('a damaged image is a FormatError naming the file', async () => {
    const input: ValueDesc[] = [{ name: 'x', dtype: 'float32', dims: [1, 3, 2, 3] }];
    const whole = pngBytes(3, 2, pattern(3, 2));
    const loading = loadDataset([{ name: 'broken.png', bytes: whole.subarray(0, 40) }], input, identity, nodeImageDecoder);
    await expect(loading).rejects.toBeInstanceOf(FormatError);
    await expect(loading).rejects.toThrow(/^broken\.png: cannot decode the image \(damaged\?\): /);
    await expect(loadDataset([{ name: 'text.jpg', bytes: new TextEncoder().encode('hello') }], input, identity, nodeImageDecoder)).rejects.toThrow(
      'text.jpg: is not a PNG, JPEG, BMP or WebP image (its first bytes match none)',
    );
  });

  it('BMP and WebP are refused in Node with a hint to convert them', async () => {
    const input: ValueDesc[] = [{ name: 'x', dtype: 'float32', dims: [1, 3, 2, 3] }];
    // Headers that declare a 3 x 2 image (their size is read before any decoder sees them).
    const bmp = new Uint8Array(26);
    bmp.set([0x42, 0x4d]);
    new DataView(bmp.buffer).setUint32(14, 40, true);
    new DataView(bmp.buffer).setInt32(18, 3, true);
    new DataView(bmp.buffer).setInt32(22, 2, true);
    await expect(loadDataset([{ name: 'a.bmp', bytes: bmp }], input, identity, nodeImageDecoder)).rejects.toThrow(
      new FormatError('a.bmp', 'the CLI cannot decode BMP images; convert them to PNG or JPEG (or load them in the page)'),
    );
    const webp = new Uint8Array(30);
    webp.set([...'RIFF\0\0\0\0WEBPVP8X'].map((c) => c.charCodeAt(0)));
    webp.set([2, 0, 0, 1, 0, 0], 24);
    await expect(loadDataset([{ name: 'b.webp', bytes: webp }], input, identity, nodeImageDecoder)).rejects.toThrow(
      'b.webp: the CLI cannot decode WebP images; convert them to PNG or JPEG (or load them in the page)',
    );
  });
});
