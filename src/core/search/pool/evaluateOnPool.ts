import type { JobContext } from '../../jobs/Job';
import { outputFigures } from '../../metrics/outputFigures';
import { valueRanges, type OutputPart, type OutputSample } from '../../metrics/outputParts';
import { warningsOf } from '../../metrics/collapseWarnings';
import { outputQuantizers } from '../../quant/outputQuantizers';
import type { Evaluation, LayerError } from '../../model/Evaluation';
import { meanMetrics, metricsFromSums } from '../../metrics/similarity';
import { probedTensors } from '../../sim/probeModel';
import { qtableToData, type QTable } from '../../model/QTable';
import { qdqOpset } from '../../export/buildQdqModel';
import { effectivePrecision } from '../../quant/schemes';
import type { SearchContext } from '../SearchContext';
import type { SearchPool } from './SearchPool';

/** Float value ranges of a context's outputs, computed once per context (a scan of every sample's outputs; each what-if edit asks). */
const ranges = new WeakMap<SearchContext, Record<string, [number, number]>>();
function rangesOf(ctx: SearchContext, outputs: readonly string[], parts: readonly OutputPart[]): Record<string, [number, number]> {
  let known = ranges.get(ctx);
  if (!known) ranges.set(ctx, (known = valueRanges(ctx.references, outputs, parts)));
  return known;
}

/**
 * The 'outputs' evaluation with the samples split between a search pool's runners (the page's
 * what-if: one engine per core instead of one). The same QDQ model and the same means as the
 * Simulator's.
 *
 * `firstSamples` alone: the figure of the first samples only (marked `preliminary`). With
 * `onPreliminary` too, every sample runs in one pass and the first samples' figure is handed to
 * `onPreliminary` as soon as they are measured, while the runners go on with the rest: no second
 * round of building, planning and messages, and neither runner waits for the other in between.
 */
export async function evaluateOutputsOnPool(pool: SearchPool, ctx: SearchContext, qtable: QTable, job: JobContext, firstSamples?: number, onPreliminary?: (evaluation: Evaluation) => void): Promise<Evaluation> {
  const started = performance.now();
  const total = ctx.samples.samples.length;
  const count = firstSamples === undefined ? total : Math.max(1, Math.min(total, firstSamples));
  if (!onPreliminary || count >= total) return outputsEvaluation(ctx, qtable, await pool.outputErrors(qtable, count, job), total, started);
  const first: OutputSample[] = [];
  let reported = false;
  const perSample = await pool.outputErrors(qtable, total, job, (sample, errors) => {
    if (sample >= count || reported) return;
    first[sample] = errors;
    if (Object.keys(first).length < count) return;
    reported = true;
    onPreliminary(outputsEvaluation(ctx, qtable, first, total, started));
  });
  // A runner's per-sample messages travel on their own port and may land after its result: none after this.
  reported = true;
  return outputsEvaluation(ctx, qtable, perSample, total, started);
}

/** An 'outputs' Evaluation from the errors of the first `perSample.length` samples of `total`. */
function outputsEvaluation(ctx: SearchContext, qtable: QTable, perSample: readonly OutputSample[], total: number, started: number): Evaluation {
  const outputs = ctx.model.graph.outputs.map((o) => o.name);
  const { parts } = ctx.scoring;
  const figures = outputFigures(perSample, outputs, parts);
  const precisions = [...ctx.layers.values()].map((l) => effectivePrecision(l, qtable, ctx.scheme));
  return {
    qtable: qtableToData(qtable), output: figures.output, worst: figures.worst, perOutput: figures.perOutput, layers: [],
    ...(Object.keys(figures.perPart).length ? { perPart: figures.perPart } : {}),
    ...(Object.keys(figures.tasks).length ? { tasks: figures.tasks } : {}),
    ...warningsOf({ evaluation: figures, graph: ctx.model.graph, parts, ranges: rangesOf(ctx, outputs, parts), quantizers: outputQuantizers(ctx.model.graph, ctx.layers, qtable, ctx.cali, ctx.scheme) }),
    sampleCount: perSample.length, ...(perSample.length < total ? { preliminary: { of: total } } : {}), elapsedMs: performance.now() - started, opset: qdqOpset(ctx.model.opset, precisions),
  };
}

/**
 * The 'layers' evaluation (the heatmap) with the samples split between the pool's runners: each runs
 * the probe model on its samples (SearchRunner.layerSums) and the means are taken here, in sample
 * order, as the Simulator takes them. `outputs` is the same QTable's 'outputs' evaluation: its
 * figures are the plain QDQ model's, as in the Simulator (the probe's extra readers can change
 * onnxruntime's fusions). For models without layers inside bodies (Simulator.probesInOneModel).
 */
export async function evaluateLayersOnPool(pool: SearchPool, ctx: SearchContext, qtable: QTable, outputs: Evaluation, job: JobContext): Promise<Evaluation> {
  const started = performance.now();
  const total = ctx.samples.samples.length;
  job.progress({ stage: 'evaluating layers', done: 0, total });
  const perSample = await pool.layerSums(qtable, total, job);
  job.progress({ stage: 'evaluating layers', done: total, total });
  const layers: LayerError[] = probedTensors(ctx.model, ctx.layers).main.map(({ layer, tensor }, k) => ({
    layer, tensor, precision: effectivePrecision(ctx.layers.get(layer), qtable, ctx.scheme),
    ...meanMetrics(perSample.map((sums) => metricsFromSums(sums[k]))),
  }));
  return { ...outputs, layers, elapsedMs: outputs.elapsedMs + performance.now() - started };
}
