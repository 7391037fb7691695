import { describe, expect, it } from 'vitest';
import { KlHistogramBuilder, rebinToTensorRt, TENSORRT_BINS, TensorRtHistogramBuilder } from './histograms';
import { float32Values, seededNormal, seededUniform } from './testSupport';

/** numpy-style TPU-MLIR histogram of all values at once: np.histogram(floor(|x|/w + 0.5)), zeros removed. */
function directCentred(values: ArrayLike<number>, width: number, bins: number): Float64Array {
  const counts = new Float64Array(bins);
  for (const v of Array.from(values)) if (v !== 0) counts[Math.floor(Math.abs(v) / width + 0.5)]++;
  return counts;
}

function directFloor(values: ArrayLike<number>, width: number, bins: number): Float64Array {
  const counts = new Float64Array(bins);
  for (const v of Array.from(values)) counts[Math.min(bins - 1, Math.floor(Math.abs(v) / width))]++;
  return counts;
}

describe('TPU-MLIR KL histogram builder', () => {
  it('bins centred at k * width, zeros removed; extends with bins of the same width (hand-worked)', () => {
    const h = new KlHistogramBuilder(8);
    // sample 0: absmax 1 -> width 1/7; 0 is dropped; 0.5 * 7 = 3.5 -> floor(4.0) = bin 4; 1 -> bin 7
    h.add([0, 0.5, -1], 1, 1);
    expect(h.snapshot().width).toBe(1 / 7);
    expect(Array.from(h.snapshot().counts)).toEqual([0, 0, 0, 0, 1, 0, 0, 1]);
    // sample 1: running absmax 2 needs floor(2 * 7 + 0.5) + 1 = 15 bins; 2 -> bin 14; 0.25 * 7 + 0.5 = 2.25 -> bin 2
    h.add([2, -0.25], 1, 2);
    const { width, counts } = h.snapshot();
    expect(width).toBe(1 / 7);
    expect(Array.from(counts)).toEqual([0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('sample-by-sample merging equals one histogram over all values when the first sample has the absmax', () => {
    const next = seededNormal(3);
    const samples = Array.from({ length: 12 }, () => float32Values(3000, next));
    samples[0][0] = 9; // the global absmax, in the first sample: width 9 / 2047 throughout
    const h = new KlHistogramBuilder(2048);
    for (const s of samples) h.add(s, 1, 9);
    const all = samples.flatMap((s) => Array.from(s));
    expect(Array.from(h.snapshot().counts)).toEqual(Array.from(directCentred(all, 9 / 2047, 2048)));
  });

  it('each bin holds the sum of the weights of its values when the weight changes between samples (the counts kept as integers per weight)', () => {
    const next = seededNormal(5);
    const samples = Array.from({ length: 9 }, () => float32Values(500, next));
    samples[0][0] = 6;
    // a tensor of varying size sampled at a fixed count: each value stands for count / k elements
    const weights = [36.75, 36.75, 12, 12, 12, 1.5, 36.75, 0.1, 0.1];
    const h = new KlHistogramBuilder(256);
    const expected = new Float64Array(256);
    samples.forEach((s, k) => {
      h.add(s, weights[k], 6);
      for (const v of s) if (v !== 0) expected[Math.floor(Math.abs(v) / (6 / 255) + 0.5)] += weights[k];
      // a snapshot in between changes nothing that follows
      if (k === 3) h.snapshot();
    });
    const counts = h.snapshot().counts;
    for (let j = 0; j < 256; j++) expect(counts[j]).toBeCloseTo(expected[j], 9);
    expect(counts.reduce((a, b) => a + b, 0)).toBeCloseTo(weights.reduce((a, w) => a + 500 * w, 0), 6);
  });

  it('a first sample of zeros does not fix a width of 0', () => {
    const h = new KlHistogramBuilder(4);
    h.add([0, 0], 1, 0);
    expect(h.snapshot().width).toBe(0);
    h.add([3, 0], 1, 3);
    expect(h.snapshot()).toEqual({ width: 1, counts: new Float64Array([0, 0, 0, 1]) });
  });
});

describe('TensorRT fine histogram', () => {
  it('doubling the width by merging bin pairs equals binning everything at the final width', () => {
    const h = new TensorRtHistogramBuilder(1); // 4096 bins, width absmax0 / 2048
    const a = Float32Array.from([0, 0.2, -1, 0.9999]);
    const b = Float32Array.from([5, -3.3, 0.0007, 1.5]);
    h.add(a, 1, 1); // width 1/2048, covers [0, 2)
    h.add(b, 1, 5); // 5 >= 2: merge twice -> width 1/512, covers [0, 8)
    const { width, counts } = h.snapshot();
    expect(width).toBe(1 / 512);
    expect(Array.from(counts)).toEqual(Array.from(directFloor([...a, ...b], 1 / 512, 4096)));
  });

  it('re-binning is exact when the absmax never grew after the first sample', () => {
    const values = float32Values(50000, seededNormal(5));
    let absMax = 0;
    for (const v of values) absMax = Math.max(absMax, Math.abs(v));
    const h = new TensorRtHistogramBuilder(4);
    h.add(values, 1, absMax);
    const rebinned = rebinToTensorRt(h.snapshot(), absMax);
    expect(rebinned.width).toBe(absMax / TENSORRT_BINS);
    expect(Array.from(rebinned.counts)).toEqual(Array.from(directFloor(values, absMax / TENSORRT_BINS, TENSORRT_BINS)));
  });

  it('re-binning splits a fine bin cut by an edge in proportion to the overlap', () => {
    // absmax 1: interval 1/2048 = 2 fine bins of 1/4096: plain sums
    expect(Array.from(rebinToTensorRt({ width: 1 / 4096, counts: new Float64Array([3, 1, 5, 0]) }, 1).counts.slice(0, 3))).toEqual([4, 5, 0]);
    // absmax 0.75: interval = 1.5 fine bins; fine bin 1 ([1, 2) in fine units) is cut at 1.5: half to each side
    expect(Array.from(rebinToTensorRt({ width: 1 / 4096, counts: new Float64Array([3, 1, 5, 0]) }, 0.75).counts.slice(0, 3))).toEqual([3.5, 5.5, 0]);
  });

  it('after growth, the re-binned CDF is off at each edge by at most the mass of the one fine bin cut there', () => {
    const next = seededUniform(9);
    const samples = [1, 1.3, 2.2, 2.9].map((scale) => float32Values(20000, () => (next() * 2 - 1) * scale));
    const h = new TensorRtHistogramBuilder(4);
    let absMax = 0;
    for (const s of samples) {
      for (const v of s) absMax = Math.max(absMax, Math.abs(v));
      h.add(s, 1, absMax);
    }
    const fine = h.snapshot();
    const rebinned = rebinToTensorRt(fine, absMax).counts;
    const exact = directFloor(samples.flatMap((s) => Array.from(s)), absMax / TENSORRT_BINS, TENSORRT_BINS);
    const finePerBin = absMax / TENSORRT_BINS / fine.width;
    expect(finePerBin).toBeGreaterThanOrEqual(4); // between oversampling and 2 * oversampling
    expect(finePerBin).toBeLessThan(8);
    const largestFineBin = Math.max(...fine.counts);
    let cumulativeRebinned = 0;
    let cumulativeExact = 0;
    for (let k = 0; k < TENSORRT_BINS; k++) {
      cumulativeRebinned += rebinned[k];
      cumulativeExact += exact[k];
      expect(Math.abs(cumulativeRebinned - cumulativeExact)).toBeLessThanOrEqual(largestFineBin + 1e-9);
    }
    expect(cumulativeRebinned).toBeCloseTo(80000, 6);
  });
});
