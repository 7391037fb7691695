import { checkLimit, DEFAULT_LIMITS, formatCount, LIMIT_INFO, LimitError, limitText, parseLimit, type LimitName, type Limits } from '../src/core/io/limits';

/** A bad flag value (not a number, over a limit): the CLI prints it with the usage and exits 2. */
export class FlagError extends Error {}

const NAMES = Object.keys(LIMIT_INFO) as LimitName[];

/** The flags as parseArgs gives them. */
export type LimitFlags = Readonly<Partial<Record<string, string | boolean | undefined>>>;

/** What `qbench --help` says of the limits, one line each with its default. */
export const LIMITS_USAGE = `Limits (a file that declares more is refused before it is decoded, inflated or allocated; bytes take K, M, G):
${NAMES.map((name) => `  ${`--${LIMIT_INFO[name].flag} N`.padEnd(31)}${LIMIT_INFO[name].unit}${name === 'threads' ? ' (--threads, --workers)' : ''} (default ${shown(name, DEFAULT_LIMITS[name])})`).join('\n')}
  A model, data file or table that is not a regular file (a directory, a FIFO, /dev/zero) is refused.
`;

function shown(name: LimitName, value: number): string {
  return LIMIT_INFO[name].bytes ? limitText(name, value) : formatCount(value);
}

/**
 * The limits the flags set, the defaults elsewhere.
 * @example limitsFrom({ max_tensor_bytes: '4G' }).tensorBytes // 4294967296
 */
export function limitsFrom(flags: LimitFlags): Limits {
  const limits: { -readonly [K in LimitName]: number } = { ...DEFAULT_LIMITS };
  for (const name of NAMES) {
    const flag = LIMIT_INFO[name].flag;
    const text = flags[flag];
    if (typeof text !== 'string') continue;
    const value = parseLimit(text);
    if (value === null) throw new FlagError(`--${flag} takes a positive whole number${LIMIT_INFO[name].bytes ? ' of bytes (K, M, G and T suffixes allowed)' : ''}, got "${text}"`);
    limits[name] = value;
  }
  return limits;
}

/**
 * A whole number of at least 1 given to `--flag`, within `limits[name]` when a limit applies.
 * @example countFlag('abc', 'max_samples') // throws FlagError '--max_samples takes a positive whole number, got "abc"'
 */
export function countFlag(text: string, flag: string, within?: { readonly limits: Limits; readonly name: LimitName }): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(n) || n <= 0) throw new FlagError(`--${flag} takes a positive whole number, got "${text}"`);
  if (within) flagWithin(within.limits, within.name, n, `--${flag} ${text}`);
  return n;
}

/**
 * `--input_size H,W` or `--resize_dims H,W`: two positive whole numbers, each within the input side limit.
 * @example sizeFlag('99999,99999', 'input_size', DEFAULT_LIMITS) // throws FlagError '--input_size 99999,99999 has a side (99,999), over the limit of 8,192 pixels per side; ...'
 */
export function sizeFlag(text: string, flag: string, limits: Limits): [number, number] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length !== 2 || !values.every((v) => Number.isSafeInteger(v) && v > 0)) throw new FlagError(`--${flag} takes two positive whole numbers H,W, got "${text}"`);
  flagWithin(limits, 'inputSide', Math.max(...values), `--${flag} ${text} has a side`);
  return values as [number, number];
}

/** A flag's value over a limit is bad usage (exit 2), said as the limit says it. */
function flagWithin(limits: Limits, name: LimitName, value: number, what: string): void {
  try {
    checkLimit(limits, name, value, what);
  } catch (error) {
    throw error instanceof LimitError ? new FlagError(error.message) : error;
  }
}
