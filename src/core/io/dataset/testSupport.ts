import h5wasm from 'h5wasm';

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
