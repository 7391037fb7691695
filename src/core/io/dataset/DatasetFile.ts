/**
 * A calibration file as the user gave it: its name and its bytes, or (in a Web Worker, for .h5) the
 * dropped file itself, which h5wasm mounts and reads in place instead of copying it into memory.
 * `blob` is any Blob-like object (a File in the page); core only asks it for its bytes.
 */
export type DatasetFile =
  | { readonly name: string; readonly bytes: Uint8Array }
  | { readonly name: string; readonly blob: BlobLike };

/** What core needs of a Blob or File (core is DOM-free): its size, its bytes, a part of it, its name if it is a File. */
export interface BlobLike {
  readonly size: number;
  readonly name?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
  slice(start?: number, end?: number): BlobLike;
}

/** The bytes of a file given either way. */
export async function datasetFileBytes(file: DatasetFile): Promise<Uint8Array> {
  return 'bytes' in file ? file.bytes : new Uint8Array(await file.blob.arrayBuffer());
}
