import type { CaliEntry } from '../model/CaliTable';
import type { TensorStatistics } from './TensorStatistics';

/**
 * When a calibrated threshold counts as clipping a tensor away (docs/algorithms.md §2, "Clipping
 * warnings"). On the real activations of test/fixtures/histograms the methods' ordinary clipping
 * cuts at most 16.5 % of a tensor's magnitude (TPU-MLIR's KL on M-LSD's heavy-tailed Conv__222),
 * while the cases of issue #11 cut 36 % to 99 % (ACIQ-Gauss on PP-OCRv4's Clip(0, 6): 36 %; the
 * TensorRT-form KL on a ReLU half zeros: 49 %, and before its fix at 0.42 on the Clip: 90 %; ACIQ
 * on a near-constant tensor: 99 %).
 */
export interface ClippingCriteria {
  /** Flag a tensor when the values above the threshold lose at least this share of sum |x|. */
  readonly minClippedMagnitude: number;
}

export const DEFAULT_CLIPPING_CRITERIA: ClippingCriteria = { minClippedMagnitude: 0.25 };

/** How much of one tensor a threshold cuts off, from its |x| histogram. */
export interface Clipping {
  /** Share of the tensor's elements whose |x| lies above the threshold. */
  readonly clippedFraction: number;
  /** Share of sum |x| the clip removes: sum over |x| > th of (|x| - th), over sum |x|. */
  readonly clippedMagnitude: number;
}

/** One tensor whose threshold cuts away much of it; the message names the tensor and the method. */
export interface ClippingWarning extends Clipping {
  readonly tensor: string;
  /** The method (or 'user', 'imported') the entry came from. */
  readonly method: CaliEntry['source'];
  readonly threshold: number;
  /** max |x| over the calibration samples. */
  readonly max: number;
  readonly message: string;
}

/**
 * What `threshold` cuts off a tensor, measured on its |x| histogram (TPU-MLIR's, which every
 * calibration keeps: zeros out, bin k holds |x| in [(k - 0.5) w, (k + 0.5) w), the top bin ending at
 * max |x|). Values are taken as spread evenly inside a bin, so a bin the threshold cuts counts in
 * part. This is the symmetric view (|x| against the threshold); for a threshold method an
 * asymmetric scheme clips the same values, the observed range clipped to +-threshold.
 *
 * @example
 * // width 1, bins 1..4 hold one value each (|x| about 1, 2, 3, 4), 10 elements (6 zeros), threshold 2.5:
 * // bin 2 [1.5, 2.5) nothing; bin 3 [2.5, 3.5) all, mean cut 0.5; bin 4 [3.5, 4] all, mean cut 1.25
 * // clippedFraction 2 / 10 = 0.2; clippedMagnitude (0.5 + 1.25) / (1 + 2 + 3 + 3.75) = 0.179
 */
export function clippingOf(stats: Pick<TensorStatistics, 'min' | 'max' | 'elementCount' | 'klHistogram'>, threshold: number): Clipping {
  const { width, counts } = stats.klHistogram;
  const top = Math.max(Math.abs(stats.min), Math.abs(stats.max));
  if (!(width > 0) || !(stats.elementCount > 0)) return { clippedFraction: 0, clippedMagnitude: 0 };
  let above = 0;
  let cut = 0;
  let magnitude = 0;
  for (let k = 0; k < counts.length; k++) {
    const count = counts[k];
    if (count === 0) continue;
    const lo = Math.max(0, (k - 0.5) * width);
    const hi = Math.max(lo, Math.min((k + 0.5) * width, top));
    magnitude += count * ((lo + hi) / 2);
    if (hi <= threshold) continue;
    const from = Math.max(lo, threshold);
    const share = hi > lo ? (hi - from) / (hi - lo) : 1;
    above += count * share;
    cut += count * share * ((from + hi) / 2 - threshold);
  }
  return { clippedFraction: above / stats.elementCount, clippedMagnitude: magnitude > 0 ? cut / magnitude : 0 };
}

const percent = (x: number) => `${(100 * x).toFixed(x < 0.01 ? 2 : 0)} %`;
const number = (x: number) => x.toPrecision(3);

/**
 * Every tensor of a CaliTable whose threshold cuts away at least `minClippedMagnitude` of its
 * magnitude (a method that clips a layer's output to nearly nothing says so, issue #11). Tensors
 * without statistics, or never non-zero, are skipped.
 *
 * @example
 * clippingWarnings(calibration.entries('aciq_gauss'), calibration.statistics)
 * // [{ tensor: 'p2o.Clip.23', method: 'aciq_gauss', threshold: 2.86, max: 6, clippedFraction: 0.75,
 * //    clippedMagnitude: 0.36, message: 'aciq_gauss clips p2o.Clip.23 at 2.86, 48 % of its max |x| 6: ...' }]
 */
export function clippingWarnings(
  entries: ReadonlyMap<string, CaliEntry>,
  statistics: ReadonlyMap<string, Pick<TensorStatistics, 'min' | 'max' | 'elementCount' | 'klHistogram'>>,
  criteria: ClippingCriteria = DEFAULT_CLIPPING_CRITERIA,
): ClippingWarning[] {
  const warnings: ClippingWarning[] = [];
  for (const [tensor, entry] of entries) {
    const stats = statistics.get(tensor);
    if (!stats) continue;
    const clipping = clippingOf(stats, entry.threshold);
    if (clipping.clippedMagnitude < criteria.minClippedMagnitude) continue;
    const max = Math.max(Math.abs(stats.min), Math.abs(stats.max));
    warnings.push({
      tensor, method: entry.source, threshold: entry.threshold, max, ...clipping,
      message: `${entry.source} clips ${tensor} at ${number(entry.threshold)}, ${percent(entry.threshold / max)} of its max |x| ${number(max)}: `
        + `${percent(clipping.clippedFraction)} of its values lie above and ${percent(clipping.clippedMagnitude)} of its magnitude is cut off`,
    });
  }
  return warnings;
}
