import { QbenchError } from '../errors';

/**
 * How much a user's file may make qbench do, each checked before the work it guards (issue #12):
 * a 68-byte PNG can declare 2^31 x 2^31 pixels, a 1 MB .npz can inflate to gigabytes, a 6 KB .h5
 * can declare a 3 GB dataset. Past a limit the file is refused with a LimitError that names the
 * file, the limit and how to raise it; nothing is decoded, inflated or allocated first.
 */
export interface Limits {
  /** Pixels of one image (width x height read from its header), before it is decoded. */
  readonly imagePixels: number;
  /** Bytes one .npz may inflate to, all entries together; inflating stops there. */
  readonly archiveBytes: number;
  /** Bytes of one array a file declares (a .npy or .npz entry's shape x dtype, an .h5 dataset, an image input tensor), before it is allocated. */
  readonly tensorBytes: number;
  /** Bytes of a model file, before it is read. */
  readonly modelBytes: number;
  /** Samples one dataset may hold, before they are cut out. */
  readonly samples: number;
  /** Height or width of an image input: the model's, the input size, the resize dims. */
  readonly inputSide: number;
  /** onnxruntime threads and search workers (the CLI's --threads, --workers). */
  readonly threads: number;
  /** Iterations of one Loop (its constant trip count) or steps of one Scan (a fixed sequence length), before the model runs. */
  readonly loopTrips: number;
  /**
   * Seconds one inference (or one session creation) may hold its thread. Past it the worker that
   * runs it is ended (a run cannot be interrupted from inside its own thread) and the step fails by name.
   */
  readonly runSeconds: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

/**
 * Generous for real calibration data (an 8192 x 8192 photo, a 1 GiB batch, 100,000 samples), small
 * enough that a file built to cross them is refused before it costs memory a tab or a CI runner lacks.
 */
export const DEFAULT_LIMITS: Limits = {
  imagePixels: 64 * MIB, // 8192 x 8192
  archiveBytes: 2 * GIB,
  tensorBytes: 1 * GIB,
  modelBytes: 2 * GIB, // protobuf's own ceiling for one message
  samples: 100_000,
  inputSide: 8192,
  threads: 64,
  loopTrips: 1_000_000,
  runSeconds: 300,
};

export type LimitName = keyof Limits;

/** How each limit is spoken of and raised: its unit, the CLI flag, the page setting (none for threads: the page uses the cores it has). */
export const LIMIT_INFO: Readonly<Record<LimitName, { readonly unit: string; readonly flag: string; readonly setting: string | null; readonly bytes: boolean }>> = {
  imagePixels: { unit: 'pixels per image', flag: 'max_image_pixels', setting: 'Pixels per image', bytes: false },
  archiveBytes: { unit: 'bytes inflated per archive', flag: 'max_archive_bytes', setting: 'Archive bytes', bytes: true },
  tensorBytes: { unit: 'bytes per array', flag: 'max_tensor_bytes', setting: 'Array bytes', bytes: true },
  modelBytes: { unit: 'bytes per model', flag: 'max_model_bytes', setting: 'Model bytes', bytes: true },
  samples: { unit: 'samples per dataset', flag: 'max_dataset_samples', setting: 'Samples', bytes: false },
  inputSide: { unit: 'pixels per side', flag: 'max_input_side', setting: 'Input side', bytes: false },
  threads: { unit: 'threads', flag: 'max_threads', setting: null, bytes: false },
  loopTrips: { unit: 'iterations per Loop or Scan', flag: 'max_loop_trips', setting: 'Loop iterations', bytes: false },
  runSeconds: { unit: 'seconds per inference', flag: 'max_run_seconds', setting: 'Seconds per inference', bytes: false },
};

/** A file (or a setting) asks for more than a limit allows. */
export class LimitError extends QbenchError {
  constructor(readonly limit: LimitName, message: string, fileName?: string) {
    super(message, fileName);
    this.name = 'LimitError';
  }
}

/**
 * A count with thousands separators; past 2^53 (an overflowed shape product) only its size.
 * @example formatCount(67108864) // '67,108,864'
 */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return 'more than 2^1024';
  if (n > Number.MAX_SAFE_INTEGER) return `about ${n.toPrecision(3)}`;
  return Math.round(n).toLocaleString('en-US');
}

