import type { CaliEntry, CalibrationMethod } from '../../model/CaliTable';
import type { TensorStatistics } from '../TensorStatistics';

/** What a method needs to know about the tensor besides its statistics. */
export interface MethodContext {
  /** INT8 or INT4 activations: selects OCTAV's b, ACIQ's alpha/beta and the KL target bins. */
  readonly bits: 8 | 4;
  /** Topological index i of the tensor's producing op, 0-based (percentile9999). */
  readonly position: number;
  /** n, the number of ops (percentile9999: p = 99.99 + i * (99.999999 - 99.99) / n). */
  readonly positionCount: number;
  /** Graph inputs take their absmax under MSE/OCTAV and ACIQ (TPU-MLIR `self.input_op`). */
  readonly isGraphInput: boolean;
  /**
   * TPU-MLIR's histogram_bin_num. Informational: the KL methods use the histogram the statistics
   * were built with (its bin count is fixed when the accumulator is created).
   */
  readonly histogramBins: number;
}

/** One calibration method: statistics of a tensor in, its CaliEntry out (docs/style.md "Small pure modules"). */
export interface Calibrator {
  readonly method: CalibrationMethod;
  calibrate(stats: TensorStatistics, context: MethodContext): CaliEntry;
}

/**
 * TPU-MLIR's floor for near-zero thresholds (kld_calibrator.py: `if abs_value <= 1e-5: abs_value =
 * 1e-5`, "layer ... is all zeros"): keeps an all-zero tensor's scale defined.
 */
export const MIN_THRESHOLD = 1e-5;

/** max(|min|, |max|) of the whole tensor. */
export function absMax(stats: Pick<TensorStatistics, 'min' | 'max'>): number {
  return Math.max(Math.abs(stats.min), Math.abs(stats.max));
}

/**
 * The entry of a threshold method: threshold floored at 1e-5 (NaN too), min/max = the observed range
 * clipped to [-threshold, threshold].
 * @example thresholdEntry('kl', 2, { min: -0.5, max: 3 }) // { threshold: 2, min: -0.5, max: 2, source: 'kl' }
 */
export function thresholdEntry(method: CalibrationMethod, threshold: number, stats: Pick<TensorStatistics, 'min' | 'max'>): CaliEntry {
  const th = threshold > MIN_THRESHOLD ? threshold : MIN_THRESHOLD;
  return { threshold: th, min: Math.min(th, Math.max(stats.min, -th)), max: Math.max(-th, Math.min(stats.max, th)), source: method };
}

/**
 * The entry of a min/max method (ONE record-minmax): min and max as computed, threshold
 * max(|min|, |max|) (floored at 1e-5 like the threshold methods).
 * @example rangeEntry('minmax_percentile', -1, 3) // { threshold: 3, min: -1, max: 3, source: 'minmax_percentile' }
 */
export function rangeEntry(method: CalibrationMethod, min: number, max: number): CaliEntry {
  const th = Math.max(Math.abs(min), Math.abs(max));
  return { threshold: th > MIN_THRESHOLD ? th : MIN_THRESHOLD, min, max, source: method };
}

/** Mean of per-sample values (callers guarantee at least one sample). */
export function mean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
