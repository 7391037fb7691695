import { describe, expect, it } from 'vitest';
import { calibrateTensor } from '../calibrate';
import { TensorStatisticsAccumulator } from '../TensorStatistics';
import { float32Values, fullObservation, seededNormal, seededUniform } from '../testSupport';
import { tpuMlirKlThreshold } from './kl';

/**
 * Reference: TPU-MLIR's calibration_math.cpp `kl_calc_thread` transcribed loop for loop (P and Q
 * built bin by bin, every candidate from scratch), in float64. The production code sums the same
 * terms with prefix sums instead.
 */
function referenceKl(counts: Float64Array, width: number, dst: number): { threshold: number; kl: number[] } {
  const n = Math.ceil(counts.length / dst) * dst;
  const hist = new Float64Array(n);
  hist.set(counts);
  let count = 0;
  for (const c of hist) count += c;
  const kl: number[] = [];
  for (let i = dst; i < n + 1; i += dst) {
    const P = new Float64Array(i);
    for (let j = 0; j < n; j++) P[j > i - 1 ? i - 1 : j] += hist[j];
    for (let j = 0; j < i; j++) P[j] /= count;
    let sum = 0;
    for (let j = 0; j < i; j++) sum += hist[j];
    const Q = new Float64Array(i);
    const expand = i / dst;
    let idx = 0;
    for (let j = 0; j < dst; j++) {
      let sumBin = 0;
      let positive = 0;
      const first = idx;
      for (let k = 0; k < expand; k++, idx++) {
        sumBin += hist[idx];
        positive += hist[idx] > 0 ? 1 : 0;
      }
      positive = positive === 0 ? 1 : positive;
      const qBase = sumBin / positive / sum;
      for (let b = first; b < idx; b++) Q[b] = hist[b] ? qBase : 0;
    }
    let value = 0;
    for (let j = 0; j < i; j++) value += P[j] * (Math.log10(P[j] + 1e-30) - Math.log10(Q[j] + 1e-30));
    kl.push(value);
  }
  let m = 0;
  for (let j = 1; j < kl.length; j++) if (kl[m] > kl[j]) m = j;
  return { threshold: width * (m + 1) * dst, kl };
}

/** np.histogram(floor(|x| / width + 0.5), bins, range (0, bins - 1)) of every value, zeros removed. */
function numpyHistogram(values: Float32Array, bins: number): { counts: Float64Array; width: number } {
  let absMax = 0;
  for (const v of values) absMax = Math.max(absMax, Math.abs(v));
  const width = absMax / (bins - 1);
  const counts = new Float64Array(bins);
  for (const v of values) if (v !== 0) counts[Math.floor(Math.abs(v) / width + 0.5)]++;
  return { counts, width };
}

describe('KL, TPU-MLIR form', () => {
  it('hand-worked: 200 counts in the first 200 of 256 bins -> candidate 256 (KL 0) beats 128', () => {
    // i = 128: P = 1/200 in bins 0..126, bin 127 gets 1 + 72 (tail) -> 73/200; Q = hist / 128 = 1/128
    //   KL = 127/200 * log10(128/200) + 73/200 * log10(73/200 * 128) = -0.12307 + 0.60937 = 0.4863
    // i = 256: groups of 2 bins, Q = (2/2)/200 = P everywhere -> KL = 0 -> m = 1, th = 0.01 * 2 * 128
    const counts = new Float64Array(256).fill(1, 0, 200);
    expect(tpuMlirKlThreshold(counts, 0.01, 128)).toBeCloseTo(2.56, 12);
    expect(referenceKl(counts, 0.01, 128).kl[0]).toBeCloseTo(0.4863, 4);
  });

  it('matches the bin-by-bin reference on random, gappy and padded histograms, INT8 and INT4', () => {
    const next = seededUniform(17);
    for (let trial = 0; trial < 20; trial++) {
      const length = 300 + Math.floor(next() * 3000); // not a multiple of 128: padded
      const counts = Float64Array.from({ length }, (_, j) => (next() < 0.3 ? 0 : Math.floor(next() * 1000 * Math.exp(-j / 400))));
      for (const dst of [128, 8]) {
        const ours = tpuMlirKlThreshold(counts, 0.001, dst);
        expect(ours).toBeCloseTo(referenceKl(counts, 0.001, dst).threshold, 12);
      }
    }
  });

  it('on 2^20 seeded N(0, 1) values over 16 samples: the reference optimum of the one-shot histogram', () => {
    const next = seededNormal(2024);
    const samples = Array.from({ length: 16 }, () => float32Values(65536, next));
    let absMax = 0;
    let index = 0;
    samples.forEach((s, k) => s.forEach((v, j) => { if (Math.abs(v) > absMax) { absMax = Math.abs(v); index = k * 65536 + j; } }));
    // Put the global absmax in sample 0 so the streamed width equals the one-shot width.
    const owner = samples[Math.floor(index / 65536)];
    const swap = owner[index % 65536];
    owner[index % 65536] = samples[0][0];
    samples[0][0] = swap;
    const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 16 });
    for (const s of samples) acc.add(fullObservation(s));
    const stats = acc.result();
    const all = new Float32Array(16 * 65536);
    samples.forEach((s, k) => all.set(s, k * 65536));
    const oneShot = numpyHistogram(all, 2048);
    const reference = referenceKl(oneShot.counts, oneShot.width, 128);
    const entry = calibrateTensor('kl', stats, { bits: 8, position: 0, positionCount: 1, isGraphInput: false, histogramBins: 2048 });
    expect(entry.threshold).toBeCloseTo(Math.min(reference.threshold, absMax), 9);
    // INT4 (8 target bins) clips a Gaussian well inside its absmax
    const int4 = calibrateTensor('kl', stats, { bits: 4, position: 0, positionCount: 1, isGraphInput: false, histogramBins: 2048 });
    expect(int4.threshold).toBeCloseTo(Math.min(referenceKl(oneShot.counts, oneShot.width, 8).threshold, absMax), 9);
    expect(int4.threshold / absMax).toBeLessThan(0.9);
  });

  it('a narrow bulk with rare far outliers (Laplace b = 0.1, 1 in 10^4 at 10..40) is clipped far below absmax', () => {
    // Over the full range the bulk (|x| < ~1) fills only ~3 groups of 16 bins: Q flattens it and KL
    // grows with i (1.16e-1 at i = 2048); i = 128 folds only the outliers' 1e-4 of mass (KL 3.1e-3).
    const uniform = seededUniform(8);
    const sign = (): number => (uniform() < 0.5 ? -1 : 1);
    const values = float32Values(200000, () => (uniform() < 1e-4 ? sign() * (10 + 30 * uniform()) : sign() * -0.1 * Math.log(1 - uniform())));
    const { counts, width } = numpyHistogram(values, 2048);
    const reference = referenceKl(counts, width, 128).threshold;
    const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 1 });
    acc.add(fullObservation(values));
    const entry = calibrateTensor('kl', acc.result(), { bits: 8, position: 0, positionCount: 1, isGraphInput: false, histogramBins: 2048 });
    expect(entry.threshold).toBeCloseTo(reference, 9);
    expect(entry.threshold).toBeCloseTo(width * 128, 9); // the first candidate
    expect(entry.threshold / (width * 2047)).toBeLessThan(0.1);
  });
});
