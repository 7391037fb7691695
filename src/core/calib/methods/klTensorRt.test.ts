import { describe, expect, it } from 'vitest';
import { calibrateTensor } from '../calibrate';
import { TENSORRT_BINS } from '../histograms';
import { TensorStatisticsAccumulator } from '../TensorStatistics';
import { float32Values, fullObservation, seededNormal, seededUniform } from '../testSupport';
import type { MethodContext } from './Calibrator';
import { tensorRtKlBins } from './klTensorRt';

const CONTEXT: MethodContext = { bits: 8, position: 0, positionCount: 1, isGraphInput: false, histogramBins: 2048 };

/**
 * Reference: Bolt's compute_scale_with_KL / compute_KLD (huawei-noah/bolt compute/tensor/src/quantize.cpp)
 * transcribed loop for loop in float64, with the tail taken as an exact sum of the bins past i.
 * `tensorRt` applies TensorRT's rule that klTensorRt.ts follows (NVIDIA pytorch-quantization
 * `_compute_amax_entropy`): P != 0 where Q = 0 makes the KL infinite (Bolt adds 1); with every
 * candidate infinite the answer is the histogram length.
 */
function referenceBins(histogram: Float64Array, levels = 128, tensorRt = true): number {
  const BINS = histogram.length;
  const sumAll = histogram.reduce((a, b) => a + b, 0);
  const h = Array.from(histogram, (c) => c / sumAll);
  let minKld = tensorRt ? Infinity : 2048;
  let best = tensorRt ? BINS : levels;
  for (let i = levels; i < BINS; i++) {
    const clip = h.slice(0, i);
    clip[i - 1] += h.slice(i).reduce((a, b) => a + b, 0);
    const quant = new Array<number>(levels).fill(0);
    const perBin = i / levels;
    for (let j = 0; j < levels; j++) {
      const start = j * perBin;
      const end = start + perBin;
      const left = Math.ceil(start);
      if (left > start) quant[j] += (left - start) * h[left - 1];
      const right = Math.floor(end);
      if (right < end) quant[j] += (end - right) * h[right];
      for (let k = left; k < right; k++) quant[j] += h[k];
    }
    const expand = new Array<number>(i).fill(0);
    for (let j = 0; j < levels; j++) {
      const start = j * perBin;
      const end = start + perBin;
      let count = 0;
      const left = Math.ceil(start);
      if (left > start && h[left - 1] !== 0) count += left - start;
      const right = Math.floor(end);
      if (right < end && h[right] !== 0) count += end - right;
      for (let k = left; k < right; k++) if (h[k] !== 0) count += 1;
      const value = quant[j] / count;
      if (left > start && h[left - 1] !== 0) expand[left - 1] += value * (left - start);
      if (right < end && h[right] !== 0) expand[right] += value * (end - right);
      for (let k = left; k < right; k++) if (h[k] !== 0) expand[k] += value;
    }
    let kld = 0;
    for (let k = 0; k < i; k++) if (clip[k] !== 0) kld += expand[k] === 0 ? (tensorRt ? Infinity : 1) : clip[k] * Math.log(clip[k] / expand[k]);
    if (kld < minKld) {
      minKld = kld;
      best = i;
    }
  }
  return best;
}

/** TensorRT's histogram of every value at once: interval absmax / 2048, floor, the top value in bin 2047. */
function exactHistogram(values: ArrayLike<number>, absMax: number): Float64Array {
  const counts = new Float64Array(TENSORRT_BINS);
  const interval = absMax / TENSORRT_BINS;
  for (let j = 0; j < values.length; j++) counts[Math.min(TENSORRT_BINS - 1, Math.floor(Math.abs(values[j]) / interval))]++;
  return counts;
}

