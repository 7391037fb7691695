/**
 * Every calibrator against its toolchain's formula on real activations (issue #11): the fixture
 * (test/fixtures/histograms, scripts/captureHistograms.ts) holds what the statistics pass gave the
 * calibrators for tensors of corpus models. Each reference below is written from the toolchain's
 * source, straightforwardly (sorts, bin-by-bin loops, no prefix sums), and imports nothing from the
 * code under test; the calibrators run through calibrateTensor as the workbench runs them.
 */
import { describe, expect, it } from 'vitest';
import { histogramOf, observationOf, readHistogramFixture, type StoredTensor } from '../../../../test/support/histogramFixture';
import { calibrateTensor } from '../calibrate';
import { TensorStatisticsAccumulator, type SampleObservation, type TensorStatistics } from '../TensorStatistics';
import { seededUniform } from '../testSupport';
import type { CalibrationMethod } from '../../model/CaliTable';
import type { MethodContext } from './Calibrator';

const fixture = readHistogramFixture();

/** One tensor as the calibrators see it: its observations, and the statistics they make. */
interface Case {
  readonly name: string;
  readonly observations: readonly SampleObservation[];
  readonly context: MethodContext;
  readonly stats: TensorStatistics;
}

function caseOf(name: string, observations: readonly SampleObservation[], context: Omit<MethodContext, 'bits' | 'histogramBins'>): Case {
  const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: observations.length });
  for (const o of observations) acc.add(o);
  return { name, observations, context: { bits: 8, histogramBins: 2048, ...context }, stats: acc.result() };
}

function storedCase(t: StoredTensor): Case {
  return caseOf(`${t.model} ${t.op} ${t.tensor.length > 40 ? `…${t.tensor.slice(-32)}` : t.tensor}`, t.observations.map(observationOf), t);
}

/** Observations of a sample of `count` elements whose sampled values are `values`. */
function observed(values: Float32Array, count: number): SampleObservation {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return { min, max, count, values };
}

/**
 * The reported case (issue #11): a Clip(0, 6) spread evenly over 0..6, here Clip(0, 6) of U(-1, 7)
 * (an eighth of the values at each bound, as a Clip's output has them). Two samples of 19,200
 * elements of which 4096 are sampled each, as the statistics pass samples them (8192 values over
 * 2048 bins: sparse), with the exact range [0, 6].
 */
function uniformClip(): Case {
  const next = seededUniform(611);
  const sample = () => ({ ...observed(Float32Array.from({ length: 4096 }, () => Math.min(6, Math.max(0, -1 + 8 * next()))), 19200), min: 0, max: 6 });
  return caseOf('synthetic Clip(0, 6) of U(-1, 7)', [sample(), sample()], { position: 40, positionCount: 600, isGraphInput: false });
}

const CASES: readonly Case[] = [...fixture.tensors.map(storedCase), uniformClip()];

// ---------------------------------------------------------------------------------------------
// References, one per method, from the toolchains' sources.

const MIN_THRESHOLD = 1e-5; // TPU-MLIR kld_calibrator.py: an all-zero layer gets 1e-5
const floor = (th: number) => (th > MIN_THRESHOLD ? th : MIN_THRESHOLD);
const absMaxOf = (c: Case) => Math.max(...c.observations.map((o) => Math.max(Math.abs(o.min), Math.abs(o.max))));
const allValues = (c: Case) => c.observations.flatMap((o) => Array.from(o.values));
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** TPU-MLIR use_max: max |x| over every element (exact min/max). */
function referenceMax(c: Case): number {
  return floor(absMaxOf(c));
}

/**
 * TPU-MLIR use_percentile9999 (kld_calibrator.py `process_statistic` / `process_compute_threshold`):
 * per = 99.99 + i * (99.999999 - 99.99) / n; k = int(M (1 - per/100)) + 1; of the sorted values,
 * res_max = the k largest ascending, res_min = the k smallest descending; inter = M - 1,
 * ratio = frac(per/100 * inter); v = res[0] + ratio * (res[1] - res[0]) (res[0] alone when k = 1).
 * M counts the values the calibrators receive (the sampled ones).
 */
