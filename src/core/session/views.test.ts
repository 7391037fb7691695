import { describe, expect, it } from 'vitest';
import { bestThresholdMethod, flagOutlierMethods, type ThresholdSearchRow } from './views';

const row = (method: ThresholdSearchRow['method'], cos: number, top1?: number): ThresholdSearchRow => ({
  method, output: { cos, mse: 0, sqnr: 0 }, ...(top1 !== undefined ? { tasks: { logits: { task: 'classifier', values: { top1, top5: 1 } } } } : {}),
});

describe('search_threshold recommendation (issue #11)', () => {
  it('on a classifier never picks a method that keeps fewer top-1 answers, whatever its cosine', () => {
    // MSE clips the top logit: best cosine, fewer samples keep their class
    expect(bestThresholdMethod([row('mse', 0.9949, 0.93), row('kl', 0.9866, 0.99), row('max', 0.95, 0.97)])).toBe('kl');
  });

  it('breaks equal agreement by cosine, and decides by cosine alone for other models', () => {
    expect(bestThresholdMethod([row('mse', 0.9949, 1), row('kl', 0.9866, 1)])).toBe('mse');
    expect(bestThresholdMethod([row('mse', 0.9949), row('kl', 0.9866)])).toBe('mse');
  });

  it('on a detector picks the method that keeps the detections (F1), not the best cosine', () => {
    const det = (method: ThresholdSearchRow['method'], cos: number, f1: number): ThresholdSearchRow => ({ method, output: { cos, mse: 0, sqnr: 0 }, tasks: { output0: { task: 'detector', values: { f1 } } } });
    expect(bestThresholdMethod([det('max', 0.9996, 0), det('kl', 0.998, 0.9)])).toBe('kl');
  });
});

describe('search_threshold flags a method far below the others (issue #11)', () => {
  it('a method whose all-INT8 output is at 0.000 gets a method-outlier warning; the others none', () => {
    const rows = flagOutlierMethods([row('max', 0.97), row('kl', 0.98), row('kl_tensorrt', 0), row('mse', 0.975)]);
    expect(rows.map((r) => r.warnings?.map((w) => w.kind) ?? [])).toEqual([[], [], ['method-outlier'], []]);
    expect(rows[2].warnings![0].message).toMatch(/kl_tensorrt: the all-INT8 output cos 0\.000000 is far below/);
  });
});
