import { describe, expect, it } from 'vitest';
import { DataError, FormatError } from '../../errors';
import type { ValueDesc } from '../../model/ModelGraph';
import type { Tensor } from '../../model/tensor';
import { DEFAULT_PREPROCESS, datasetFileKind, loadDataset, type DatasetFile, type ImageDecoder } from './loadDataset';
import { formatNpy } from './npy';

const noImages: ImageDecoder = { decode: () => Promise.reject(new Error('no images in these tests')) };
const f32 = (dims: number[], values: number[]): Tensor => ({ dtype: 'float32', dims, data: new Float32Array(values) });
const npy = (name: string, tensor: Tensor): DatasetFile => ({ name, bytes: formatNpy(tensor) });
const load = (files: DatasetFile[], inputs: ValueDesc[]) => loadDataset(files, inputs, DEFAULT_PREPROCESS, noImages);

const x: ValueDesc[] = [{ name: 'x', dtype: 'float32', dims: [1, 3, 2, 2] }];
const twelve = (start: number) => Array.from({ length: 12 }, (_, i) => start + i);

describe('loadDataset with .npy files', () => {
  it('takes the input shape, the shape without batch, or a batch along axis 0', async () => {
    const dataset = await load(
      [npy('a.npy', f32([1, 3, 2, 2], twelve(0))), npy('b.npy', f32([3, 2, 2], twelve(100))), npy('c.npy', f32([2, 3, 2, 2], [...twelve(200), ...twelve(300)]))],
      x,
    );
    expect(dataset.sampleNames).toEqual(['a.npy', 'b.npy', 'c.npy row 0', 'c.npy row 1']);
    expect(dataset.samples.map((s) => [s.x.dims, s.x.data[0]])).toEqual([
      [[1, 3, 2, 2], 0],
      [[1, 3, 2, 2], 100],
      [[1, 3, 2, 2], 200],
      [[1, 3, 2, 2], 300],
    ]);
  });

  it('a dynamic dim matches any size; a dynamic batch splits into samples of batch 1', async () => {
    const dynamic: ValueDesc[] = [{ name: 'x', dtype: 'float32', dims: [null, 3, null, null] }];
    const dataset = await load([npy('a.npy', f32([2, 3, 1, 2], twelve(0)))], dynamic);
    expect(dataset.samples.map((s) => s.x)).toEqual([f32([1, 3, 1, 2], twelve(0).slice(0, 6)), f32([1, 3, 1, 2], twelve(0).slice(6))]);
  });

  it('files are read in natural name order, so sample indices are stable', async () => {
    const names = ['img10.npy', 'img2.npy', 'IMG1.NPY', 'img1.npy'];
    const dataset = await load(names.map((name, i) => npy(name, f32([1, 3, 2, 2], twelve(i)))), x);
    expect(dataset.sampleNames).toEqual(['IMG1.NPY', 'img1.npy', 'img2.npy', 'img10.npy']);
  });

  it('converts to the input dtype where every value is exact, and float64 to float32', async () => {
    const ints: ValueDesc[] = [{ name: 'ids', dtype: 'int64', dims: [1, 3] }];
    const fromInt32 = await load([npy('ids.npy', { dtype: 'int32', dims: [1, 3], data: new Int32Array([1, -2, 3]) })], ints);
    expect(fromInt32.samples[0].ids).toEqual({ dtype: 'int64', dims: [1, 3], data: new BigInt64Array([1n, -2n, 3n]) });
    const fromFloat64 = await load([npy('x.npy', { dtype: 'float64', dims: [3, 2, 2], data: new Float64Array(twelve(0).map((v) => v / 3)) })], x);
    expect(fromFloat64.samples[0].x.data).toEqual(Float32Array.from(twelve(0), (v) => v / 3));
  });
});

