/**
 * The two |x| histograms the KL methods need, built sample by sample without keeping values
 * (docs/algorithms.md §2 "KL (TPU-MLIR)", "KL (TensorRT / Bolt style)", "Memory").
 */

/** A histogram of |x|: bin k of `counts` starts (floor binning) or is centred (TPU-MLIR) at k * width. */
export interface MagnitudeHistogram {
  readonly width: number;
  readonly counts: Float64Array;
}

/**
 * TPU-MLIR refuses to grow a histogram past 8,000,000 bins and starts again from the current sample
 * (`combine_histogram`, "校准图片差异过大": the calibration samples differ too much).
 */
export const KL_HISTOGRAM_MAX_BINS = 8_000_000;

/**
 * TPU-MLIR's |x| histogram (sophgo/tpu-mlir python/calibration/kld_calibrator.py `histogram` and
 * `combine_histogram`): exact zeros removed, width = absmax of the first sample / (bins - 1),
 * bin = floor(|x| / width + 0.5). When a later sample raises the running absmax, more bins of the
 * same width are appended.
 *
 * Deviations, both deliberate:
 * - TPU-MLIR extends by `int((new_th - old_th) // (old_th / old_bins) + 1)` bins and then
 *   re-histograms the new sample with width new_th / (new_bins - 1), which is not exactly the old
 *   width (old_th / old_bins is used as the step, old_th / (old_bins - 1) as the width), while the old
 *   counts are added index by index. Here the width never changes (docs/algorithms.md §2: "more bins of
 *   the same width"), and exactly as many bins are added as the new absmax needs:
 *   floor(absmax / width + 0.5) + 1.
 * - A first sample whose absmax is 0 would make TPU-MLIR's width 0 (and divide by it later); here
 *   the width is fixed by the first sample with a non-zero absmax (zeros are not counted anyway).
 * Arithmetic is float64 (numpy computes |x| / width in float32 there).
 */
export class KlHistogramBuilder {
  private width = 0;
  /** Mass folded in from earlier weights. */
  private counts = new Float64Array(0);
  /**
   * Values binned since the weight last changed, counted as integers: the hot loop then touches 4
   * bytes a bin with an integer add instead of 8 with a float add (about a third faster, the
   * histograms of a whole model no longer fitting in the cache). A calibration of fixed shapes has
   * one weight per tensor, so nothing folds until the snapshot.
   */
  private hits = new Uint32Array(0);
  private hitWeight = 0;
  private hitTotal = 0;

  constructor(private readonly bins: number) {}

  /**
   * Adds one sample's values, each counting `weight` elements. `runningAbsMax` is
   * max(|min|, |max|) over every sample so far, this one included (TPU-MLIR's `abs_value`).
   */
  add(values: ArrayLike<number>, weight: number, runningAbsMax: number): void {
    if (this.width === 0) {
      if (!(runningAbsMax > 0)) return;
      this.width = runningAbsMax / (this.bins - 1);
      this.counts = new Float64Array(this.bins);
      this.hits = new Uint32Array(this.bins);
    }
    const needed = Math.floor(runningAbsMax / this.width + 0.5) + 1;
    if (needed > this.counts.length) {
      if (needed > KL_HISTOGRAM_MAX_BINS) {
        this.width = runningAbsMax / (this.bins - 1);
        this.counts = new Float64Array(this.bins);
        this.hits = new Uint32Array(this.bins);
        this.hitTotal = 0;
      } else {
        const grown = new Float64Array(needed);
        grown.set(this.counts);
        this.counts = grown;
        const grownHits = new Uint32Array(needed);
        grownHits.set(this.hits);
        this.hits = grownHits;
      }
    }
    const n = values.length;
    if (this.hitTotal > 0 && (weight !== this.hitWeight || this.hitTotal + n > 0xffffffff)) this.foldHits();
    this.hitWeight = weight;
    this.hitTotal += n;
    // The hottest loop of a KL calibration (4,096 values a tensor and sample): fields read once, and
    // truncation instead of Math.floor, the same for the non-negative bins below hits.length.
    const { hits, width } = this;
    const last = hits.length - 1;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(values[i]);
      if (a === 0) continue;
      const bin = a / width + 0.5;
      hits[bin < last ? bin | 0 : last]++;
    }
  }

  /** counts += hits x weight: the mass of hits values of one weight, one rounding a bin. */
  private foldHits(): void {
    const { counts, hits, hitWeight } = this;
    for (let j = 0; j < hits.length; j++) {
      if (hits[j] !== 0) counts[j] += hits[j] * hitWeight;
    }
    hits.fill(0);
    this.hitTotal = 0;
  }

  snapshot(): MagnitudeHistogram {
    const counts = this.counts.slice();
    const { hits, hitWeight } = this;
    for (let j = 0; j < hits.length; j++) {
      if (hits[j] !== 0) counts[j] += hits[j] * hitWeight;
    }
    return { width: this.width, counts };
  }
}

/** TensorRT's (and Bolt's) KL works on 2048 bins of width final absmax / 2048. */
export const TENSORRT_BINS = 2048;

