import type { OutputPart, OutputSample } from './outputParts';
import { meanTaskFigures, type TaskFigures } from './taskMetrics';
import { partKey } from './outputParts';
import { meanMetrics, type ErrorMetrics } from './similarity';

/** Where the headline figure comes from: the worst output, or the worst part of one. */
export interface WorstOutput {
  readonly output: string;
  /** The part's name (a Concat input), or null for a whole output. */
  readonly part: string | null;
}

export interface OutputFigures {
  /** Each output whole, averaged over samples. */
  readonly perOutput: Record<string, ErrorMetrics>;
  /** Each part of an output built by a Concat, averaged over samples (keyed by partKey). */
  readonly perPart: Record<string, ErrorMetrics>;
  /** The worst-scoring part (by cosine), or output where it has no parts: what the header shows. */
  readonly worst: WorstOutput | null;
  /** Each task output's task figures (top-1 agreement, detection F1...), averaged over samples. */
  readonly tasks: Record<string, TaskFigures>;
  /** The worst's figures (issue #11: never a mean that hides a broken part). */
  readonly output: ErrorMetrics;
}

/** Averages per-sample figures (compareOutputs) and picks the worst part or output. */
export function outputFigures(samples: readonly OutputSample[], outputs: readonly string[], parts: readonly OutputPart[]): OutputFigures {
  const mean = (key: string): ErrorMetrics | null => {
    const list = samples.map((s) => s.figures[key]).filter((m): m is ErrorMetrics => m !== undefined);
    return list.length ? meanMetrics(list) : null;
  };
  const perOutput: Record<string, ErrorMetrics> = {};
  const perPart: Record<string, ErrorMetrics> = {};
  const candidates: { at: WorstOutput; metrics: ErrorMetrics }[] = [];
  for (const output of outputs) {
    const whole = mean(output);
    if (!whole) continue;
    perOutput[output] = whole;
    const own = parts.filter((p) => p.output === output);
    for (const part of own) {
      const metrics = mean(partKey(part));
      if (!metrics) continue;
      perPart[partKey(part)] = metrics;
      candidates.push({ at: { output, part: part.name }, metrics });
    }
    if (own.length === 0) candidates.push({ at: { output, part: null }, metrics: whole });
  }
  const tasks: Record<string, TaskFigures> = {};
  for (const output of outputs) {
    const mean = meanTaskFigures(samples.map((s) => s.tasks[output]).filter((t): t is TaskFigures => t !== undefined));
    if (mean) tasks[output] = mean;
  }
  if (candidates.length === 0) return { perOutput, perPart, tasks, worst: null, output: { cos: NaN, mse: NaN, sqnr: NaN } };
  // NaN cosines (nothing to compare) never win; a lower cosine is worse.
  const worst = candidates.reduce((a, b) => (Number.isNaN(a.metrics.cos) || b.metrics.cos < a.metrics.cos ? b : a));
  return { perOutput, perPart, tasks, worst: worst.at, output: worst.metrics };
}