function referencePercentile9999(c: Case): number {
  const per = 99.99 + c.context.position * ((99.999999 - 99.99) / c.context.positionCount);
  const sorted = allValues(c).sort((a, b) => a - b);
  const m = sorted.length;
  const k = Math.trunc(m * (1 - per / 100)) + 1;
  const resMax = sorted.slice(m - k);
  const resMin = sorted.slice(0, k).reverse();
  const inter = m - 1;
  const ratio = (per / 100) * inter - Math.trunc((per / 100) * inter);
  const vMax = k !== 1 ? resMax[0] + ratio * (resMax[1] - resMax[0]) : resMax[0];
  const vMin = k !== 1 ? resMin[0] + ratio * (resMin[1] - resMin[0]) : resMin[0];
  return floor(Math.max(Math.abs(vMax), Math.abs(vMin)));
}

/** ONE record-minmax getNthPercentile (RecordFunction.cpp). */
function onePercentile(values: readonly number[], p: number): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 1) return v[0];
  const index = Math.floor(((v.length - 1) * p) / 100);
  const fraction = (p / 100 - index / (v.length - 1)) / ((index + 1) / (v.length - 1) - index / (v.length - 1));
  return v[index] + fraction * (v[index + 1] - v[index]);
}

/** ONE minmax_percentile: 1st percentile of the per-sample minima, 99th of the maxima. */
function referenceMinmaxPercentile(c: Case): number {
  const min = onePercentile(c.observations.map((o) => o.min), 1);
  const max = onePercentile(c.observations.map((o) => o.max), 99);
  return floor(Math.max(Math.abs(min), Math.abs(max)));
}

/** ONE moving_average: batches of 16 samples, avg = avg * 0.9 + batch extreme * 0.1 from the first batch's. */
function referenceMovingAverage(c: Case): number {
  const average = (xs: readonly number[], pick: (...v: number[]) => number) => {
    let avg = pick(...xs.slice(0, 16));
    for (let b = 16; b < xs.length; b += 16) avg = avg * 0.9 + pick(...xs.slice(b, b + 16)) * 0.1;
    return avg;
  };
  return floor(Math.max(Math.abs(average(c.observations.map((o) => o.min), Math.min)), Math.abs(average(c.observations.map((o) => o.max), Math.max))));
}

/**
 * TPU-MLIR's KL (calibration_math.cpp `kl_calc_thread`, kld_calibrator.py `find_threshold`): the
 * histogram padded with zeros to a multiple of 128; for i = 128, 256, ..: P = hist[0:i], the tail
 * added to bin i-1, over the total; Q = each group of i/128 bins' sum spread over its non-empty
 * bins, over sum(hist[0:i]); KL = sum P (log10(P + 1e-30) - log10(Q + 1e-30)); the first minimum m
 * gives width * (m + 1) * 128, capped at absmax.
 */
function referenceKl(c: Case, counts: Float64Array, width: number): number {
  const n = Math.ceil(counts.length / 128) * 128;
  const hist = Array.from({ length: n }, (_, j) => counts[j] ?? 0);
  const total = hist.reduce((a, b) => a + b, 0);
  const kl: number[] = [];
  for (let i = 128; i <= n; i += 128) {
    const p = hist.slice(0, i);
    p[i - 1] += hist.slice(i).reduce((a, b) => a + b, 0);
    const inside = hist.slice(0, i).reduce((a, b) => a + b, 0);
    const q = new Array<number>(i).fill(0);
    const expand = i / 128;
    for (let g = 0; g < 128; g++) {
      const group = hist.slice(g * expand, (g + 1) * expand);
      const positive = group.filter((h) => h > 0).length || 1;
      const base = group.reduce((a, b) => a + b, 0) / positive / inside;
      group.forEach((h, k) => (q[g * expand + k] = h ? base : 0));
    }
    kl.push(p.reduce((sum, pj, j) => sum + (pj / total) * (Math.log10(pj / total + 1e-30) - Math.log10(q[j] + 1e-30)), 0));
  }
  let m = 0;
  kl.forEach((v, j) => { if (kl[m] > v) m = j; });
  return floor(Math.min(width * (m + 1) * 128, absMaxOf(c)));
}