/**
 * Fine floor-binned |x| histogram from which TensorRT's 2048-bin histogram is recovered at the end
 * (`rebinToTensorRt`), in one pass although TensorRT's interval uses the FINAL absmax.
 *
 * How: the first sample with a non-zero absmax A0 fixes the fine width w = A0 / (2048 * oversampling);
 * the histogram holds 2 * 2048 * oversampling bins (bin = floor(|x| / w), zeros included, as Bolt's
 * `update_histogram` counts them). When the running absmax reaches the top of the covered range,
 * adjacent bins are merged in pairs and w doubles: exact for floor binning, so memory stays fixed.
 * The covered range is always within [A, 2A) of the running absmax A, so each final TensorRT bin
 * spans between `oversampling` and 2 * `oversampling` fine bins.
 *
 * The one approximation (documented deviation): a fine bin cut by a TensorRT bin edge is split in
 * proportion to the overlap, i.e. values are taken as uniform inside one fine bin (1/oversampling
 * to 1/(2 * oversampling) of a TensorRT bin). When the absmax never grows after the first sample the
 * edges align and the result is exact. Bolt itself does a coarser version of the same split
 * (huawei-noah/bolt compute/tensor/src/quantize.cpp `compress_histogram`, on 2048-bin histograms,
 * whenever a later batch of 100 images raises the absmax).
 */
export class TensorRtHistogramBuilder {
  private width = 0;
  private readonly counts: Float64Array;
  private pendingZeros = 0;

  constructor(private readonly oversampling: number) {
    this.counts = new Float64Array(2 * TENSORRT_BINS * oversampling);
  }

  add(values: ArrayLike<number>, weight: number, runningAbsMax: number): void {
    if (this.width === 0) {
      if (!(runningAbsMax > 0)) {
        this.pendingZeros += weight * values.length; // every value of such a sample is 0
        return;
      }
      this.width = runningAbsMax / (TENSORRT_BINS * this.oversampling);
      this.counts[0] += this.pendingZeros;
      this.pendingZeros = 0;
    }
    const { counts } = this;
    const last = counts.length - 1;
    while (runningAbsMax >= counts.length * this.width) this.mergePairs();
    const { width } = this;
    const n = values.length;
    for (let i = 0; i < n; i++) {
      const bin = Math.abs(values[i]) / width; // truncation is floor for the non-negative bins below last
      counts[bin < last ? bin | 0 : last] += weight;
    }
  }

  private mergePairs(): void {
    const half = this.counts.length / 2;
    for (let j = 0; j < half; j++) this.counts[j] = this.counts[2 * j] + this.counts[2 * j + 1];
    this.counts.fill(0, half);
    this.width *= 2;
  }

  snapshot(): MagnitudeHistogram {
    const counts = this.counts.slice();
    if (this.width === 0) counts[0] += this.pendingZeros;
    return { width: this.width, counts };
  }
}

/**
 * TensorRT's histogram of interval absMax / 2048 (bin = floor(|x| / interval), the top bin also
 * holding |x| = absMax, as Bolt clamps `index >= numBins` to numBins - 1) from a fine histogram.
 * Fine bins cut by an edge are split in proportion to the overlap (see TensorRtHistogramBuilder).
 *
 * @example
 * // absMax 1: interval 1/2048 = two fine bins of width 1/4096 (edges aligned: plain sums)
 * rebinToTensorRt({ width: 1 / 4096, counts: new Float64Array([3, 1, 5, 0]) }, 1).counts // [4, 5, 0, ...]
 * // absMax 0.75: interval = 1.5 fine bins; fine bin 1 straddles the first edge and is split half/half
 * rebinToTensorRt({ width: 1 / 4096, counts: new Float64Array([3, 1, 5, 0]) }, 0.75).counts // [3.5, 5.5, 0, ...]
 */
export function rebinToTensorRt(fine: MagnitudeHistogram, absMax: number): MagnitudeHistogram {
  const counts = new Float64Array(TENSORRT_BINS);
  const last = TENSORRT_BINS - 1;
  if (!(absMax > 0) || fine.width === 0) {
    let total = 0;
    for (const c of fine.counts) total += c;
    counts[0] = total;
    return { width: 0, counts };
  }
  const interval = absMax / TENSORRT_BINS;
  const ratio = interval / fine.width; // fine bins per TensorRT bin
  const integral = Math.round(ratio);
  const aligned = Math.abs(ratio - integral) < 1e-9 * ratio && integral >= 1;
  for (let j = 0; j < fine.counts.length; j++) {
    const mass = fine.counts[j];
    if (mass === 0) continue;
    if (aligned) {
      counts[Math.min(last, Math.floor(j / integral))] += mass;
      continue;
    }
    const lo = j / ratio;
    const hi = (j + 1) / ratio;
    const first = Math.floor(lo);
    if (Math.floor(hi) === first || hi === first + 1) {
      counts[Math.min(last, first)] += mass;
      continue;
    }
    for (let k = first; k < hi; k++) {
      const overlap = Math.min(hi, k + 1) - Math.max(lo, k);
      if (overlap > 0) counts[Math.min(last, k)] += (mass * overlap) / (hi - lo);
    }
  }
  return { width: interval, counts };
}
