import { readFileSync } from 'node:fs';
import { makeH5 } from './testSupport';
import { describe, expect, it } from 'vitest';
import { DataError, FormatError } from '../../errors';
import type { ValueDesc } from '../../model/ModelGraph';
import { DEFAULT_PREPROCESS, loadDataset, type ImageDecoder } from './loadDataset';

const noImages: ImageDecoder = {
  decode: () => Promise.reject(new Error('no images in these tests')),
};


const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../../../test/fixtures/data/one/${name}`, import.meta.url)));

const twoInputs: ValueDesc[] = [
  { name: 'a', dtype: 'float32', dims: [1, 2] },
  { name: 'b', dtype: 'int64', dims: [1, 3] },
];

describe('Samsung ONE .h5 through loadDataset', () => {
  it('reads /value/<sample>/<input> for a two-input model, three samples', async () => {
    const bytes = await makeH5((file) => {
      const value = file.create_group('value');
      for (const s of [2, 0, 1]) {
        const sample = value.create_group(String(s));
        sample.create_dataset({ name: '0', data: new Float32Array([s, s + 0.5]), shape: [1, 2] });
        sample.create_dataset({ name: '1', data: new BigInt64Array([BigInt(s), 10n, -1n]), shape: [1, 3] });
      }
    });
    const dataset = await loadDataset([{ name: 'data.h5', bytes }], twoInputs, DEFAULT_PREPROCESS, noImages);
    expect(dataset.sampleNames).toEqual(['data.h5 /value/0', 'data.h5 /value/1', 'data.h5 /value/2']);
    expect(dataset.samples[2]).toEqual({
      a: { dtype: 'float32', dims: [1, 2], data: new Float32Array([2, 2.5]) },
      b: { dtype: 'int64', dims: [1, 3], data: new BigInt64Array([2n, 10n, -1n]) },
    });
  });

  it('orders samples by number: /value/10 after /value/9', async () => {
    const inputs: ValueDesc[] = [{ name: 'x', dtype: 'int32', dims: [1] }];
    const bytes = await makeH5((file) => {
      const value = file.create_group('value');
      for (let s = 0; s < 11; s++) value.create_group(String(s)).create_dataset({ name: '0', data: new Int32Array([s]) });
    });
    const dataset = await loadDataset([{ name: 'd.hdf5', bytes }], inputs, DEFAULT_PREPROCESS, noImages);
    expect(dataset.samples.map((s) => s.x.data[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('with rawData on /value, reinterprets each dataset as the input dtype and shape', async () => {
    const inputs: ValueDesc[] = [
      { name: 'ids', dtype: 'int32', dims: [1, 2] },
      { name: 'x', dtype: 'float32', dims: [2] },
    ];
    const bytes = await makeH5((file) => {
      const value = file.create_group('value');
      value.create_attribute('rawData', '1');
      for (let s = 0; s < 3; s++) {
        const sample = value.create_group(String(s));
        sample.create_dataset({ name: '0', data: new Uint8Array(new Int32Array([s, -7]).buffer) });
        sample.create_dataset({ name: '1', data: new Uint8Array(new Float32Array([s / 2, 1e-3]).buffer) });
      }
    });
    const dataset = await loadDataset([{ name: 'raw.h5', bytes }], inputs, DEFAULT_PREPROCESS, noImages);
    expect(dataset.samples).toHaveLength(3);
    expect(dataset.samples[1]).toEqual({
      ids: { dtype: 'int32', dims: [1, 2], data: new Int32Array([1, -7]) },
      x: { dtype: 'float32', dims: [2], data: new Float32Array([0.5, 1e-3]) },
    });
  });

  it('raw data of the wrong size is a DataError with both sizes', async () => {
    const inputs: ValueDesc[] = [{ name: 'ids', dtype: 'int32', dims: [1, 2] }];
    const bytes = await makeH5((file) => {
      const value = file.create_group('value');
      value.create_attribute('rawData', '1');
      value.create_group('0').create_dataset({ name: '0', data: new Uint8Array(12) });
    });
    await expect(loadDataset([{ name: 'raw.h5', bytes }], inputs, DEFAULT_PREPROCESS, noImages)).rejects.toThrow(
      new DataError('/value/0/0 holds 12 raw bytes but input "ids" (int32 [1, 2]) needs 8', 'raw.h5'),
    );
  });

  it('a missing input is a DataError naming the sample and the input', async () => {
    const bytes = await makeH5((file) => {
      const value = file.create_group('value');
      const first = value.create_group('0');
      first.create_dataset({ name: '0', data: new Float32Array([1, 2]), shape: [1, 2] });
      first.create_dataset({ name: '1', data: new BigInt64Array([1n, 2n, 3n]), shape: [1, 3] });
      value.create_group('1').create_dataset({ name: '0', data: new Float32Array([1, 2]), shape: [1, 2] });
    });
    const loading = loadDataset([{ name: 'data.h5', bytes }], twoInputs, DEFAULT_PREPROCESS, noImages);
    await expect(loading).rejects.toBeInstanceOf(DataError);
    await expect(loading).rejects.toThrow('data.h5: sample /value/1 has no dataset "1" for input "b"');
  });

  it('a dataset of the wrong shape is reported with the sample index and input', async () => {
    const bytes = await makeH5((file) => {
      const sample = file.create_group('value').create_group('0');
      sample.create_dataset({ name: '0', data: new Float32Array([1, 2]) });
      sample.create_dataset({ name: '1', data: new BigInt64Array([1n, 2n, 3n]), shape: [1, 3] });
    });
    await expect(loadDataset([{ name: 'data.h5', bytes }], twoInputs, DEFAULT_PREPROCESS, noImages)).rejects.toThrow(
      'sample 0 (data.h5 /value/0): input "a" expects shape [1, 2] but the data has shape [2]',
    );
  });

  it('reads what h5py writes: bool as an enum, and the desc attribute in the sample name', async () => {
    const inputs: ValueDesc[] = [
      { name: 'x', dtype: 'float32', dims: [1, 2] },
      { name: 'flag', dtype: 'bool', dims: [1, 2] },
    ];
    const dataset = await loadDataset([{ name: 'bool_and_float.h5', bytes: fixture('bool_and_float.h5') }], inputs, DEFAULT_PREPROCESS, noImages);
    expect(dataset.sampleNames).toEqual(['bool_and_float.h5 /value/0 (sample0.raw)', 'bool_and_float.h5 /value/1 (sample1.raw)']);
    expect(dataset.samples[1]).toEqual({
      x: { dtype: 'float32', dims: [1, 2], data: new Float32Array([1, 1.5]) },
      flag: { dtype: 'bool', dims: [1, 2], data: new Uint8Array([1, 1]) },
    });
    expect(dataset.samples[0].flag.data).toEqual(new Uint8Array([1, 0]));
  });

  it("reads ONE's rawdata2hdf5 layout written by h5py (rawData = '1', bytes as uint8)", async () => {
    const inputs: ValueDesc[] = [{ name: 'x', dtype: 'int32', dims: [1, 3] }];
    const dataset = await loadDataset([{ name: 'raw_int32.h5', bytes: fixture('raw_int32.h5') }], inputs, DEFAULT_PREPROCESS, noImages);
    expect(dataset.samples.map((s) => [...s.x.data])).toEqual([
      [0, 0, 7],
      [1, -1, 7],
    ]);
  });

  it('a file that is not HDF5, or has no /value group, is a FormatError', async () => {
    await expect(loadDataset([{ name: 'x.h5', bytes: new TextEncoder().encode('not hdf5 at all') }], twoInputs, DEFAULT_PREPROCESS, noImages)).rejects.toThrow(
      new FormatError('x.h5', 'not an HDF5 file (no HDF5 signature)'),
    );
    const bytes = await makeH5((file) => {
      file.create_group('data');
    });
    await expect(loadDataset([{ name: 'y.h5', bytes }], twoInputs, DEFAULT_PREPROCESS, noImages)).rejects.toThrow(
      "y.h5: has no group /value: qbench reads Samsung ONE's layout, /value/<sample>/<input> with indices 0, 1, 2...",
    );
  });
});
