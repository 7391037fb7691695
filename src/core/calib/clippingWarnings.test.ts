import { describe, expect, it } from 'vitest';
import { observationOf, readHistogramFixture } from '../../../test/support/histogramFixture';
import { CALIBRATION_METHODS, type CaliEntry } from '../model/CaliTable';
import { calibrateTensor } from './calibrate';
import { clippingOf, clippingWarnings, DEFAULT_CLIPPING_CRITERIA } from './clippingWarnings';
import { TensorStatisticsAccumulator, type TensorStatistics } from './TensorStatistics';

/** Statistics of a tensor whose |x| histogram has width 1 and the given counts (bin k about k). */
function histogramStats(counts: number[], elementCount: number, max: number): TensorStatistics {
  const acc = new TensorStatisticsAccumulator({ histogramBins: 8, expectedSamples: 1 });
  return { ...acc.result(), min: 0, max, elementCount, sampleCount: 1, klHistogram: { width: 1, counts: Float64Array.from(counts) } };
}

describe('clippingOf', () => {
  it('hand-worked: the share of values above the threshold and of sum |x| it cuts', () => {
    // bins 1..4 hold one value each, 10 elements (6 zeros), max |x| 4, threshold 2.5:
    // bin 2 [1.5, 2.5) is below; bin 3 [2.5, 3.5) above, mean cut 0.5; bin 4 [3.5, 4] above, mean cut 1.25
    // sum |x| = 1 + 2 + 3 + 3.75 (bin 4 ends at max 4) = 9.75 -> cut 1.75 / 9.75
    const stats = histogramStats([0, 1, 1, 1, 1], 10, 4);
    const clipping = clippingOf(stats, 2.5);
    expect(clipping.clippedFraction).toBeCloseTo(0.2, 12);
    expect(clipping.clippedMagnitude).toBeCloseTo(1.75 / 9.75, 12);
  });

  it('a bin the threshold cuts counts in part; at max |x| nothing is cut', () => {
    // threshold 3: half of bin 3 [2.5, 3.5) lies above, its cut averages 0.25
    const stats = histogramStats([0, 1, 1, 1, 1], 10, 4);
    expect(clippingOf(stats, 3).clippedFraction).toBeCloseTo(1.5 / 10, 12);
    expect(clippingOf(stats, 3).clippedMagnitude).toBeCloseTo((0.5 * 0.25 + 0.75) / 9.75, 12);
    expect(clippingOf(stats, 4)).toEqual({ clippedFraction: 0, clippedMagnitude: 0 });
  });

  it('an all-zero tensor (width 0) is never clipped', () => {
    const acc = new TensorStatisticsAccumulator({ histogramBins: 8, expectedSamples: 1 });
    acc.add({ min: 0, max: 0, count: 4, values: new Float32Array(4) });
    expect(clippingOf(acc.result(), 1e-5)).toEqual({ clippedFraction: 0, clippedMagnitude: 0 });
  });
});

describe('clippingWarnings on the real activations of the fixture', () => {
  const fixture = readHistogramFixture();
  const statistics = new Map(fixture.tensors.map((t) => {
    const acc = new TensorStatisticsAccumulator({ histogramBins: fixture.histogramBins, expectedSamples: t.observations.length });
    for (const o of t.observations) acc.add(observationOf(o));
    return [t.tensor, acc.result()] as const;
  }));
  const entries = (method: (typeof CALIBRATION_METHODS)[number]) => new Map(fixture.tensors.map((t) => [t.tensor, calibrateTensor(method, statistics.get(t.tensor)!, { bits: 8, histogramBins: fixture.histogramBins, position: t.position, positionCount: t.positionCount, isGraphInput: t.isGraphInput })] as const));
  const label = (tensor: string) => {
    const t = fixture.tensors.find((x) => x.tensor === tensor)!;
    return `${t.model} ${t.op}`;
  };

  it('stay quiet on ordinary clipping and name the methods that clip a layer away', () => {
    const flagged = CALIBRATION_METHODS.flatMap((m) => clippingWarnings(entries(m), statistics).map((w) => `${w.method} ${label(w.tensor)}`));
    // max, the percentiles, TPU-MLIR's KL and MSE cut at most 16.5 % of a tensor's magnitude here.
    // The TensorRT-form KL (Bolt's loop) keeps a ReLU6 and a ReLU that are half zeros near 1/16 of
    // their range (M-LSD block_5: 0.381 of 6; BlazeFace re_lu_4: 0.438 of 5.25); ACIQ-Gauss takes a
    // Clip(0, 6) spread over 0..6 to 2.86 (36 % cut), and both ACIQ forms take M-LSD's
    // near-constant tensor (about -1, 0.014 wide) to 0.006 and 0.014 (99 % cut)
    expect(flagged).toEqual([
      'kl_tensorrt mlsd_tiny Clip',
      'kl_tensorrt blazeface_front Relu',
      'aciq_gauss ppocr_v4_det Clip',
      'aciq_gauss mlsd_tiny Transpose',
      'aciq_laplace mlsd_tiny Transpose',
    ]);
  });

  it('the issue #11 threshold (Bolt\'s KL loop: 0.416 on a Clip(0, 6)) is flagged, with its figures', () => {
    const stats = statistics.get('p2o.Clip.23')!;
    const entry: CaliEntry = { threshold: 0.416, min: 0, max: 0.416, source: 'kl_tensorrt' };
    const [warning] = clippingWarnings(new Map([['p2o.Clip.23', entry]]), statistics);
    expect(warning.tensor).toBe('p2o.Clip.23');
    expect(warning.method).toBe('kl_tensorrt');
    expect(warning.threshold).toBe(0.416);
    expect(warning.max).toBe(6);
    expect(warning.clippedFraction).toBeGreaterThan(0.95);
    expect(warning.clippedMagnitude).toBeGreaterThan(0.85);
    expect(warning.message).toBe(`kl_tensorrt clips p2o.Clip.23 at 0.416, 7 % of its max |x| 6.00: ${(100 * warning.clippedFraction).toFixed(0)} % of its values lie above and ${(100 * warning.clippedMagnitude).toFixed(0)} % of its magnitude is cut off`);
    expect(clippingOf(stats, 0.416)).toEqual({ clippedFraction: warning.clippedFraction, clippedMagnitude: warning.clippedMagnitude });
  });

  it('tensors without statistics are skipped; the criterion can be set', () => {
    const table = entries('kl');
    expect(clippingWarnings(new Map([['not calibrated', table.values().next().value!]]), statistics)).toEqual([]);
    // TPU-MLIR's KL on Conv__222 (signed, heavy tail) cuts 16.5 %: flagged once the bar is 10 %
    expect(DEFAULT_CLIPPING_CRITERIA.minClippedMagnitude).toBe(0.25);
    expect(clippingWarnings(table, statistics, { minClippedMagnitude: 0.1 }).map((w) => w.tensor)).toEqual(['Conv__222:0']);
  });
});
