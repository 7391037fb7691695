import { absMax, thresholdEntry, type Calibrator } from './Calibrator';

/**
 * Quantized levels of the TensorRT/Bolt KL: 128 for INT8 (Bolt's constant). For INT4 the same
 * algorithm runs with 8 levels (candidates from 8 bins): an extension, Bolt calibrates INT8 only.
 */
export function tensorRtLevels(bits: 8 | 4): number {
  return bits === 4 ? 8 : 128;
}

/**
 * Bolt's KL search on a 2048-bin floor histogram (huawei-noah/bolt compute/tensor/src/quantize.cpp
 * `compute_scale_with_KL` and `compute_KLD`; the TensorRT algorithm of docs/algorithms.md §2):
 * - normalise the histogram to sum 1; for every i from `levels` (128) to 2047:
 * - P = hist[0:i] with the tail hist[i:] added to bin i-1 (`clipDist`);
 * - Q: hist[0:i] cut into `levels` groups of i/levels bins with FRACTIONAL edges (a bin cut by an
 *   edge contributes its overlap to each side, `quantDist`), each group's mass spread over its
 *   non-empty bins in proportion to their overlap (`qExpand`); Q is not renormalised;
 * - KL = sum over P != 0 of P ln(P / Q); the first minimum i wins (`kld < minKLD`); returns it.
 *   Threshold = i * interval; Bolt's scale is 127.99 / threshold.
 *
 * Deviation (docs/algorithms.md §2 gives the numbers; issue #11): where P != 0 and Q = 0 (the tail
 * folded into an empty bin i-1) Bolt adds 1 to the KL; here the candidate has no finite KL and is
 * skipped, as in TensorRT's own reference (NVIDIA pytorch-quantization `_compute_amax_entropy`:
 * scipy's entropy is infinite there). Bolt bins every element, so its bins are seldom empty; this
 * histogram comes from 4096 sampled values per sample, and with the finite 1 a candidate that folds
 * nearly all the mass into one empty bin beat the honest KL of the wide ones: Bolt's loop puts
 * PP-OCRv4 det's p2o.Clip.23 (a Clip(0, 6) spread over 0..6) at i = 142, threshold 0.416, where on
 * full histograms it gives 2027 to 2047 for such Clips. When every candidate is skipped (a constant
 * tensor, whose values all sit in bin 2047) the result is the histogram length (threshold =
 * absmax), where Bolt keeps 128.
 *
 * Bolt's loop is kept where it is itself the cause: exact zeros count in bin 0, and a ReLU6 output
 * half zeros stays near i = 128 even on a full histogram (that spike costs about P0 ln(i/128) in
 * every wider candidate). TensorRT's reference gives bin 0 bin 1's count first; that is not done
 * here (it moves away from Bolt and lowered the all-INT8 output cos of PP-OCRv4 det and BlazeFace);
 * clippingWarnings.ts flags such tensors instead.
 *
 * Bolt loops over every bin of every candidate in float32 and keeps the tail as a running
 * `sumOver -= histogram[i]`; here the tail is an exact suffix sum (0 past the last non-empty bin).
 * The same terms are summed in float64 with prefix sums: bins fully inside a group share Q, so their
 * terms are sum h ln h - ln Q * sum h; the (at most one) bin cut by each group edge and bin i-1 are
 * added one by one. klTensorRt.test.ts checks it against a direct bin-by-bin evaluation.
 *
 * @example
 * // bins 0..127 alternate 100, 1 and bin 1000 holds 1: i = 128 folds the outlier into bin 127
 * // (KL 2.1e-4); 129..1000 fold it into an empty bin (skipped); wider i flatten the alternation
 * tensorRtKlBins(histogram) // 128
 */
