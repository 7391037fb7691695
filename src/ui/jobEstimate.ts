import { useRef } from 'react';
import type { Job } from '../state/store';

/** One progress report as it arrived. */
export interface ProgressSample {
  readonly at: number;
  readonly stage: string;
  readonly done: number;
  readonly total: number;
}

/** What the job bar says after the count: a time left it can stand by ('estimate'), or what is going on ('busy'). */
export interface JobEstimate {
  readonly kind: 'estimate' | 'busy';
  readonly text: string;
  /** The longer story, for the tooltip. */
  readonly title?: string;
}

/** Whole seconds past 10 s and minutes past 2 min: an estimate is not precise to the millisecond. */
export function roughDuration(ms: number): string {
  if (ms < 1000) return '<1 s';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A step may take this much longer than the average one before the average stops being an estimate. */
const STALL_FACTOR = 3;
const STALL_MIN_MS = 3000;

/**
 * The time left of a job from the pace of its current stage (not since the job started: a job's
 * stages go at different speeds), counting the time since the last report against it. No figure
 * when it cannot be had: before the first step, after the last step (a search's final
 * measurement: "12/12" for 25 s, issue 13), or when the current step has run several times the
 * average ("99 % · 548 ms left" for 20 s). It then says the stage and how long it has been on it.
 */
export function jobEstimate(job: Job, samples: readonly ProgressSample[], now: number): JobEstimate {
  const p = job.progress;
  if (!p) return { kind: 'busy', text: `starting… ${roughDuration(now - job.startedAt)}` };
  const last = samples[samples.length - 1];
  const lastAt = last?.at ?? job.startedAt;
  const since = now - lastAt;
  const stage = p.stage || 'working';
  if (p.total > 0 && p.done >= p.total) {
    return { kind: 'busy', text: `${stage}: finishing… ${roughDuration(since)}`, title: `Every step of "${stage}" is done; the job is finishing its work (no estimate for this part).` };
  }
  // The reports of the current stage, oldest first.
  let first = samples.length - 1;
  while (first > 0 && samples[first - 1].stage === p.stage && samples[first - 1].total === p.total && samples[first - 1].done <= samples[first].done) first--;
  const start = samples[first];
  let steps = last && start ? last.done - start.done : 0;
  let spent = last && start ? last.at - start.at : 0;
  if (steps <= 0 && first === 0 && p.done > 0) {
    // One report so far in the job's first stage: the pace since the job started.
    steps = p.done;
    spent = lastAt - job.startedAt;
  }
  if (steps <= 0 || spent <= 0) {
    return { kind: 'busy', text: `${stage}… ${roughDuration(now - (start?.at ?? job.startedAt))}`, title: 'No step of this stage has finished yet: no estimate.' };
  }
  const perStep = spent / steps;
  if (since > Math.max(STALL_MIN_MS, STALL_FACTOR * perStep)) {
    return { kind: 'busy', text: `${stage}: this step ${roughDuration(since)}`, title: `Steps took ${roughDuration(perStep)} on average; this one is taking longer, so there is no estimate.` };
  }
  const left = Math.max(0, (p.total - p.done) * perStep - since);
  return { kind: 'estimate', text: `~${roughDuration(left)} left`, title: `From the pace of "${stage}": ${roughDuration(perStep)} a step.` };
}

/** Progress reports per running job, as they arrive (the pace estimate needs their times). */
export function useProgressHistory(jobs: Readonly<Record<string, Job>>): ReadonlyMap<string, readonly ProgressSample[]> {
  const history = useRef(new Map<string, ProgressSample[]>());
  const seen = useRef(new Map<string, Job['progress']>());
  for (const id of history.current.keys()) {
    if (!jobs[id]) {
      history.current.delete(id);
      seen.current.delete(id);
    }
  }
  for (const job of Object.values(jobs)) {
    const p = job.progress;
    if (!p || seen.current.get(job.id) === p) continue;
    seen.current.set(job.id, p);
    const list = history.current.get(job.id) ?? [];
    list.push({ at: performance.now(), stage: p.stage, done: p.done, total: p.total });
    if (list.length > 200) list.splice(0, list.length - 200);
    history.current.set(job.id, list);
  }
  return history.current;
}
