import { FormatError, QbenchError } from '../../errors';

/**
 * HDF5's error reporting, made qbench's (issue #12). By default HDF5 prints its whole error stack
 * ("HDF5-DIAG: Error detected in HDF5 ...", a dozen lines per failed call) to the console, and
 * h5wasm then throws its own "error - name not defined!". h5wasm's throwing handler (0.7.2 on,
 * `Module.activate_throwing_error_handler()`) prints nothing and throws the stack as the message
 * of one JavaScript Error instead, which hdf5Error turns into one line naming the file.
 * HDF5 calls the handler after it has left the failed API call, so its state stays consistent.
 */

/** The part of h5wasm's module used here. */
export interface Hdf5Module {
  activate_throwing_error_handler?(): number;
}

/** HDF5 throws instead of printing, from now on (the setting is global to the module; repeating it is harmless). */
export function quietHdf5(module: Hdf5Module): void {
  module.activate_throwing_error_handler?.();
}

/**
 * Any error h5wasm or HDF5 threw while reading `fileName`, as one FormatError line: HDF5's
 * innermost reason (the call that failed first) and what to do. qbench's own errors pass through.
 * @example hdf5Error(new Error('HDF5-DIAG: ... #013: H5Centry.c line 1228 in H5C__load_entry(): incorrect metadata checksum after all read attempts ...'), 'data.h5').message
 * // 'data.h5: HDF5 cannot read the file: it is damaged or truncated (incorrect metadata checksum after all read attempts). Write it again (h5py) and drop it again'
 */
export function hdf5Error(error: unknown, fileName: string): unknown {
  if (error instanceof QbenchError || (error instanceof Error && error.name === 'CancelledError')) return error;
  const reason = innermostReason(error instanceof Error ? error.message : String(error));
  return new FormatError(fileName, `HDF5 cannot read the file: it is damaged or truncated${reason ? ` (${reason})` : ''}. Write it again (h5py) and use the new file`);
}

/**
 * The reason of the last entry of an HDF5 error stack ("  #013: <file> line 1228 in <function>():
 * <reason>"), the failure every other entry reports on; null for a message that is not a stack
 * (h5wasm's own "error - name not defined!" says nothing a user can use).
 */
function innermostReason(message: string): string | null {
  const entries = [...message.matchAll(/#\d+: .*? in [\w$]+\(\): ([^\n]*)/g)];
  const last = entries[entries.length - 1]?.[1]?.trim();
  return last ? last.replace(/\s+/g, ' ') : null;
}
