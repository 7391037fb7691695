import type { JobContext } from '../../jobs/Job';
import { meanMetrics, type ErrorMetrics } from '../../metrics/similarity';
import type { Evaluation } from '../../model/Evaluation';
import { qtableToData, type QTable } from '../../model/QTable';
import { qdqOpset } from '../../export/buildQdqModel';
import { effectivePrecision } from '../../quant/schemes';
import type { SearchContext } from '../SearchContext';
import type { SearchPool } from './SearchPool';

/**
 * The 'outputs' evaluation with the samples split between a search pool's runners (the page's
 * what-if: one engine per core instead of one). The same QDQ model and the same means as the
 * Simulator's.
 */
export async function evaluateOutputsOnPool(pool: SearchPool, ctx: SearchContext, qtable: QTable, job: JobContext): Promise<Evaluation> {
  const started = performance.now();
  const perSample = await pool.outputErrors(qtable, ctx.samples.samples.length, job);
  const perOutput: Record<string, ErrorMetrics> = {};
  for (const name of ctx.model.graph.outputs.map((o) => o.name)) {
    const list = perSample.map((s) => s[name]).filter(Boolean);
    if (list.length) perOutput[name] = meanMetrics(list);
  }
  const precisions = [...ctx.layers.values()].map((l) => effectivePrecision(l, qtable, ctx.scheme));
  return {
    qtable: qtableToData(qtable), output: meanMetrics(Object.values(perOutput)), perOutput, layers: [],
    sampleCount: perSample.length, elapsedMs: performance.now() - started, opset: qdqOpset(ctx.model.opset, precisions),
  };
}
