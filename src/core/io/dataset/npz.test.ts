import { readFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { ValueDesc } from '../../model/ModelGraph';
import type { Tensor } from '../../model/tensor';
import { DEFAULT_PREPROCESS, loadDataset, type ImageDecoder } from './loadDataset';
import { formatNpy } from './npy';

const noImages: ImageDecoder = { decode: () => Promise.reject(new Error('no images in these tests')) };
const f32 = (dims: number[], values: number[]): Tensor => ({ dtype: 'float32', dims, data: new Float32Array(values) });
const i64 = (dims: number[], values: number[]): Tensor => ({ dtype: 'int64', dims, data: BigInt64Array.from(values, BigInt) });

const inputs: ValueDesc[] = [
  { name: 'image', dtype: 'float32', dims: [1, 2] },
  { name: 'ids', dtype: 'int64', dims: [1, 3] },
];
const load = (name: string, bytes: Uint8Array, model = inputs) => loadDataset([{ name, bytes }], model, DEFAULT_PREPROCESS, noImages);

describe('.npz through loadDataset', () => {
  it('one sample, entries named after the inputs (stored, not compressed)', async () => {
    const bytes = zipSync({ 'image.npy': formatNpy(f32([1, 2], [0.5, 1])), 'ids.npy': formatNpy(i64([1, 3], [1, 2, 3])) }, { level: 0 });
    const dataset = await load('one.npz', bytes);
    expect(dataset.sampleNames).toEqual(['one.npz']);
    expect(dataset.samples).toEqual([{ image: f32([1, 2], [0.5, 1]), ids: i64([1, 3], [1, 2, 3]) }]);
  });

  it('a batch of 3 along axis 0 (deflated) splits into 3 samples, the same way for every entry', async () => {
    const bytes = zipSync({ 'image.npy': formatNpy(f32([3, 2], [0, 1, 2, 3, 4, 5])), 'ids.npy': formatNpy(i64([3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])) }, { level: 6 });
    const dataset = await load('batch.npz', bytes);
    expect(dataset.sampleNames).toEqual(['batch.npz row 0', 'batch.npz row 1', 'batch.npz row 2']);
    expect(dataset.samples[2]).toEqual({ image: f32([1, 2], [4, 5]), ids: i64([1, 3], [7, 8, 9]) });
  });

  it('entries arr_0, arr_1 (np.savez without names) feed the inputs in order', async () => {
    const bytes = zipSync({ 'arr_0.npy': formatNpy(f32([2], [7, 8])), 'arr_1.npy': formatNpy(i64([3], [4, 5, 6])) });
    const dataset = await load('positional.npz', bytes);
    // without the batch dim: batch 1 added
    expect(dataset.samples).toEqual([{ image: f32([1, 2], [7, 8]), ids: i64([1, 3], [4, 5, 6]) }]);
  });

  it('reads what np.savez_compressed writes, converting int64 ids to an int32 input where they fit', async () => {
    const bytes = new Uint8Array(readFileSync(new URL('../../../../test/fixtures/data/numpy/two_inputs.npz', import.meta.url)));
    const model: ValueDesc[] = [
      { name: 'ids', dtype: 'int32', dims: [1, null] },
      { name: 'mask', dtype: 'float32', dims: [1, null] },
    ];
    const dataset = await load('two_inputs.npz', bytes, model);
    expect(dataset.samples).toEqual([{ ids: { dtype: 'int32', dims: [1, 3], data: new Int32Array([1, 2, 3]) }, mask: f32([1, 3], [1, 1, 0]) }]);
  });

  it('a missing entry, an extra entry, or entries that disagree on the sample count are DataErrors', async () => {
    const image = formatNpy(f32([1, 2], [0, 1]));
    await expect(load('a.npz', zipSync({ 'image.npy': image }))).rejects.toThrow(
      'a.npz: has no entry for input "ids" (entries: image); name each entry after its input (image, ids) or arr_0, arr_1... in input order',
    );
    await expect(load('b.npz', zipSync({ 'image.npy': image, 'ids.npy': formatNpy(i64([1, 3], [1, 2, 3])), 'labels.npy': image }))).rejects.toThrow(
      'b.npz: entry "labels" matches no model input (inputs: image, ids)',
    );
    await expect(load('c.npz', zipSync({ 'image.npy': formatNpy(f32([2, 2], [0, 1, 2, 3])), 'ids.npy': formatNpy(i64([3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9])) }))).rejects.toThrow(
      `c.npz: the inputs' arrays disagree on the number of samples: "image" [2, 2] holds 2, "ids" [3, 3] holds 3`,
    );
  });

  it('a damaged archive is a FormatError naming the file', async () => {
    await expect(load('bad.npz', new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]))).rejects.toThrow(/^bad\.npz: not a readable \.npz \(zip\) archive: /);
  });
});
