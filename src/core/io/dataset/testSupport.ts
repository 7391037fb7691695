import h5wasm from 'h5wasm';
import type { RgbaImage } from './ImageDecoder';

interface MemoryFs {
  readFile(path: string): Uint8Array;
  unlink(path: string): void;
}

let made = 0;

/** An .h5 file written with h5wasm (in its in-memory file system), as bytes. */
export async function makeH5(build: (file: InstanceType<typeof h5wasm.File>) => void): Promise<Uint8Array> {
  const fs = (await h5wasm.ready).FS as unknown as MemoryFs;
  const path = `/test-${made++}.h5`;
  const file = new h5wasm.File(path, 'w');
  build(file);
  file.close();
  const bytes = fs.readFile(path);
  fs.unlink(path);
  return bytes;
}

/** A grey image: R = G = B = value, alpha 255; rows given top to bottom. */
export function grey(rows: number[][]): RgbaImage {
  const height = rows.length;
  const width = rows[0].length;
  const data = new Uint8ClampedArray(width * height * 4);
  rows.flat().forEach((v, i) => data.set([v, v, v, 255], i * 4));
  return { width, height, data };
}
