import { describe, expect, it } from 'vitest';
import { classifierAgreement } from './taskMetrics';

describe('classifier agreement', () => {
  it('counts the rows whose float top-1 class is the quantized top-1, and is in the quantized top 5', () => {
    // 2 rows of 7 classes; row 0: same argmax (class 2); row 1: float picks 6, quantized picks 0 with 6 third
    const f = [0, 1, 9, 2, 3, 4, 5, /* row 1 */ 1, 2, 3, 4, 5, 6, 9];
    const q = [0, 1, 8, 2, 3, 4, 5, /* row 1 */ 9, 8, 3, 4, 5, 6, 7];
    expect(classifierAgreement(f, q, [2, 7])).toEqual({ top1: 0.5, top5: 1 });
    // row 1 with its float top class pushed to 6th place: out of the top 5 too
    const q2 = [0, 1, 8, 2, 3, 4, 5, /* row 1 */ 9, 8, 8, 8, 8, 8, 7];
    expect(classifierAgreement(f, q2, [2, 7])).toEqual({ top1: 0.5, top5: 0.5 });
  });
});
