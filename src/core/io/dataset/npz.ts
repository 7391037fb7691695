import { unzipSync } from 'fflate';
import { DataError, FormatError } from '../../errors';
import type { ValueDesc } from '../../model/ModelGraph';
import { parseNpy, type NpyArray } from './npy';

/**
 * Reads a .npz (a zip of .npy entries, stored or deflated: `np.savez`, `np.savez_compressed`) and
 * matches its entries to the model inputs, TPU-MLIR style: entry "x.npy" feeds input "x"; entries
 * named "arr_0", "arr_1"... (positional `np.savez(path, a, b)`) feed the inputs in model order.
 * Throws a DataError for an input with no entry and for an entry no input takes.
 * @example readNpz(zipSync({ 'x.npy': formatNpy(t) }), 'a.npz', [{ name: 'x', dtype: 'float32', dims: [1, 4] }]) // Map { 'x' => {...} }
 */
export function readNpz(bytes: Uint8Array, fileName: string, inputs: readonly ValueDesc[]): Map<string, NpyArray> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    throw new FormatError(fileName, `not a readable .npz (zip) archive: ${(error as Error).message}`);
  }
  const entries = new Map<string, Uint8Array>();
  for (const [path, content] of Object.entries(files)) {
    if (path.endsWith('/')) continue; // a directory record
    entries.set(path.endsWith('.npy') ? path.slice(0, -4) : path, content);
  }
  const inputNames = inputs.map((i) => i.name);
  const entryList = [...entries.keys()].join(', ') || 'none';

  const arrays = new Map<string, NpyArray>();
  const used = new Set<string>();
  inputs.forEach((input, index) => {
    const key = entries.has(input.name) ? input.name : `arr_${index}`;
    const content = entries.get(key);
    if (!content) {
      throw new DataError(`has no entry for input "${input.name}" (entries: ${entryList}); name each entry after its input (${inputNames.join(', ')}) or arr_0, arr_1... in input order`, fileName);
    }
    used.add(key);
    arrays.set(input.name, parseNpy(content, `${fileName}/${key}.npy`));
  });
  for (const key of entries.keys()) {
    if (!used.has(key)) throw new DataError(`entry "${key}" matches no model input (inputs: ${inputNames.join(', ')})`, fileName);
  }
  return arrays;
}