/** "1,073,741,824 bytes (1 GiB)": the exact figure and one a reader takes in. */
function amount(name: LimitName, n: number): string {
  if (!LIMIT_INFO[name].bytes || n < KIB) return formatCount(n);
  const [size, unit] = n >= GIB ? [n / GIB, 'GiB'] : n >= MIB ? [n / MIB, 'MiB'] : [n / KIB, 'KiB'];
  return `${formatCount(n)} (${Number.isFinite(size) ? +size.toPrecision(3) : size} ${unit})`;
}

/** "raise it with --max_image_pixels N (CLI) or Data & calibration → Limits → Pixels per image (page)". */
export function howToRaise(name: LimitName): string {
  const { flag, setting } = LIMIT_INFO[name];
  return `raise it with --${flag} N (CLI)${setting ? ` or Data & calibration → Limits → ${setting} (page)` : ''}`;
}

/**
 * Throws a LimitError when `value` is over `limits[name]`. `what` says what the file asks for, the
 * message adds the figure, the limit and how to raise it.
 * @example checkLimit(DEFAULT_LIMITS, 'imagePixels', 20000 * 20000, 'the header declares 20000 x 20000 pixels', 'big.png')
 * // throws 'big.png: the header declares 20000 x 20000 pixels (400,000,000), over the limit of 67,108,864 pixels per image; raise it with ...'
 */
export function checkLimit<N extends LimitName>(limits: Pick<Limits, N>, name: N, value: number, what: string, fileName?: string): void {
  const limit = limits[name];
  if (value <= limit) return;
  throw new LimitError(name, `${what} (${amount(name, value)}), over the limit of ${amount(name, limit)} ${LIMIT_INFO[name].unit}; ${howToRaise(name)}`, fileName);
}

const SUFFIXES: Readonly<Record<string, number>> = { '': 1, k: KIB, m: MIB, g: GIB, t: 1024 * GIB };

/**
 * A limit as a flag or a setting takes it: bytes with the largest binary suffix that divides them, counts as they are.
 * @example limitText('tensorBytes', 1073741824) // '1G'
 */
export function limitText(name: LimitName, value: number): string {
  if (LIMIT_INFO[name].bytes) {
    for (const suffix of ['t', 'g', 'm', 'k']) if (value % SUFFIXES[suffix] === 0) return `${value / SUFFIXES[suffix]}${suffix.toUpperCase()}`;
  }
  return String(value);
}

/**
 * A limit as typed in a flag or a setting: a positive whole number, bytes with an optional binary
 * suffix (K, M, G, T, with or without "iB"). Null when it is not one.
 * @example parseLimit('2G') // 2147483648
 * @example parseLimit('abc') // null
 */
export function parseLimit(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!match) return null;
  const value = Number(match[1]) * SUFFIXES[match[2].toLowerCase()];
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}

/** What a file's samples are checked against: the limits, and the samples the files before it gave. */
export interface SampleBudget {
  readonly limits: Limits;
  readonly held: number;
}

/**
 * Throws a LimitError when `count` more samples would take the dataset past its sample limit.
 * @example checkSamples({ limits: DEFAULT_LIMITS, held: 0 }, 200000, 'big.npy') // throws 'big.npy: holds 200,000 samples (200,000), over the limit of 100,000 samples per dataset; ...'
 */
export function checkSamples(budget: SampleBudget, count: number, fileName: string): void {
  const total = budget.held + count;
  const held = `holds ${formatCount(count)} sample${count === 1 ? '' : 's'}`;
  const what = budget.held > 0 ? `${held}, which bring${count === 1 ? 's' : ''} the dataset to ${formatCount(total)}` : held;
  checkLimit(budget.limits, 'samples', total, what, fileName);
}
