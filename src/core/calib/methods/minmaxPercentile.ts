import { rangeEntry, type Calibrator } from './Calibrator';

/** ONE record-minmax defaults (compiler/record-minmax/driver/Driver.cpp: min_percentile 1.0, max_percentile 99.0). */
export const ONE_MIN_PERCENTILE = 1;
export const ONE_MAX_PERCENTILE = 99;

/**
 * ONE's getNthPercentile (Samsung/ONE compiler/record-minmax/src/RecordFunction.cpp): sort a copy;
 * one value -> that value; p = 0 -> first, p = 100 -> last; else index = floor((n - 1) * p / 100),
 * fraction = (p/100 - index/(n-1)) / ((index+1)/(n-1) - index/(n-1)), linear interpolation between
 * sorted[index] and sorted[index + 1]. Throws, as ONE does, on p outside [0, 100] or no values.
 * ONE computes in float32; this is float64.
 *
 * @example
 * // sorted [1, 2, 4, 8, 16], p = 99: index floor(4 * 0.99) = 3, fraction 3.96 - 3 = 0.96 -> 8 + 0.96 * 8
 * nthPercentile(new Float64Array([16, 1, 8, 2, 4]), 99) // 15.68
 */
export function nthPercentile(values: Float64Array, percentile: number): number {
  if (percentile < 0 || percentile > 100) throw new Error('Percentile must be ranged from 0 to 100');
  if (values.length === 0) throw new Error('Percentile must take a non-empty vector as an argument');
  if (values.length === 1) return values[0];
  const sorted = values.slice().sort();
  if (percentile === 0) return sorted[0];
  if (percentile === 100) return sorted[sorted.length - 1];
  const last = sorted.length - 1;
  const index = Math.floor((last * percentile) / 100);
  const percentI = index / last;
  const fraction = (percentile / 100 - percentI) / ((index + 1) / last - percentI);
  return sorted[index] + fraction * (sorted[index + 1] - sorted[index]);
}

/**
 * minmax_percentile (docs/algorithms.md §2; ONE record-minmax's default `percentile` mode,
 * MinMaxComputer.cpp PercentileComputer): min = 1st percentile of the per-sample minima,
 * max = 99th percentile of the per-sample maxima; threshold max(|min|, |max|).
 */
export const minmaxPercentileCalibrator: Calibrator = {
  method: 'minmax_percentile',
  calibrate: (stats) => rangeEntry('minmax_percentile', nthPercentile(stats.sampleMins, ONE_MIN_PERCENTILE), nthPercentile(stats.sampleMaxs, ONE_MAX_PERCENTILE)),
};
