import h5wasm from 'h5wasm';
import type { TensorMap } from '../../src/core/model/tensor';

interface MemoryFs {
  readFile(path: string): Uint8Array;
  unlink(path: string): void;
}

let made = 0;

/** Samples in Samsung ONE's calibration layout, /value/<sample>/<input index>, as .h5 bytes. */
export async function writeOneH5(samples: readonly TensorMap[], inputNames: readonly string[]): Promise<Uint8Array> {
  const fs = (await h5wasm.ready).FS as unknown as MemoryFs;
  const path = `/one-h5-${made++}.h5`;
  const file = new h5wasm.File(path, 'w');
  const value = file.create_group('value');
  samples.forEach((sample, s) => {
    const group = value.create_group(String(s));
    inputNames.forEach((name, i) => {
      const t = sample[name];
      group.create_dataset({ name: String(i), data: t.data as Float32Array, shape: [...t.dims] });
    });
  });
  file.close();
  const bytes = fs.readFile(path);
  fs.unlink(path);
  return bytes;
}