export function tensorRtKlBins(histogram: Float64Array, levels = 128): number {
  const bins = histogram.length;
  let total = 0;
  for (const c of histogram) total += c;
  if (!(total > 0)) return bins;
  const h = Float64Array.from(histogram, (c) => c / total);
  const mass = new Float64Array(bins + 1); // sum of h[0:k]
  const tailMass = new Float64Array(bins + 1); // sum of h[k:], exactly 0 past the last non-empty bin
  const massLogMass = new Float64Array(bins + 1); // sum of h ln h over h[0:k]
  const nonEmpty = new Float64Array(bins + 1);
  for (let k = 0; k < bins; k++) {
    mass[k + 1] = mass[k] + h[k];
    massLogMass[k + 1] = massLogMass[k] + (h[k] > 0 ? h[k] * Math.log(h[k]) : 0);
    nonEmpty[k + 1] = nonEmpty[k] + (h[k] > 0 ? 1 : 0);
  }
  for (let k = bins - 1; k >= 0; k--) tailMass[k] = tailMass[k + 1] + h[k];
  const expandValues = new Float64Array(levels);
  let best = Infinity;
  let bestBins = bins;
  for (let i = levels; i < bins; i++) {
    const last = i - 1;
    const tail = tailMass[i];
    // Bin i-1 carries the tail: with the bin empty, Q is 0 there and the KL infinite.
    if (h[last] === 0 && tail > 0) continue;
    const perLevel = i / levels;
    // Pass 1: each group's mass over its (fractionally weighted) non-empty bins.
    for (let j = 0; j < levels; j++) {
      const start = j * perLevel;
      const end = start + perLevel;
      const left = Math.ceil(start);
      const right = Math.floor(end);
      let quant = mass[right] - mass[left];
      let count = nonEmpty[right] - nonEmpty[left];
      if (left > start) {
        quant += (left - start) * h[left - 1];
        if (h[left - 1] !== 0) count += left - start;
      }
      if (right < end) {
        quant += (end - right) * h[right];
        if (h[right] !== 0) count += end - right;
      }
      expandValues[j] = count > 0 ? quant / count : 0;
    }
    // Pass 2: KL over the bins with P != 0.
    let kl = 0;
    for (let j = 0; j < levels; j++) {
      const start = j * perLevel;
      const end = start + perLevel;
      const left = Math.ceil(start);
      const right = Math.floor(end);
      const inside = mass[right] - mass[left];
      if (inside > 0) kl += massLogMass[right] - massLogMass[left] - Math.log(expandValues[j]) * inside;
      if (right < end && h[right] !== 0) {
        // Bin `right` straddles this group's end and the next group's start.
        const q = expandValues[j] * (end - right) + expandValues[j + 1] * (right + 1 - end);
        kl += h[right] * Math.log(h[right] / q);
      }
    }
    // Bin i-1 (inside the last group): P = h + tail instead of h.
    if (h[last] !== 0) {
      const q = expandValues[levels - 1];
      const p = h[last] + tail;
      kl += p * Math.log(p / q) - h[last] * Math.log(h[last] / q);
    }
    if (kl < best) {
      best = kl;
      bestBins = i;
    }
  }
  return bestBins;
}

/**
 * kl_tensorrt (docs/algorithms.md §2, TensorRT / Bolt style): interval = absmax / 2048 over all samples,
 * bin = floor(|x| / interval) with zeros counted in bin 0 (Bolt's `update_histogram`),
 * threshold = best i * interval (at most absmax).
 *
 * One-pass deviation: TensorRT and Bolt histogram with the final absmax; the statistics keep a fine
 * histogram during the pass and re-bin it to that interval at the end (rebinToTensorRt: exact when
 * the absmax did not grow after the first sample, otherwise fine bins cut by an edge are split
 * proportionally). Bolt itself re-bins the same way, more coarsely, when a batch raises the absmax
 * (huawei-noah/bolt inference/engine/include/model_calibration.hpp `calibrate_model_with_dataset`,
 * `compress_histogram`).
 */
export const klTensorRtCalibrator: Calibrator = {
  method: 'kl_tensorrt',
  calibrate: (stats, context) => {
    const top = absMax(stats);
    const { counts, width } = stats.tensorRtHistogram;
    const th = width > 0 ? tensorRtKlBins(counts, tensorRtLevels(context.bits)) * width : 0;
    return thresholdEntry('kl_tensorrt', Math.min(th, top), stats);
  },
};
