import { absMax, thresholdEntry, type Calibrator } from './Calibrator';

/** Target bins of TPU-MLIR's KL: 128 for INT8, 8 for INT4 (kld_calibrator.py `find_threshold(..., 128)` / `(..., 8)` under 'int4'). */
export function klTargetBins(bits: 8 | 4): number {
  return bits === 4 ? 8 : 128;
}

const EPSILON = 1e-30;

/**
 * TPU-MLIR's KL threshold of a centred |x| histogram (docs/algorithms.md §2), as
 * `real_multi_thread_kl_diversity_hist` in sophgo/tpu-mlir's calibration_math.so computes it (C++
 * source `calibration_math.cpp`), after `find_threshold` pads the histogram with zeros to a multiple
 * of `targetBins` (N bins):
 * - candidates i = targetBins, 2 * targetBins, ..., N (`for (i = BINS; i < N + 1; i += BINS)`);
 * - P = hist[0:i] with the tail hist[i:] summed into bin i-1, divided by the total count;
 * - Q: hist[0:i] cut into `targetBins` groups of i/targetBins bins; each group's sum is spread evenly
 *   over its non-empty bins (empty bins get 0), divided by sum(hist[0:i]);
 * - KL = sum P * (log10(P + 1e-30) - log10(Q + 1e-30)); the first minimum m wins (`the_min_index`);
 * - threshold = width * (m + 1) * targetBins.
 *
 * The C++ loops over every bin of every candidate in float32. This evaluates the same sum in
 * float64 in O(N) overall: over non-empty bins Q is constant per group, so the Q part of a group
 * is (group sum / total) * log10(Q + 1e-30) and the P log P part comes from a prefix sum; bin i-1
 * (the only one whose P differs from hist/total) is corrected separately. kl.test.ts checks it
 * against a direct bin-by-bin evaluation.
 *
 * Returns 0 for an empty histogram.
 * @example
 * // 256 bins, width 0.01: counts 1 in bins 0..199 -> candidates 128 and 256; i = 128 leaves 72
 * // counts in the tail (big P at bin 127, Q small there), i = 256 reproduces P exactly: KL = 0,
 * // m = 1 -> threshold 0.01 * 2 * 128 = 2.56
 */
export function tpuMlirKlThreshold(counts: Float64Array, width: number, targetBins: number): number {
  const n = Math.ceil(counts.length / targetBins) * targetBins;
  const hist = new Float64Array(n);
  hist.set(counts);
  const prefix = new Float64Array(n + 1); // sum of hist[0:j]
  const nonEmpty = new Float64Array(n + 1); // number of non-empty bins in hist[0:j]
  for (let j = 0; j < n; j++) {
    prefix[j + 1] = prefix[j] + hist[j];
    nonEmpty[j + 1] = nonEmpty[j] + (hist[j] > 0 ? 1 : 0);
  }
  const total = prefix[n];
  if (!(total > 0)) return 0;
  const suffix = new Float64Array(n + 1); // sum of hist[j:], exactly 0 past the last non-empty bin
  for (let j = n - 1; j >= 0; j--) suffix[j] = suffix[j + 1] + hist[j];
  const pLogP = new Float64Array(n + 1); // sum over hist[0:j] of P log10(P + eps), P = hist/total
  for (let j = 0; j < n; j++) {
    const p = hist[j] / total;
    pLogP[j + 1] = pLogP[j] + (p > 0 ? p * Math.log10(p + EPSILON) : 0);
  }
  let best = Infinity;
  let bestIndex = 0;
  for (let i = targetBins, m = 0; i <= n; i += targetBins, m++) {
    const inside = prefix[i];
    const expand = i / targetBins;
    let qPart = 0;
    let lastQ = 0;
    for (let g = 0, start = 0; g < targetBins; g++, start += expand) {
      const sum = prefix[start + expand] - prefix[start];
      const positive = nonEmpty[start + expand] - nonEmpty[start] || 1;
      const qBase = inside > 0 ? sum / positive / inside : 0;
      if (sum > 0) qPart += (sum / total) * Math.log10(qBase + EPSILON);
      lastQ = qBase;
    }
    // Bin i-1 carries the tail: replace its plain term by the term with P = (hist + tail) / total.
    const h = hist[i - 1];
    const q = h > 0 ? lastQ : 0;
    const p0 = h / total;
    const p1 = (h + suffix[i]) / total;
    let kl = pLogP[i] - qPart;
    if (p0 > 0) kl -= p0 * Math.log10(p0 + EPSILON) - p0 * Math.log10(q + EPSILON);
    if (p1 > 0) kl += p1 * (Math.log10(p1 + EPSILON) - Math.log10(q + EPSILON));
    if (kl < best) {
      best = kl;
      bestIndex = m;
    }
  }
  return width * (bestIndex + 1) * targetBins;
}

/**
 * kl (docs/algorithms.md §2; TPU-MLIR's default method): the threshold of the merged histogram, capped
 * at absmax (kld_calibrator.py: `if thresholds_map[k] > abs_val: thresholds_map[k] = abs_val`).
 */
export const klCalibrator: Calibrator = {
  method: 'kl',
  calibrate: (stats, context) => {
    const { counts, width } = stats.klHistogram;
    const th = Math.min(tpuMlirKlThreshold(counts, width, klTargetBins(context.bits)), absMax(stats));
    return thresholdEntry('kl', th, stats);
  },
};
