import { describe, expect, it } from 'vitest';
import type { Job } from '../state/store';
import { jobEstimate, type ProgressSample } from './jobEstimate';

const job = (done: number, total: number, stage = 'evaluating'): Job => ({ id: 'job-1', kind: 'search', label: 'Bisection', startedAt: 0, progress: { stage, done, total } });
const at = (t: number, done: number, total: number, stage = 'evaluating'): ProgressSample => ({ at: t, stage, done, total });

describe('jobEstimate', () => {
  it('estimates from the pace of the current stage, counting the time since the last report', () => {
    const samples = [at(1000, 1, 10), at(2000, 2, 10), at(3000, 3, 10)];
    expect(jobEstimate(job(3, 10), samples, 3500)).toEqual(expect.objectContaining({ kind: 'estimate', text: '~6.5 s left' }));
  });

  it('gives no figure after the last step: it says the stage is finishing and for how long (bisection at 12/12 for 25 s)', () => {
    const samples = [at(1000, 11, 12), at(2000, 12, 12)];
    const e = jobEstimate(job(12, 12), samples, 27_000);
    expect(e.kind).toBe('busy');
    expect(e.text).toBe('evaluating: finishing… 25 s');
  });

  it('drops the estimate when a step runs far longer than the others (a ranking at 99 % for 20 s)', () => {
    const samples = Array.from({ length: 10 }, (_, i) => at(100 * (i + 1), 990 + i, 1000, 'sensitivity'));
    expect(jobEstimate(job(999, 1000, 'sensitivity'), samples, 1100).kind).toBe('estimate');
    const stalled = jobEstimate(job(999, 1000, 'sensitivity'), samples, 21_000);
    expect(stalled).toEqual(expect.objectContaining({ kind: 'busy', text: 'sensitivity: this step 20 s' }));
  });

  it('a new stage starts its own pace; before its first step it says what it is doing', () => {
    const samples = [at(1000, 5, 5, 'calibrating'), at(1200, 0, 3, 'evaluating')];
    expect(jobEstimate(job(0, 3), samples, 2200)).toEqual(expect.objectContaining({ kind: 'busy', text: 'evaluating… 1.0 s' }));
  });

  it('before any report: starting, with the time spent', () => {
    expect(jobEstimate({ ...job(0, 1), progress: null }, [], 4000).text).toBe('starting… 4.0 s');
  });
});
