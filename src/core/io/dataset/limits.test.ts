import { makeH5 } from './testSupport';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { deflateSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../../../cli/nodeImageDecoder';
import type { ValueDesc } from '../../model/ModelGraph';
import { DEFAULT_LIMITS, LimitError, type Limits } from '../limits';
import { declaredSize } from './imageHeader';
import { DEFAULT_PREPROCESS, loadDataset, type DatasetFile, type ImageDecoder } from './loadDataset';
import { formatNpy } from './npy';

/**
 * Issue #12: a small file built to cross each limit is refused fast, with the limit named, and
 * without the work the limit guards: no decoder call, no inflating past the limit, no allocation.
 */

const image: ValueDesc[] = [{ name: 'x', dtype: 'float32', dims: [1, 3, 8, 8] }];
const vector: ValueDesc[] = [{ name: 'x', dtype: 'float32', dims: [1, null] }];

/** A decoder that counts its calls: decoding must never start for a refused image. */
function countingDecoder(): ImageDecoder & { calls: number } {
  const decoder = {
    calls: 0,
    decode: (bytes: Uint8Array, name: string) => {
      decoder.calls++;
      return nodeImageDecoder.decode(bytes, name);
    },
  };
  return decoder;
}

/**
 * Runs `load`, which must fail; returns the error, the time it took and how much ArrayBuffer memory
 * grew (a refused file allocates nothing large; whatever was allocated is still counted, no GC ran).
 */
async function refused(load: () => Promise<unknown>): Promise<{ error: Error; ms: number; grewBytes: number }> {
  const before = process.memoryUsage().arrayBuffers;
  const started = performance.now();
  let error: unknown;
  try {
    await load();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - started;
  const grewBytes = process.memoryUsage().arrayBuffers - before;
  if (!(error instanceof Error)) throw new Error('expected the file to be refused');
  return { error, ms, grewBytes };
}

const MB = 1024 * 1024;

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set([...type].map((c) => c.charCodeAt(0)), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A complete, valid-looking PNG of 68 bytes or so: its header declares width x height, its one IDAT holds a few pixels. */
function tinyPng(width: number, height: number, bitDepth = 8, colourType = 6): Uint8Array {
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([bitDepth, colourType, 0, 0, 0], 8);
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(new Uint8Array(4))), chunk('IEND', new Uint8Array())];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** The first bytes of a baseline JPEG whose SOF0 declares width x height (nothing after it). */
function jpegHeader(width: number, height: number): Uint8Array {
  const app0 = [0xff, 0xe0, 0, 16, ...'JFIF'.split('').map((c) => c.charCodeAt(0)), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const sof = [0xff, 0xc0, 0, 17, 8, height >> 8, height & 255, width >> 8, width & 255, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];
  return new Uint8Array([0xff, 0xd8, ...app0, ...sof, 0xff, 0xd9]);
}

describe('image pixels, from the header, before decoding', () => {
  it('reads the size PNG, JPEG, BMP and WebP headers declare', () => {
    const png = new PNG({ width: 5, height: 3 });
    expect(declaredSize(new Uint8Array(PNG.sync.write(png)))).toEqual({ format: 'png', width: 5, height: 3 });
    const jpg = jpeg.encode({ width: 7, height: 4, data: new Uint8Array(7 * 4 * 4) }, 90).data;
    expect(declaredSize(new Uint8Array(jpg))).toEqual({ format: 'jpeg', width: 7, height: 4 });
    expect(declaredSize(jpegHeader(65535, 65535))).toEqual({ format: 'jpeg', width: 65535, height: 65535 });
    const bmp = new Uint8Array(26);
    bmp.set([0x42, 0x4d]);
    new DataView(bmp.buffer).setUint32(14, 40, true);
    new DataView(bmp.buffer).setInt32(18, 640, true);
    new DataView(bmp.buffer).setInt32(22, -480, true); // top-down rows
    expect(declaredSize(bmp)).toEqual({ format: 'bmp', width: 640, height: 480 });
    const webp = (fourcc: string, payload: number[]) => {
      const b = new Uint8Array(30);
      b.set([...`RIFF\0\0\0\0WEBP${fourcc}`].map((c) => c.charCodeAt(0)));
      b.set(payload, 20);
      return b;
    };
    expect(declaredSize(webp('VP8X', [0, 0, 0, 0, 0x1f, 0x4e, 0, 0x1f, 0x4e, 0]))).toEqual({ format: 'webp', width: 20000, height: 20000 });
    // VP8L: 0x2f, then 14 bits width-1 (99), 14 bits height-1 (49)
    const bits = 99 | (49 << 14);
    expect(declaredSize(webp('VP8L', [0x2f, bits & 255, (bits >> 8) & 255, (bits >> 16) & 255, bits >>> 24]))).toEqual({ format: 'webp', width: 100, height: 50 });
    expect(declaredSize(webp('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00]))).toEqual({ format: 'webp', width: 320, height: 240 });
    expect(declaredSize(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toEqual({ format: 'png', truncated: true });
    expect(declaredSize(new TextEncoder().encode('GIF89a...'))).toBeNull();
  });

  it('a 68-byte PNG declaring 2147483647 x 2147483647 is refused without decoding (it used to abort the process in zlib)', async () => {
    const bytes = tinyPng(2147483647, 2147483647);
    expect(bytes.length).toBeLessThan(80);
    const decoder = countingDecoder();
    const { error, ms, grewBytes } = await refused(() => loadDataset([{ name: 'huge.png', bytes }], image, DEFAULT_PREPROCESS, decoder));
    expect(error).toBeInstanceOf(LimitError);
    expect(error.message).toBe(
      'huge.png: the PNG header declares 2147483647 x 2147483647 pixels (about 4.61e+18), over the limit of 67,108,864 pixels per image; raise it with --max_image_pixels N (CLI) or Data & calibration → Limits → Pixels per image (page)',
    );
    expect(decoder.calls).toBe(0);
    expect(ms).toBeLessThan(10_000); // a sanity bound only (CI machines are noisy): bytes read and memory are the evidence
    expect(grewBytes).toBeLessThan(8 * MB);
  });

  it('a 68-byte PNG declaring 20000 x 20000 (it used to take 10 s and 4.7 GB, then calibrate on invented pixels) and a 1-bit one', async () => {
    for (const [name, bytes] of [['wide.png', tinyPng(20000, 20000)], ['onebit.png', tinyPng(20000, 20000, 1, 0)]] as const) {
      const decoder = countingDecoder();
      const { error, ms, grewBytes } = await refused(() => loadDataset([{ name, bytes }], image, DEFAULT_PREPROCESS, decoder));
      expect(error.message).toMatch(new RegExp(`^${name.replace('.', '\\.')}: the PNG header declares 20000 x 20000 pixels \\(400,000,000\\), over the limit of 67,108,864 pixels per image; raise it with --max_image_pixels N`));
      expect(decoder.calls).toBe(0);
      expect(ms).toBeLessThan(10_000); // a sanity bound only (CI machines are noisy): bytes read and memory are the evidence
      expect(grewBytes).toBeLessThan(8 * MB);
    }
  });

  it('a JPEG whose SOF declares 65535 x 65535 is refused without decoding', async () => {
    const decoder = countingDecoder();
    const { error, ms } = await refused(() => loadDataset([{ name: 'sof.jpg', bytes: jpegHeader(65535, 65535) }], image, DEFAULT_PREPROCESS, decoder));
    expect(error.message).toMatch(/^sof\.jpg: the JPEG header declares 65535 x 65535 pixels \(4,294,836,225\), over the limit of 67,108,864 pixels per image; raise it with --max_image_pixels N \(CLI\)/);
    expect(decoder.calls).toBe(0);
    expect(ms).toBeLessThan(10_000); // a sanity bound only (CI machines are noisy): bytes read and memory are the evidence
  });

  it('the limit is the caller\'s: a real 8 x 8 PNG passes at 64 pixels and is refused at 63', async () => {
    const png = new PNG({ width: 8, height: 8 });
    const bytes = new Uint8Array(PNG.sync.write(png));
    const at = (imagePixels: number) => loadDataset([{ name: 'eight.png', bytes }], image, DEFAULT_PREPROCESS, nodeImageDecoder, { ...DEFAULT_LIMITS, imagePixels });
    expect((await at(64)).samples).toHaveLength(1);
    await expect(at(63)).rejects.toThrow('eight.png: the PNG header declares 8 x 8 pixels (64), over the limit of 63 pixels per image');
  });

  it('an image whose size cannot be read from its header is not decoded', async () => {
    const decoder = countingDecoder();
    await expect(loadDataset([{ name: 'anim.png', bytes: new TextEncoder().encode('GIF89a\x10\x00\x10\x00') }], image, DEFAULT_PREPROCESS, decoder)).rejects.toThrow(
      'anim.png: is not a PNG, JPEG, BMP or WebP image (its first bytes match none)',
    );
    await expect(loadDataset([{ name: 'cut.png', bytes: tinyPng(4, 4).subarray(0, 20) }], image, DEFAULT_PREPROCESS, decoder)).rejects.toThrow(
      'cut.png: the PNG header ends before the image size (truncated?)',
    );
    expect(decoder.calls).toBe(0);
  });
});

describe('input size', () => {
  const dynamic: ValueDesc[] = [{ name: 'x', dtype: 'float32', dims: [1, 3, null, null] }];
  const png = tinyPng(4, 4);

  it('an input size or resize dims over the side limit, or a model input whose tensor is over the array limit, is refused before any image is decoded', async () => {
    const decoder = countingDecoder();
    const load = (inputs: ValueDesc[], preprocess = DEFAULT_PREPROCESS) => loadDataset([{ name: 'a.png', bytes: png }], inputs, preprocess, decoder);
    await expect(load(dynamic, { ...DEFAULT_PREPROCESS, inputSize: [99999, 99999] })).rejects.toThrow(
      'a.png: the input size 99999 x 99999 has a side (99,999), over the limit of 8,192 pixels per side; raise it with --max_input_side N (CLI) or Data & calibration → Limits → Input side (page)',
    );
    await expect(load(dynamic, { ...DEFAULT_PREPROCESS, inputSize: [224, 224], resizeDims: [256, 90000] })).rejects.toThrow(
      'a.png: the resize dims 256 x 90000 has a side (90,000), over the limit of 8,192 pixels per side',
    );
    await expect(load([{ name: 'x', dtype: 'float32', dims: [50000, 3, 1024, 1024] }])).rejects.toThrow(
      /^a\.png: input "x" takes float32 \[50000, 3, 1024, 1024\] \(629,145,600,000 \(586 GiB\)\), over the limit of 1,073,741,824 \(1 GiB\) bytes per array; raise it with --max_tensor_bytes N/,
    );
    expect(decoder.calls).toBe(0);
  });
});

describe('declared array sizes: .npy', () => {
  /** A .npy of a few hundred bytes whose header declares `shape` of float32. */
  const npyDeclaring = (shape: string) => {
    const small = formatNpy({ dtype: 'float32', dims: [1], data: new Float32Array(1) });
    const text = new TextDecoder('latin1').decode(small).replace('(1,)', shape);
    return new Uint8Array([...text].map((c) => c.charCodeAt(0)));
  };

  it('a header declaring 100000 x 100000 x 100 floats is refused before anything is allocated', async () => {
    const bytes = npyDeclaring('(100000, 100000, 100)');
    const { error, ms, grewBytes } = await refused(() => loadDataset([{ name: 'huge.npy', bytes }], vector, DEFAULT_PREPROCESS, countingDecoder()));
    expect(error).toBeInstanceOf(LimitError);
    expect(error.message).toBe(
      "huge.npy: the header declares shape [100000, 100000, 100] of '<f4' (4,000,000,000,000 (3730 GiB)), over the limit of 1,073,741,824 (1 GiB) bytes per array; raise it with --max_tensor_bytes N (CLI) or Data & calibration → Limits → Array bytes (page)",
    );
    expect(ms).toBeLessThan(10_000); // a sanity bound only (CI machines are noisy): bytes read and memory are the evidence
    expect(grewBytes).toBeLessThan(MB);
  });

  it('a lower limit refuses a real file; the limit passes one of exactly its size', async () => {
    const bytes = formatNpy({ dtype: 'float32', dims: [4, 256], data: new Float32Array(1024) });
    const at = (tensorBytes: number) => loadDataset([{ name: 'a.npy', bytes }], vector, DEFAULT_PREPROCESS, countingDecoder(), { ...DEFAULT_LIMITS, tensorBytes });
    expect((await at(4096)).samples).toHaveLength(4);
    await expect(at(4095)).rejects.toThrow("a.npy: the header declares shape [4, 256] of '<f4' (4,096 (4 KiB)), over the limit of 4,095 (4 KiB) bytes per array");
  });
});

describe('decompressed archive size: .npz inflates as a stream that stops at the limit', () => {
  /** An .npz whose one entry is a .npy of `bytes` zeros (uint8): 64 MiB compress to about 64 KB. */
  const zeroBomb = (bytes: number) => zipSync({ 'x.npy': formatNpy({ dtype: 'uint8', dims: [bytes], data: new Uint8Array(bytes) }) }, { level: 9 });
  const bomb = zeroBomb(64 * MB);
  const bytesInput: ValueDesc[] = [{ name: 'x', dtype: 'uint8', dims: [null] }];
  const small: Limits = { ...DEFAULT_LIMITS, archiveBytes: 8 * MB };

  /** The same archive with both of its headers declaring an inflated size of 100 bytes: only counting the inflated bytes catches it. */
  function lyingSizes(zip: Uint8Array): Uint8Array {
    const out = zip.slice();
    const view = new DataView(out.buffer);
    for (let at = 0; at + 4 <= out.length; at++) {
      const signature = view.getUint32(at, true);
      if (signature === 0x04034b50) view.setUint32(at + 22, 100, true); // local header: uncompressed size
      if (signature === 0x02014b50) view.setUint32(at + 24, 100, true); // central directory: uncompressed size
    }
    return out;
  }

  it('an archive whose entries declare more than the limit is refused before inflating', async () => {
    expect(bomb.length).toBeLessThan(MB);
    const { error, ms, grewBytes } = await refused(() => loadDataset([{ name: 'bomb.npz', bytes: bomb }], bytesInput, DEFAULT_PREPROCESS, countingDecoder(), small));
    expect(error).toBeInstanceOf(LimitError);
    expect(error.message).toBe(
      'bomb.npz: its entries declare an inflated size (67,108,992 (64 MiB)), over the limit of 8,388,608 (8 MiB) bytes inflated per archive; raise it with --max_archive_bytes N (CLI) or Data & calibration → Limits → Archive bytes (page)',
    );
    expect(ms).toBeLessThan(10_000); // a sanity bound only (CI machines are noisy): bytes read and memory are the evidence
    expect(grewBytes).toBeLessThan(4 * MB);
  });

  it('an archive that declares 100 bytes and whose .npy header declares 64 MiB is refused once that header is out', async () => {
    const { error, ms, grewBytes } = await refused(() => loadDataset([{ name: 'liar.npz', bytes: lyingSizes(bomb) }], bytesInput, DEFAULT_PREPROCESS, countingDecoder(), small));
    expect(error).toBeInstanceOf(LimitError);
    expect(error.message).toBe('liar.npz: the .npy header of entry "x.npy" declares a size (67,108,992 (64 MiB)), over the limit of 8,388,608 (8 MiB) bytes inflated per archive; raise it with --max_archive_bytes N (CLI) or Data & calibration → Limits → Archive bytes (page)');
    expect(ms).toBeLessThan(10_000); // a sanity bound only (CI machines are noisy): bytes read and memory are the evidence
    expect(grewBytes).toBeLessThan(20 * MB);
  });

  it('an archive that declares 100 bytes and inflates to 64 MiB past a small array stops near the limit, not at 64 MiB', async () => {
    // np.load ignores bytes after the array: only counting what inflates catches a trailing bomb.
    const small100 = formatNpy({ dtype: 'uint8', dims: [100], data: new Uint8Array(100) });
    const trailing = new Uint8Array(small100.length + 64 * MB);
    trailing.set(small100);
    const zip = lyingSizes(zipSync({ 'x.npy': trailing }, { level: 9 }));
    const { error, ms, grewBytes } = await refused(() => loadDataset([{ name: 'tail.npz', bytes: zip }], bytesInput, DEFAULT_PREPROCESS, countingDecoder(), small));
    expect(error).toBeInstanceOf(LimitError);
    expect(error.message).toMatch(/^tail\.npz: its entries inflate to more than they declare \([\d,]+ \([\d.]+ MiB\)\), over the limit of 8,388,608 \(8 MiB\) bytes inflated per archive; raise it with --max_archive_bytes N/);
    const inflated = Number(/declare \(([\d,]+)/.exec(error.message)![1].replaceAll(',', ''));
    expect(inflated).toBeLessThan(8 * MB + 5 * MB); // at most one step (4 KB compressed) past the limit
    expect(ms).toBeLessThan(10_000); // a sanity bound only (CI machines are noisy): bytes read and memory are the evidence
    expect(grewBytes).toBeLessThan(40 * MB);
  });

  it('an entry whose .npy header declares an array over the limit stops as soon as its header is out', async () => {
    const limits: Limits = { ...DEFAULT_LIMITS, tensorBytes: MB };
    const { error, ms, grewBytes } = await refused(() => loadDataset([{ name: 'big.npz', bytes: bomb }], bytesInput, DEFAULT_PREPROCESS, countingDecoder(), limits));
    expect(error.message).toBe("big.npz/x.npy: the header declares shape [67108864] of '|u1' (67,108,864 (64 MiB)), over the limit of 1,048,576 (1 MiB) bytes per array; raise it with --max_tensor_bytes N (CLI) or Data & calibration → Limits → Array bytes (page)");
    expect(ms).toBeLessThan(10_000); // a sanity bound only (CI machines are noisy): bytes read and memory are the evidence
    expect(grewBytes).toBeLessThan(40 * MB);
  });

  it('within the limits the archive reads as before', async () => {
    const dataset = await loadDataset([{ name: 'ok.npz', bytes: zeroBomb(1000) }], bytesInput, DEFAULT_PREPROCESS, countingDecoder(), small);
    expect(dataset.samples[0].x.dims).toEqual([1000]);
  });
});

describe('declared sizes and sample counts: .h5', () => {
  it('a few-KB file whose dataset declares 3.2 GB is refused from its metadata, before h5wasm reads it', async () => {
    const bytes = await makeH5((file) => {
      const sample = file.create_group('value').create_group('0');
      // Chunked and never written: HDF5 stores no data for it, whatever its shape says.
      const dataset = sample.create_dataset({ name: '0', data: new Float32Array(1), shape: [1], maxshape: [null], chunks: [1024] });
      dataset.resize([800_000_000]);
    });
    expect(bytes.length).toBeLessThan(64 * 1024);
    const { error, ms, grewBytes } = await refused(() => loadDataset([{ name: 'big.h5', bytes }], vector, DEFAULT_PREPROCESS, countingDecoder()));
    expect(error).toBeInstanceOf(LimitError);
    expect(error.message).toBe(
      'big.h5: /value/0/0 declares shape [800000000] of 4-byte elements (3,200,000,000 (2.98 GiB)), over the limit of 1,073,741,824 (1 GiB) bytes per array; raise it with --max_tensor_bytes N (CLI) or Data & calibration → Limits → Array bytes (page)',
    );
    expect(ms).toBeLessThan(10_000); // a sanity bound only (CI machines are noisy): bytes read and memory are the evidence
    expect(grewBytes).toBeLessThan(16 * MB);
  });

  it('more samples than the limit are refused before the first is read', async () => {
    const bytes = await makeH5((file) => {
      const value = file.create_group('value');
      for (let s = 0; s < 5; s++) value.create_group(String(s)).create_dataset({ name: '0', data: new Float32Array([s]), shape: [1, 1] });
    });
    const limits: Limits = { ...DEFAULT_LIMITS, samples: 4 };
    await expect(loadDataset([{ name: 'five.h5', bytes }], vector, DEFAULT_PREPROCESS, countingDecoder(), limits)).rejects.toThrow(
      'five.h5: holds 5 samples (5), over the limit of 4 samples per dataset; raise it with --max_dataset_samples N (CLI) or Data & calibration → Limits → Samples (page)',
    );
  });
});

describe('sample count', () => {
  it('a .npy batch of more rows than the limit is refused before the rows are cut out, counting the files before it', async () => {
    const rows = (n: number) => formatNpy({ dtype: 'float32', dims: [n, 2], data: new Float32Array(n * 2) });
    const limits: Limits = { ...DEFAULT_LIMITS, samples: 1000 };
    const files: DatasetFile[] = [{ name: 'a.npy', bytes: rows(600) }, { name: 'b.npy', bytes: rows(600) }];
    await expect(loadDataset(files, vector, DEFAULT_PREPROCESS, countingDecoder(), limits)).rejects.toThrow(
      'b.npy: holds 600 samples, which bring the dataset to 1,200 (1,200), over the limit of 1,000 samples per dataset; raise it with --max_dataset_samples N',
    );
    // 200,000 rows of one float: 800 KB of data, refused at the default limit in well under a second.
    const { error, ms } = await refused(() => loadDataset([{ name: 'many.npy', bytes: rows(200_000) }], vector, DEFAULT_PREPROCESS, countingDecoder()));
    expect(error.message).toMatch(/^many\.npy: holds 200,000 samples \(200,000\), over the limit of 100,000 samples per dataset/);
    expect(ms).toBeLessThan(10_000); // a sanity bound only (CI machines are noisy): bytes read and memory are the evidence
  });

  it('more image files than the limit are refused before the first is decoded', async () => {
    const decoder = countingDecoder();
    const files = Array.from({ length: 3 }, (_, i) => ({ name: `img${i}.png`, bytes: tinyPng(8, 8) }));
    await expect(loadDataset(files, image, DEFAULT_PREPROCESS, decoder, { ...DEFAULT_LIMITS, samples: 2 })).rejects.toThrow(
      'img0.png: the data holds 3 images, one sample each (3), over the limit of 2 samples per dataset',
    );
    expect(decoder.calls).toBe(0);
  });
});
