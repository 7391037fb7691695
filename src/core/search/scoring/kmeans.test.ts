import { describe, expect, it } from 'vitest';
import { twoMeans } from './kmeans';

describe('twoMeans', () => {
  it('two clearly separated groups of [cos loss, SQNR dB]: the high-loss group is cluster 1', () => {
    const points = [[0.001, 41], [0.002, 39], [0.0015, 40], [0.3, 12], [0.32, 10]];
    expect(twoMeans(points)).toEqual([0, 0, 0, 1, 1]);
  });

  it('labels the high first-feature cluster 1 whatever the order of the points', () => {
    const points = [[0.32, 10], [0.001, 41], [0.3, 12], [0.002, 39], [0.0015, 40]];
    expect(twoMeans(points)).toEqual([1, 0, 1, 0, 0]);
  });

  it('standardizes each feature: the dB feature, 10^4 times larger, does not decide alone', () => {
    // Unstandardized, the fourth point (SQNR 26 dB, nearer 20-22 than 40-44) joins the high-loss
    // group: [0, 0, 0, 1, 1, 1]. Standardized, its loss puts it with the low-loss layers.
    const points = [[0.001, 40], [0.002, 42], [0.0015, 44], [0.001, 26], [0.5, 20], [0.45, 22]];
    expect(twoMeans(points)).toEqual([0, 0, 0, 0, 1, 1]);
    // and the result does not change with the unit of either feature
    expect(twoMeans(points.map(([loss, db]) => [loss, db * 1000]))).toEqual([0, 0, 0, 0, 1, 1]);
    expect(twoMeans(points.map(([loss, db]) => [loss * 1e-3, db]))).toEqual([0, 0, 0, 0, 1, 1]);
  });

  it('is deterministic: the same points give the same clusters every time', () => {
    const points = Array.from({ length: 40 }, (_, i) => [((i * 37) % 41) / 41, ((i * 11) % 13) * 3]);
    const first = twoMeans(points);
    for (let k = 0; k < 5; k++) expect(twoMeans(points)).toEqual(first);
    expect(new Set(first)).toEqual(new Set([0, 1]));
  });

  it('one point: cluster 0; no points: no clusters', () => {
    expect(twoMeans([[0.2, 15]])).toEqual([0]);
    expect(twoMeans([])).toEqual([]);
  });

  it('identical points (zero spread in every feature) all fall in cluster 0, without NaN', () => {
    expect(twoMeans([[0.1, 30], [0.1, 30], [0.1, 30]])).toEqual([0, 0, 0]);
  });

  it('a constant second feature: the first decides', () => {
    expect(twoMeans([[0.9, 5], [0.1, 5], [0.85, 5], [0.05, 5]])).toEqual([1, 0, 1, 0]);
  });
});
