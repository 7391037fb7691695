import type { ValueInfo } from '../engine/Engine';
import type { ModelGraph } from '../model/ModelGraph';

/**
 * What an output is for, detected from its shape (issue #11): a classifier's scores are judged by
 * whether the quantized model still picks the same classes, which a cosine does not say (a clipped
 * top logit keeps cos 0.99 and changes the answer).
 */
export type OutputTask = 'classifier' | 'other';

/** Classes below this are not a classification (a 2-D output of 1 is a score, not a choice). */
const MIN_CLASSES = 2;

/** The task of each graph output, by its shape: [N, C] (or [N, C, 1, 1]) with C >= 2 is a classifier. */
export function outputTasks(graph: ModelGraph, types: ReadonlyMap<string, ValueInfo>): Record<string, OutputTask> {
  const tasks: Record<string, OutputTask> = {};
  for (const { name } of graph.outputs) {
    const dims = types.get(name)?.dims;
    const classes = dims && (dims.length === 2 || (dims.length === 4 && dims[2] === 1 && dims[3] === 1)) ? dims[1] : null;
    tasks[name] = typeof classes === 'number' && classes >= MIN_CLASSES ? 'classifier' : 'other';
  }
  return tasks;
}

/** A classifier's agreement with float on one sample: the fraction of rows whose float top-1 class is the quantized top-1, and is among the quantized top 5. */
export interface Agreement {
  readonly top1: number;
  readonly top5: number;
}

/** Agreement over the rows of an [N, C, ...] output (C classes per row). */
export function classifierAgreement(reference: ArrayLike<number>, actual: ArrayLike<number>, dims: readonly number[]): Agreement {
  const rows = dims[0] || 1;
  const classes = reference.length / rows;
  let top1 = 0;
  let top5 = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let best = 0;
    for (let c = 1; c < classes; c++) if (reference[base + c] > reference[base + best]) best = c;
    let bestQ = 0;
    for (let c = 1; c < classes; c++) if (actual[base + c] > actual[base + bestQ]) bestQ = c;
    if (bestQ === best) top1++;
    // the float top-1 is within the quantized top 5 when fewer than 5 classes score above it
    let above = 0;
    for (let c = 0; c < classes && above < 5; c++) if (c !== best && actual[base + c] > actual[base + best]) above++;
    if (above < 5) top5++;
  }
  return { top1: top1 / rows, top5: top5 / rows };
}

/** The mean agreement over samples. */
export function meanAgreement(list: readonly Agreement[]): Agreement {
  if (list.length === 0) return { top1: NaN, top5: NaN };
  return { top1: list.reduce((s, a) => s + a.top1, 0) / list.length, top5: list.reduce((s, a) => s + a.top5, 0) / list.length };
}
