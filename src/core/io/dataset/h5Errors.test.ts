import { describe, expect, it } from 'vitest';
import { writeOneH5 } from '../../../../test/support/oneH5';
import { readOneH5 } from './h5';
import { hdf5Error } from './h5Errors';

const input = { name: 'x', dtype: 'float32' as const, dims: [2, 3] };

async function oneH5(): Promise<Uint8Array> {
  const sample = { x: { dtype: 'float32' as const, dims: [2, 3], data: new Float32Array(6) } };
  return writeOneH5([sample, sample], ['x']);
}

describe('HDF5 failures as one line naming the file (issue #12)', () => {
  it('a damaged file: HDF5\'s innermost reason and what to do, not its error stack or "error - name not defined!"', async () => {
    const bytes = await oneH5();
    for (let i = 800; i < 1400; i++) bytes[i] = (i * 37) & 255; // the object headers of /value
    await expect(readOneH5({ name: 'bad.h5', bytes }, [input])).rejects.toThrow(
      /^bad\.h5: HDF5 cannot read the file: it is damaged or truncated \(incorrect metadata checksum after all read attempts\)\. Write it again \(h5py\) and use the new file$/,
    );
  });

  it('a truncated file', async () => {
    const bytes = (await oneH5()).slice(0, 1500);
    await expect(readOneH5({ name: 'cut.h5', bytes }, [input])).rejects.toThrow(/^cut\.h5: HDF5 cannot read the file: it is damaged or truncated \(truncated file: eof = 1500, .*\)\. Write it again \(h5py\) and use the new file$/);
  });

  it('a stack becomes its last entry\'s reason; other text says only that the file is damaged', () => {
    const stack = 'HDF5-DIAG: Error detected in HDF5 (2.0.0):\n  #000: /src/H5L.c line 1175 in H5Lexists(): unable to synchronously check link existence\n    major: Links\n  #001: /src/H5Centry.c line 1228 in H5C__load_entry(): incorrect metadata checksum after all read attempts\n    major: Object cache\n';
    expect((hdf5Error(new Error(stack), 'a.h5') as Error).message).toBe('a.h5: HDF5 cannot read the file: it is damaged or truncated (incorrect metadata checksum after all read attempts). Write it again (h5py) and use the new file');
    expect((hdf5Error(new Error('error - name not defined!'), 'a.h5') as Error).message).toBe('a.h5: HDF5 cannot read the file: it is damaged or truncated. Write it again (h5py) and use the new file');
  });
});