/**
 * TensorRT's entropy calibration as Bolt loops it (quantize.cpp `compute_scale_with_KL`,
 * `compute_KLD`), with TensorRT's rule (NVIDIA pytorch-quantization `_compute_amax_entropy`) where
 * Bolt differs on sampled histograms: a candidate with P != 0 where Q = 0 has an infinite KL (Bolt
 * adds 1); all infinite gives the histogram length. `bolt` gives Bolt's own loop. Returns the best i.
 */
function referenceTensorRtBins(histogram: Float64Array, bolt = false): number {
  const sum = histogram.reduce((a, b) => a + b, 0);
  const h = Array.from(histogram, (b) => b / sum);
  let minKld = bolt ? 2048 : Infinity;
  let best = bolt ? 128 : histogram.length;
  for (let i = 128; i < h.length; i++) {
    const p = h.slice(0, i);
    p[i - 1] += h.slice(i).reduce((a, b) => a + b, 0);
    const q = new Array<number>(i).fill(0);
    const per = i / 128;
    for (let j = 0; j < 128; j++) {
      const start = j * per;
      const end = start + per;
      // each bin's overlap with [start, end), and the group's mass over its non-empty overlap
      const overlap = (k: number) => Math.max(0, Math.min(end, k + 1) - Math.max(start, k));
      let mass = 0;
      let count = 0;
      for (let k = Math.floor(start); k < Math.min(i, Math.ceil(end)); k++) {
        mass += overlap(k) * h[k];
        if (h[k] !== 0) count += overlap(k);
      }
      for (let k = Math.floor(start); k < Math.min(i, Math.ceil(end)); k++) if (h[k] !== 0) q[k] += (mass / count) * overlap(k);
    }
    let kld = 0;
    for (let k = 0; k < i; k++) if (p[k] !== 0) kld += q[k] === 0 ? (bolt ? 1 : Infinity) : p[k] * Math.log(p[k] / q[k]);
    if (kld < minKld) {
      minKld = kld;
      best = i;
    }
  }
  return best;
}

function referenceKlTensorRt(c: Case, counts: Float64Array, width: number): number {
  return floor(Math.min(referenceTensorRtBins(counts) * width, absMaxOf(c)));
}

/**
 * TPU-MLIR use_mse (cali_math.py `threshold_mse`, OCTAV): per sample, u = 4 if |min| < 1e-6 else 1,
 * s0 = sum|x| / count(|x| > 0); up to 20 times s' = sum_{|x|>s}|x| / (4^-8/3/u count(|x|<=s) +
 * count(|x|>s)), stop (keeping s) when |s' - s| < 1e-6; the mean over samples, capped at absmax;
 * graph inputs take absmax. (qbench picks u = 4 for min >= 0: the same on every tensor here.)
 */
function referenceMse(c: Case): number {
  if (c.context.isGraphInput) return floor(absMaxOf(c));
  const perSample = c.observations.map((o) => {
    const unsigned = Math.abs(o.min) < 1e-6 ? 4 : 1;
    const abs = Array.from(o.values, Math.abs);
    let s = abs.reduce((a, b) => a + b, 0) / abs.filter((a) => a > 0).length;
    for (let step = 0; step < 20; step++) {
      const above = abs.filter((a) => a > s);
      const next = above.reduce((a, b) => a + b, 0) / ((1 / 4 ** 8 / 3 / unsigned) * (abs.length - above.length) + above.length);
      if (Math.abs(next - s) < 1e-6) break;
      s = next;
    }
    return s;
  });
  return floor(Math.min(mean(perSample), absMaxOf(c)));
}

