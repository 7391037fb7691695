import { QbenchError, errorMessage } from '../src/core/errors';

/**
 * The one line the CLI prints for a failure (issue #12): never a stack trace, a colour code or a
 * library's multi-line text. qbench's own errors already name the file and say what to do; a
 * file the system refused names its path; anything else is a bug, named as such with the command.
 * @example errorLine(new RangeError('Maximum call stack size exceeded'), 'eval')
 * // 'qbench eval: unexpected error (RangeError: Maximum call stack size exceeded); this is a bug in qbench: please report it with the command line'
 */
export function errorLine(error: unknown, command: string, ours = false): string {
  if (ours || isQbenchError(error)) return `qbench: ${oneLine(errorMessage(error))}`;
  const system = systemError(error);
  if (system) return `qbench: ${system}`;
  const name = error instanceof Error ? error.name : typeof error;
  return `qbench ${command}: unexpected error (${name}: ${oneLine(errorMessage(error))}); this is a bug in qbench: please report it with the command line`;
}

/**
 * JavaScript's own error classes: any other name is one of qbench's (QbenchError and its kind).
 * A search worker's error crosses the thread as a plain Error carrying only its name and message.
 */
const BUILT_IN = new Set(['Error', 'TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'EvalError', 'URIError', 'AggregateError', 'InternalError']);

function isQbenchError(error: unknown): boolean {
  return error instanceof QbenchError || (error instanceof Error && !BUILT_IN.has(error.name));
}

/** Text as one line: colour codes gone, line breaks and runs of spaces made one space. */
export function oneLine(text: string): string {
  // oxlint-disable-next-line no-control-regex -- the escape character is what is removed
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\s+/g, ' ').trim();
}

/** Node's refusal of a file the user named (ENOENT, EACCES, EISDIR...), as `<path>: <what>`. */
function systemError(error: unknown): string | null {
  const e = error as { code?: unknown; syscall?: unknown; path?: unknown; message?: unknown };
  if (!(error instanceof Error) || typeof e.code !== 'string' || typeof e.syscall !== 'string') return null;
  const what = SYSTEM_CODES[e.code] ?? oneLine(error.message);
  return typeof e.path === 'string' ? `${e.path}: ${what}` : what;
}

const SYSTEM_CODES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
};
