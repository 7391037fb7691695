import { DataError } from '../../errors';
import type { ValueDesc } from '../../model/ModelGraph';
import { elementCount, formatDims, type Tensor, type TensorMap } from '../../model/tensor';
import { checkSamples, DEFAULT_LIMITS, type SampleBudget } from '../limits';

/** One way to read an array as samples of an input: how many, and sample i. */
interface Reading {
  readonly count: number;
  row(i: number): Tensor;
}

const fits = (dims: readonly number[], want: readonly (number | null)[]) =>
  dims.length === want.length && want.every((d, k) => d === null || d === dims[k]);

/** A leading dim of 1 or dynamic on a rank >= 2 input is a batch dim (NCHW, NHWC, [batch, seq]). */
const hasBatchDim = (want: readonly (number | null)[]) => want.length >= 2 && (want[0] === 1 || want[0] === null);

function rows(array: Tensor, rowDims: readonly number[]): Reading {
  const size = elementCount(rowDims);
  return {
    count: array.dims[0],
    // slice, not subarray: each sample owns its buffer, so transferring one detaches no other
    row: (i) => ({ dtype: array.dtype, dims: [...rowDims], data: array.data.slice(i * size, (i + 1) * size) }),
  };
}

/**
 * The readings of `array` as data for `input`, most natural first (docs/formats.md "one sample, or a batch
 * along axis 0"): a batch [N, ...] of an input with a batch dim splits into N samples of batch 1;
 * the input's own shape is one sample; the shape without the batch dim is one sample with batch 1
 * added; N input-shaped arrays stacked on a new axis 0 are N samples.
 */
function readings(array: Tensor, input: ValueDesc): Reading[] {
  const want = input.dims;
  const dims = array.dims;
  if (!want) return [{ count: 1, row: () => array }]; // rank unknown: take the array as it is
  const found: Reading[] = [];
  const batch = hasBatchDim(want);
  if (batch && dims.length === want.length && dims[0] !== 1 && fits(dims.slice(1), want.slice(1))) found.push(rows(array, [1, ...dims.slice(1)]));
  if (fits(dims, want)) found.push({ count: 1, row: () => array });
  if (batch && fits(dims, want.slice(1))) found.push({ count: 1, row: () => ({ ...array, dims: [1, ...dims] }) });
  if (dims.length === want.length + 1 && fits(dims.slice(1), want)) found.push(rows(array, dims.slice(1)));
  return found;
}

function acceptedShapes(input: ValueDesc): string {
  const want = input.dims ?? [];
  const one = [formatDims(want)];
  const many = [formatDims(['N', ...want.slice(1)])];
  if (hasBatchDim(want)) one.push(formatDims(want.slice(1)));
  if (!hasBatchDim(want)) many.pop();
  many.push(formatDims(['N', ...want]));
  return `${one.join(' or ')} for one sample, ${many.join(' or ')} for N samples`;
}

/**
 * Cuts the arrays of one file (one per model input, keyed by input name) into samples: every
 * input's array must give the same number of samples, read the same way for all. Where an array can
 * be read more than one way (a dynamic batch dim), the reading with the most samples that every
 * input allows wins. More samples than `budget` leaves are refused before any is cut out.
 * @example samplesFromArrays(new Map([['x', { dtype: 'float32', dims: [3, 4], data }]]), [{ name: 'x', dtype: 'float32', dims: [1, 4] }], 'a.npy') // 3 samples of [1, 4]
 */
export function samplesFromArrays(arrays: ReadonlyMap<string, Tensor>, inputs: readonly ValueDesc[], fileName: string, budget: SampleBudget = { limits: DEFAULT_LIMITS, held: 0 }): TensorMap[] {
  const byInput = inputs.map((input) => {
    const array = arrays.get(input.name);
    if (!array) throw new DataError(`has no data for model input "${input.name}"`, fileName);
    const found = readings(array, input);
    if (found.length === 0) {
      throw new DataError(`input "${input.name}" expects shape ${formatDims(input.dims ?? [])} but the data has shape ${formatDims(array.dims)} (accepted: ${acceptedShapes(input)})`, fileName);
    }
    return { input, array, found };
  });
  const counts = byInput.map(({ found }) => new Set(found.map((r) => r.count)));
  const common = [...counts[0]].filter((n) => counts.every((c) => c.has(n)));
  if (common.length === 0) {
    const each = byInput.map(({ input, array, found }) => `"${input.name}" ${formatDims(array.dims)} holds ${Math.max(...found.map((r) => r.count))}`);
    throw new DataError(`the inputs' arrays disagree on the number of samples: ${each.join(', ')}`, fileName);
  }
  const count = Math.max(...common);
  // An array with a batch of 0 (shape [0, ...]) is well-formed and holds nothing: said here, where the file is known.
  if (count === 0) throw new DataError(`holds no samples: ${byInput.map(({ input, array }) => `"${input.name}" has shape ${formatDims(array.dims)}`).join(', ')}`, fileName);
  checkSamples(budget, count, fileName);
  const chosen = byInput.map(({ input, found }) => ({ name: input.name, reading: found.find((r) => r.count === count)! }));
  return Array.from({ length: count }, (_, i) => Object.fromEntries(chosen.map(({ name, reading }) => [name, reading.row(i)])));
}
