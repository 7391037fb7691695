import { describe, expect, it } from 'vitest';
import { bestThresholdMethod, type ThresholdSearchRow } from './views';

const row = (method: ThresholdSearchRow['method'], cos: number, top1?: number): ThresholdSearchRow => ({
  method, output: { cos, mse: 0, sqnr: 0 }, ...(top1 !== undefined ? { agreement: { logits: { top1, top5: 1 } } } : {}),
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
});
