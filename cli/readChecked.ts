import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { QbenchError } from '../src/core/errors';
import { checkLimit, type Limits } from '../src/core/io/limits';

/** What a path is when it is not a regular file, in words. */
function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The bytes of the regular file at `path`, read only after its size is known: a directory, a FIFO or
 * a device (/dev/zero never ends) is refused, and with `limit`, a file over it is refused before a
 * byte is read. The file is opened non-blocking (opening a FIFO to read otherwise waits for a
 * writer) and checked on the open handle, so what is read is what was checked; at most the size
 * stat gave is read. `what` names the file in messages ("the model file").
 */
export async function readRegularFile(path: string, what: string, limit?: { readonly limits: Limits; readonly name: 'modelBytes' }): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch {
    throw new QbenchError(`cannot read ${what}`, path);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new QbenchError(`is ${kindOf(info)}, not a regular file: qbench reads ${what} from regular files only`, path);
    if (limit) checkLimit(limit.limits, limit.name, info.size, `${what}'s size`, path);
    const bytes = new Uint8Array(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break; // the file shrank since stat
      filled += bytesRead;
    }
    return filled === bytes.length ? bytes : bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

/** readRegularFile as UTF-8 text (tables, label files). */
export async function readRegularText(path: string, what: string): Promise<string> {
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(await readRegularFile(path, what)); // keeps a BOM, as readFile(path, 'utf8') did
}