describe('loadDataset mismatches: the whole message', () => {
  it('no files', async () => {
    await expect(load([], x)).rejects.toThrow(new DataError('no calibration files'));
  });

  it('an unknown extension', async () => {
    const loading = load([npy('a.npy', f32([1, 3, 2, 2], twelve(0))), { name: 'notes.txt', bytes: new Uint8Array(3) }], x);
    await expect(loading).rejects.toBeInstanceOf(FormatError);
    await expect(loading).rejects.toThrow(
      'notes.txt: is not a kind of calibration data qbench reads (.npy, .npz, .h5/.hdf5 in Samsung ONE layout, or images: .jpg, .jpeg, .png, .bmp, .webp)',
    );
  });

  it('a wrong shape', async () => {
    await expect(load([npy('a.npy', f32([1, 3, 2, 2], twelve(0))), npy('b.npy', f32([2, 6], twelve(0)))], x)).rejects.toThrow(
      'b.npy: input "x" expects shape [1, 3, 2, 2] but the data has shape [2, 6] (accepted: [1, 3, 2, 2] or [3, 2, 2] for one sample, [N, 3, 2, 2] or [N, 1, 3, 2, 2] for N samples)',
    );
    const noBatch: ValueDesc[] = [{ name: 'v', dtype: 'float32', dims: [4] }];
    await expect(load([npy('v.npy', f32([3], [1, 2, 3]))], noBatch)).rejects.toThrow(
      'v.npy: input "v" expects shape [4] but the data has shape [3] (accepted: [4] for one sample, [N, 4] for N samples)',
    );
  });

  it('a wrong dtype, with the sample, row and element', async () => {
    const ints: ValueDesc[] = [{ name: 'ids', dtype: 'int32', dims: [1, 2] }];
    await expect(load([npy('ids.npy', f32([3, 2], [1, 2, 3, 4, 5.5, 6]))], ints)).rejects.toThrow(
      'sample 2 (ids.npy row 2): input "ids" expects int32 but the data is float32; element 0 (5.5) has no exact int32 value',
    );
    const half: ValueDesc[] = [{ name: 'x', dtype: 'float16', dims: [1, 3, 2, 2] }];
    await expect(load([npy('a.npy', f32([1, 3, 2, 2], twelve(0)))], half)).rejects.toThrow(
      'sample 0 (a.npy): input "x" expects float16 but the data is float32; qbench does not round data to float16; save it as float16',
    );
  });

  it('NaN', async () => {
    const values = twelve(0);
    values[5] = Number.NaN;
    await expect(load([npy('a.npy', f32([1, 3, 2, 2], twelve(0))), npy('b.npy', f32([3, 2, 2], values))], x)).rejects.toThrow(
      'sample 1 (b.npy): input "x" holds NaN at element 5',
    );
  });

  it('a .npy for a model with two inputs', async () => {
    const two: ValueDesc[] = [
      { name: 'a', dtype: 'float32', dims: [1, 2] },
      { name: 'b', dtype: 'float32', dims: [1, 2] },
    ];
    await expect(load([npy('a.npy', f32([1, 2], [1, 2]))], two)).rejects.toThrow(
      'a.npy: a .npy file holds one array, but the model has 2 inputs (a, b); use an .npz file with one entry per input name',
    );
  });

  it('images for a model with two inputs', async () => {
    const two: ValueDesc[] = [
      { name: 'a', dtype: 'float32', dims: [1, 3, 2, 2] },
      { name: 'b', dtype: 'float32', dims: [1, 2] },
    ];
    await expect(load([{ name: 'cat.jpg', bytes: new Uint8Array(4) }], two)).rejects.toThrow(
      new DataError('images can feed a model with one image input; model has inputs a, b'),
    );
  });
});

describe('datasetFileKind', () => {
  it('goes by extension, any case', () => {
    expect(['a.NPY', 'b.npz', 'c.h5', 'd.HDF5', 'e.JPeG', 'f.png', 'g.bmp', 'h.webp', 'i.jpg'].map(datasetFileKind)).toEqual([
      'npy', 'npz', 'h5', 'h5', 'image', 'image', 'image', 'image', 'image',
    ]);
    expect(() => datasetFileKind('README')).toThrow(FormatError);
  });
});
