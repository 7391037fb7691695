import { describe, expect, it } from 'vitest';
import { TensorStatisticsAccumulator, type TensorStatistics } from './TensorStatistics';
import { float32Values, fullObservation, seededNormal, seededUniform } from './testSupport';

function accumulate(samples: readonly Float32Array[], expectedSamples = samples.length, histogramBins = 2048): TensorStatistics {
  const acc = new TensorStatisticsAccumulator({ histogramBins, expectedSamples });
  for (const s of samples) acc.add(fullObservation(s));
  return acc.result();
}

describe('TensorStatisticsAccumulator', () => {
  it('keeps exact global and per-sample extremes and the element counts', () => {
    const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 2 });
    acc.add({ min: -1, max: 2, count: 3, values: new Float32Array([-1, 0, 2]) });
    acc.add({ min: 0, max: 4, count: 10, values: new Float32Array([0, 1, 4]) }); // 3 of 10 sampled
    const stats = acc.result();
    expect([stats.min, stats.max, stats.sampleCount, stats.elementCount, stats.sampledCount]).toEqual([-1, 4, 2, 13, 6]);
    expect(Array.from(stats.sampleMins)).toEqual([-1, 0]);
    expect(Array.from(stats.sampleMaxs)).toEqual([2, 4]);
  });

  it('merging sample by sample gives the histogram of all values at once when the widths agree', () => {
    const next = seededNormal(21);
    const samples = Array.from({ length: 8 }, () => float32Values(5000, next));
    samples[0][17] = -8; // global absmax in sample 0: the width is 8 / 2047 from the start
    const merged = accumulate(samples);
    const once = accumulate([Float32Array.from(samples.flatMap((s) => Array.from(s)))]);
    expect(merged.klHistogram.width).toBe(once.klHistogram.width);
    expect(Array.from(merged.klHistogram.counts)).toEqual(Array.from(once.klHistogram.counts));
    expect(Array.from(merged.tensorRtHistogram.counts)).toEqual(Array.from(once.tensorRtHistogram.counts));
  });

  it('a later sample with a larger absmax extends the KL histogram with bins of the same width', () => {
    const stats = accumulate([Float32Array.from([0.5, -1]), Float32Array.from([3, 0])], 2, 2048);
    // width 1/2047 from sample 0; 3 needs floor(3 * 2047 + 0.5) + 1 = 6142 bins
    expect(stats.klHistogram.width).toBe(1 / 2047);
    expect(stats.klHistogram.counts.length).toBe(6142);
    expect(stats.klHistogram.counts[6141]).toBe(1);
    expect(stats.klHistogram.counts.reduce((a, b) => a + b, 0)).toBe(3); // the zero is not counted
  });

  it('sampled values count count/K elements each', () => {
    const acc = new TensorStatisticsAccumulator({ histogramBins: 16, expectedSamples: 1 });
    acc.add({ min: -1, max: 1, count: 100, values: new Float32Array([1, -1, 0.5, 0.25]) });
    const { counts } = acc.result().klHistogram;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100);
  });

  it('extreme sets hold the largest and smallest sampled values of the whole stream', () => {
    const next = seededUniform(4);
    const samples = Array.from({ length: 30 }, () => float32Values(2000, () => next() * 10 - 5));
    const stats = accumulate(samples, 30);
    // capacity int(30 * 2000 * (1 - 99.99/100)) + 1 = int(6.0000000000006) + 1 = 7
    const sorted = samples.flatMap((s) => Array.from(s)).sort((a, b) => a - b);
    expect(Array.from(stats.largest)).toEqual(sorted.slice(-7).reverse());
    expect(Array.from(stats.smallest)).toEqual(sorted.slice(0, 7));
  });

  it('memory stays flat: histogram lengths and extreme sets are the same after 10 and 200 samples', () => {
    const run = (n: number): TensorStatistics => {
      const next = seededUniform(99);
      const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 200 });
      for (let s = 0; s < n; s++) {
        const values = float32Values(1000, () => next() * 2 - 1);
        values[0] = 1; // the same absmax in every sample
        acc.add(fullObservation(values));
      }
      return acc.result();
    };
    const few = run(10);
    const many = run(200);
    expect(many.klHistogram.counts.length).toBe(few.klHistogram.counts.length);
    expect(many.klHistogram.counts.length).toBe(2048);
    expect(many.tensorRtHistogram.counts.length).toBe(few.tensorRtHistogram.counts.length);
    // capacity int(200 * 1000 * 1e-4) + 1 = 21 at both ends, whatever the number of samples
    expect([few.largest.length, few.smallest.length, many.largest.length, many.smallest.length]).toEqual([21, 21, 21, 21]);
    // only the per-sample scalars grow
    expect([few.sampleMins.length, many.sampleMins.length, few.octav[8].length, many.aciqLaplace[4].length]).toEqual([10, 200, 10, 200]);
  });

  it('result() is a plain snapshot: structured-cloneable and unchanged by later adds', () => {
    const acc = new TensorStatisticsAccumulator({ histogramBins: 64, expectedSamples: 2 });
    acc.add(fullObservation(Float32Array.from([-2, 1, 0.5])));
    const first = acc.result();
    const copy = structuredClone(first);
    acc.add(fullObservation(Float32Array.from([7, 3])));
    expect(copy).toEqual(first);
    expect(first.max).toBe(1);
    expect(first.klHistogram.counts.length).toBe(64);
    expect(acc.result().max).toBe(7);
  });

  it('per-sample OCTAV and ACIQ thresholds use that sample only (u from its exact min)', () => {
    const stats = accumulate([Float32Array.from([1, 2, 3, 4]), Float32Array.from([-1, 2, -3, 4])]);
    expect(stats.octav[8][0]).toBe(4 / ((3 * 4 ** -8) / 12 + 1)); // non-negative: u = 4
    expect(stats.octav[8][1]).toBe(4 / ((3 * 4 ** -8) / 3 + 1)); // signed: u = 1
    expect(stats.aciqLaplace[8][0]).toBeCloseTo(9.89675982 * 1, 12); // mean 2.5, mean|x - 2.5| = 1
  });

  it('an empty accumulator gives zeros, not Infinity', () => {
    const stats = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 1 }).result();
    expect([stats.sampleCount, stats.min, stats.max, stats.largest.length, stats.klHistogram.width]).toEqual([0, 0, 0, 0, 0]);
  });

  it('rejects observations it cannot use, with the reason', () => {
    const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 1 });
    expect(() => acc.add({ min: NaN, max: 1, count: 1, values: new Float32Array([1]) })).toThrow(
      new Error('observation has min NaN and max 1; calibration needs finite values with min <= max'),
    );
    expect(() => acc.add({ min: -Infinity, max: 1, count: 1, values: new Float32Array([1]) })).toThrow(
      new Error('observation has min -Infinity and max 1; calibration needs finite values with min <= max'),
    );
    expect(() => acc.add({ min: 0, max: 1, count: 2, values: new Float32Array(3) })).toThrow(
      new Error('observation has 3 sampled values of 2 elements; expected 1 or more elements and at most that many values'),
    );
    expect(() => new TensorStatisticsAccumulator({ histogramBins: 1, expectedSamples: 1 })).toThrow(new Error('histogramBins must be an integer >= 2, got 1'));
  });
});