describe('KL, TensorRT / Bolt form', () => {
  it('hand-worked: an alternating bulk in bins 0..127 and one outlier at bin 1000 -> 128', () => {
    // bins 0..127 alternate 100, 1 (S = 6464 counts), bin 1000 holds 1.
    // i = 128: groups of one bin (Q = h), the outlier folds into bin 127 (h = 1):
    //   KL = (2/6465) ln 2 = 2.1e-4
    // 129 <= i <= 1000: bin i-1 is empty but receives the outlier: P != 0, Q = 0 -> skipped (Bolt: 1)
    // i >= 1001: no tail, but groups of >= 7.8 bins flatten the 100/1 alternation:
    //   about (100 ln(100/50.5) + ln(1/50.5)) / 101 = 0.64 per pair of bins
    const histogram = new Float64Array(TENSORRT_BINS);
    for (let k = 0; k < 128; k++) histogram[k] = k % 2 ? 1 : 100;
    histogram[1000] = 1;
    expect(tensorRtKlBins(histogram)).toBe(128);
    expect(referenceBins(histogram)).toBe(128);
    expect(referenceBins(histogram, 128, false)).toBe(128);
  });

  it('degenerate: when every candidate folds mass into an empty bin, absmax instead of Bolt\'s 128', () => {
    // a tensor of zeros and +-absmax: bin 0 and bin 2047 (|x| = absmax) only; for each i bin 2047
    // is tail folded into the empty bin i-1 (P != 0, Q = 0): every KL is infinite (Bolt: 1)
    const histogram = new Float64Array(TENSORRT_BINS);
    histogram[0] = 5;
    histogram[TENSORRT_BINS - 1] = 5;
    expect(referenceBins(histogram, 128, false)).toBe(128); // Bolt: the first of the tied candidates
    expect(referenceBins(histogram)).toBe(2048);
    expect(tensorRtKlBins(histogram)).toBe(2048); // threshold 2048 * interval = absmax
  });

  it('a spike of zeros in bin 0 keeps Bolt\'s answer (TensorRT\'s bins[0] = bins[1] is not applied)', () => {
    // bin 0 holds 10000 (a ReLU's zeros, P0 = 10000/12047 = 0.83), bins 1..2047 one count each.
    // i = 128: the 1920 counts past bin 127 fold into it: KL = (1921/12047) ln 1921 = 1.20.
    // i = 2047: the spike shares a group of 16 bins: about 0.83 ln(10000 * 16 / 10015) = 2.30.
    // Each step past 128 costs the spike about 0.83 ln(1 + 1/128) = 0.0065 and saves the tail
    // (ln 1921 + 1) / 12047 = 0.0007: i = 128, threshold 1/16 of absmax (clippingWarnings flags it)
    const histogram = new Float64Array(TENSORRT_BINS).fill(1);
    histogram[0] = 10000;
    expect(referenceBins(histogram, 128, false)).toBe(128);
    expect(tensorRtKlBins(histogram)).toBe(128);
  });

  it('matches the bin-by-bin reference on random gappy histograms (128 and 8 levels)', () => {
    const next = seededUniform(23);
    for (let trial = 0; trial < 6; trial++) {
      const decay = 100 + next() * 600;
      const histogram = Float64Array.from({ length: TENSORRT_BINS }, (_, j) => (next() < 0.25 ? 0 : Math.floor(5000 * Math.exp(-j / decay) * next())));
      expect(tensorRtKlBins(histogram, 128)).toBe(referenceBins(histogram, 128));
      expect(tensorRtKlBins(histogram, 8)).toBe(referenceBins(histogram, 8));
    }
  });

  it('one sample of 2^18 N(0, 1) values: exactly the reference optimum of TensorRT\'s histogram', () => {
    const values = float32Values(1 << 18, seededNormal(77));
    const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 1 });
    acc.add(fullObservation(values));
    const stats = acc.result();
    const absMax = Math.max(-stats.min, stats.max);
    const best = referenceBins(exactHistogram(values, absMax));
    const entry = calibrateTensor('kl_tensorrt', stats, CONTEXT);
    expect(entry.threshold).toBeCloseTo(best * (absMax / TENSORRT_BINS), 9);
    expect(entry.threshold / absMax).toBeGreaterThan(0.5); // a Gaussian clips little at 8 bit
    expect(entry.threshold / absMax).toBeLessThan(1);
  });

  it('16 samples whose absmax grows: within a few TensorRT bins of the one-shot optimum', () => {
    const next = seededNormal(78);
    const samples = Array.from({ length: 16 }, (_, s) => float32Values(1 << 15, () => next() * (1 + s / 10)));
    const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 16 });
    for (const s of samples) acc.add(fullObservation(s));
    const stats = acc.result();
    const absMax = Math.max(-stats.min, stats.max);
    const all = new Float32Array(16 << 15);
    samples.forEach((s, k) => all.set(s, k << 15));
    const best = referenceBins(exactHistogram(all, absMax));
    const entry = calibrateTensor('kl_tensorrt', stats, CONTEXT);
    expect(Math.abs(entry.threshold / (absMax / TENSORRT_BINS) - best)).toBeLessThanOrEqual(4);
  });
});
