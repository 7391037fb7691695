import { PERCENTILE_BASE } from '../TensorStatistics';
import { thresholdEntry, type Calibrator, type MethodContext } from './Calibrator';

/** TPU-MLIR's last percentile: p grows from 99.99 (first op) toward 99.999999 (docs/algorithms.md §2). */
export const PERCENTILE_TOP = 99.999999;

/**
 * The percentile of the op at topological position i of n (TPU-MLIR kld_calibrator.py:
 * `self.step = (99.999999 - 99.99) / len(all_tensors)`, `per = 99.99 + i * self.step`).
 * @example percentileAt(0, 10) // 99.99
 * @example percentileAt(5, 10) // 99.9949995
 */
export function percentileAt(position: number, positionCount: number): number {
  return PERCENTILE_BASE + position * ((PERCENTILE_TOP - PERCENTILE_BASE) / Math.max(1, positionCount));
}

/**
 * TPU-MLIR's interpolated extreme at percentile p from the k largest values, largest first
 * (kld_calibrator.py `process_compute_threshold`, use_percentile9999 branch):
 * k = int(M * (1 - p/100)) + 1, idx = int(p/100 * (M - 1)), ratio = p/100 * (M - 1) - idx,
 * v = kth + ratio * ((k-1)th - kth), or the largest value when k = 1. The same formula with the
 * smallest values, smallest first, gives v_min (TPU-MLIR uses `ratio`, not 1 - ratio, for both ends).
 *
 * When more values were seen than the extreme sets were sized for (more samples than
 * `expectedSamples`), k is capped at the number of kept values: a slightly more extreme percentile.
 *
 * @example
 * // values 1..5 largest first, M = 5, p = 60: k = int(5 * 0.4) + 1 = 3, p/100 * 4 = 2.4 -> idx 2,
 * // ratio 0.4: 3rd largest 3 + 0.4 * (4 - 3) = 3.4 (numpy.percentile(1..5, 60) is 3.4 as well)
 * interpolatedExtreme(new Float64Array([5, 4, 3, 2, 1]), 5, 60) // 3.4
 */
export function interpolatedExtreme(extremes: Float64Array, sampledCount: number, percentile: number): number {
  const k = Math.min(extremes.length, Math.floor(sampledCount * (1 - percentile / 100)) + 1);
  if (k <= 1) return extremes[0];
  const inter = sampledCount - 1;
  const position = (percentile / 100) * inter;
  const ratio = position - Math.floor(position);
  return extremes[k - 1] + ratio * (extremes[k - 2] - extremes[k - 1]);
}

/**
 * percentile9999 (docs/algorithms.md §2; TPU-MLIR use_percentile9999): p from the op's position, v_max
 * and v_min interpolated among the k extreme values at each end, threshold max(|v_max|, |v_min|).
 *
 * Computed on the sampled values: M (TPU-MLIR's N * size) is the number of sampled values, so with
 * K < size per sample the percentile is that of the sample, an estimate of the tensor's. Entry
 * min/max are the observed range clipped to the threshold (TPU-MLIR writes v_min and v_max there).
 */
export const percentile9999Calibrator: Calibrator = {
  method: 'percentile9999',
  calibrate: (stats, context: MethodContext) => {
    const p = percentileAt(context.position, context.positionCount);
    if (stats.largest.length === 0) return thresholdEntry('percentile9999', 0, stats);
    const vMax = interpolatedExtreme(stats.largest, stats.sampledCount, p);
    const vMin = interpolatedExtreme(stats.smallest, stats.sampledCount, p);
    return thresholdEntry('percentile9999', Math.max(Math.abs(vMax), Math.abs(vMin)), stats);
  },
};