/** TPU-MLIR use_aciq_gauss (`threshold_aciq_gauss`): 3.92403337 (max - min) 0.175 (1 + sqrt(pi ln 4)) / sqrt(2 ln N), averaged, capped. */
function referenceAciqGauss(c: Case): number {
  if (c.context.isGraphInput) return floor(absMaxOf(c));
  const perSample = c.observations.map((o) => 3.92403337 * (((o.max - o.min) * (0.5 * 0.35) * (1 + Math.sqrt(Math.PI * Math.log(4)))) / Math.sqrt(2 * Math.log(o.count))));
  return floor(Math.min(mean(perSample), absMaxOf(c)));
}

/** TPU-MLIR use_aciq_laplace (`threshold_aciq_laplace`): 9.89675982 mean|x - mean(x)|, averaged, capped. */
function referenceAciqLaplace(c: Case): number {
  if (c.context.isGraphInput) return floor(absMaxOf(c));
  const perSample = c.observations.map((o) => {
    const values = Array.from(o.values);
    const m = mean(values);
    return 9.89675982 * mean(values.map((v) => Math.abs(v - m)));
  });
  return floor(Math.min(mean(perSample), absMaxOf(c)));
}

// ---------------------------------------------------------------------------------------------
// The histograms the KL methods receive, rebuilt from the values by the toolchains' binning.

/** TPU-MLIR's |x| histogram (cali_math.py `histogram`): zeros out, width = absmax of the first sample / 2047, bin floor(|x| / w + 0.5); qbench grows it by bins of the same width (algorithms.md §2). */
function referenceKlHistogram(c: Case): { counts: Float64Array; width: number } {
  let running = 0;
  let width = 0;
  let counts = new Float64Array(0);
  for (const o of c.observations) {
    running = Math.max(running, Math.abs(o.min), Math.abs(o.max));
    if (width === 0) {
      width = running / 2047;
      counts = new Float64Array(2048);
    }
    const needed = Math.floor(running / width + 0.5) + 1;
    if (needed > counts.length) {
      const grown = new Float64Array(needed);
      grown.set(counts);
      counts = grown;
    }
    for (const v of o.values) if (v !== 0) counts[Math.floor(Math.abs(v) / width + 0.5)] += o.count / o.values.length;
  }
  return { counts, width };
}

/** Bolt's `update_histogram` over every value with the final absmax: interval absmax / 2048, bin floor(|x| / interval), the last bin holding absmax. */
function referenceTensorRtHistogram(c: Case): { counts: Float64Array; width: number } {
  const interval = absMaxOf(c) / 2048;
  const counts = new Float64Array(2048);
  for (const o of c.observations) for (const v of o.values) counts[Math.min(2047, Math.floor(Math.abs(v) / interval))] += o.count / o.values.length;
  return { counts, width: interval };
}

/** Whether the absmax reached its final value in the first sample (then one-pass histograms are exact). */
const absMaxFromFirstSample = (c: Case) => Math.max(Math.abs(c.observations[0].min), Math.abs(c.observations[0].max)) === absMaxOf(c);

// ---------------------------------------------------------------------------------------------

const REFERENCES: Readonly<Record<CalibrationMethod, (c: Case) => number>> = {
  max: referenceMax,
  percentile9999: referencePercentile9999,
  minmax_percentile: referenceMinmaxPercentile,
  moving_average: referenceMovingAverage,
  kl: (c) => referenceKl(c, c.stats.klHistogram.counts, c.stats.klHistogram.width),
  kl_tensorrt: (c) => referenceKlTensorRt(c, c.stats.tensorRtHistogram.counts, c.stats.tensorRtHistogram.width),
  mse: referenceMse,
  aciq_gauss: referenceAciqGauss,
  aciq_laplace: referenceAciqLaplace,
};

describe('the fixture: real activations of corpus models', () => {
  it('holds varied tensors, and its stored histograms are the ones the observations build', () => {
    expect(fixture.tensors.length).toBeGreaterThanOrEqual(6);
    for (const t of fixture.tensors) {
      const c = storedCase(t);
      const kl = histogramOf(t.klHistogram);
      const trt = histogramOf(t.tensorRtHistogram);
      expect(c.stats.klHistogram.width).toBe(kl.width);
      expect(Array.from(c.stats.klHistogram.counts)).toEqual(Array.from(kl.counts));
      expect(c.stats.tensorRtHistogram.width).toBe(trt.width);
      expect(Array.from(c.stats.tensorRtHistogram.counts)).toEqual(Array.from(trt.counts));
    }
  });
});

describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
  it('its KL histograms are the toolchains\' binning of the values', () => {
    const kl = referenceKlHistogram(c);
    expect(c.stats.klHistogram.width).toBe(kl.width);
    expect(Array.from(c.stats.klHistogram.counts)).toEqual(Array.from(kl.counts));
    const trt = referenceTensorRtHistogram(c);
    expect(c.stats.tensorRtHistogram.width).toBeCloseTo(trt.width, 15);
    if (absMaxFromFirstSample(c)) {
      expect(Array.from(c.stats.tensorRtHistogram.counts)).toEqual(Array.from(trt.counts));
    } else {
      // the one-pass re-binning splits fine bins cut by an edge (algorithms.md §2): no mass moves
      // by more than one bin, so each cumulative count lies between the reference's at k-1 and k+1
      const cumulative = (h: Float64Array) => {
        let sum = 0;
        return Array.from(h, (v) => (sum += v));
      };
      const ours = cumulative(c.stats.tensorRtHistogram.counts);
      const reference = cumulative(trt.counts);
      const slack = 1e-9 * reference[2047];
      expect(ours[2047]).toBeCloseTo(reference[2047], 6);
      ours.forEach((v, k) => {
        expect(v).toBeGreaterThanOrEqual((reference[k - 1] ?? 0) - slack);
        expect(v).toBeLessThanOrEqual(reference[Math.min(2047, k + 1)] + slack);
      });
    }
  });

  it.each(Object.keys(REFERENCES) as CalibrationMethod[])('%s equals the reference formula', (method) => {
    const ours = calibrateTensor(method, c.stats, c.context).threshold;
    const reference = REFERENCES[method](c);
    // the same float64 sums in another order; one TensorRT/KL bin is absmax / 2048
    expect(Math.abs(ours - reference)).toBeLessThanOrEqual(1e-9 * Math.max(1, reference));
  });
});

describe('issue #11: the TensorRT-form KL on a Clip(0, 6) spread over 0..6', () => {
  const byTensor = (part: string) => CASES.find((c) => c.name.includes(part))!;
  const kl = (c: Case) => calibrateTensor('kl_tensorrt', c.stats, c.context).threshold;
  const boltThreshold = (c: Case) => referenceTensorRtBins(c.stats.tensorRtHistogram.counts, true) * c.stats.tensorRtHistogram.width;

  it.each([
    // [case, Bolt's own loop (the threshold before the fix), the least threshold now]
    ['p2o.Clip.23', 0.416, 5.99], // PP-OCRv4 det, a hardswish's Clip(0, 6): 96 % of the mass folded into the empty bin 141
    ['synthetic Clip(0, 6)', 0.428, 5.98], // the issue's 0.43 on an even 0..6: 82 % folded into an empty bin
  ] as const)('%s: Bolt\'s loop %f on the sampled histogram, now above %f', (part, bolt, least) => {
    const c = byTensor(part);
    expect(boltThreshold(c)).toBeCloseTo(bolt, 3);
    expect(kl(c)).toBeGreaterThan(least);
  });

  it('a ReLU6 or ReLU half zeros stays clipped as Bolt clips it (the zeros in bin 0 choose i near 128)', () => {
    // M-LSD's ReLU6 (56 % zeros): i = 130 (Bolt's loop took 176, an empty bin i-1); BlazeFace's ReLU
    // (65 % zeros): i = 171, as Bolt. clippingWarnings.test.ts checks that both are flagged.
    expect(kl(byTensor('block_5_depthwise'))).toBeCloseTo((130 * 6) / 2048, 9);
    expect(boltThreshold(byTensor('block_5_depthwise'))).toBeCloseTo((176 * 6) / 2048, 9);
    const relu = byTensor('re_lu_4');
    expect(kl(relu)).toBeCloseTo(boltThreshold(relu), 12);
    expect(kl(relu) / relu.stats.max).toBeCloseTo(171 / 2048, 9);
  });
});
