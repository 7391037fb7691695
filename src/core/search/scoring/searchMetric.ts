import { QbenchError } from '../../errors';
import { primaryValue, sampleTaskFigures } from '../../metrics/taskMetrics';
import type { TaskSpec } from '../../metrics/tasks';
import { errorSums, rescaledCosine } from '../../metrics/similarity';
import { float16BitsToFloat32 } from '../../model/float16';
import { toFloat32, type TensorMap } from '../../model/tensor';

/**
 * How a search scores a quantized model against the float one (docs/algorithms.md §4), chosen by the
 * user: the score of a configuration is the mean over samples of its per-sample score.
 * - cos: plain cosine similarity, averaged over the compared tensors;
 * - rescaled_cos: TPU-MLIR's cos' = 0.5 + 0.5 cos (the scale of its expected_cos and "outputs_cos_los");
 * - sqnr: 10 log10(sum f^2 / sum (f - q)^2) over the compared tensors, in dB;
 * - mae: ONE circle-mpqsolver's qerror, mean |f - q| per tensor (lower is better);
 * - top1: whether the arg-max of the quantized output equals the float one's (classifiers);
 * - task: each output's task figure (issue #11: top-1 agreement, detection F1, map IoU, CTC decoded
 *   agreement; cosine for an output without a task), with the cosine as the tie-break;
 * - auto: what a search scores by unless told: 'task' when a compared output has a task, else the
 *   search's toolchain's own metric (resolveSearchMetric).
 */
export type SearchMetricKind = 'cos' | 'rescaled_cos' | 'sqnr' | 'mae' | 'top1' | 'task' | 'auto';

export const SEARCH_METRICS: readonly SearchMetricKind[] = ['auto', 'task', 'cos', 'rescaled_cos', 'sqnr', 'mae', 'top1'];

export const SEARCH_METRIC_LABEL: Record<SearchMetricKind, string> = {
  cos: 'cosine',
  rescaled_cos: "rescaled cosine (TPU-MLIR 0.5+0.5·cos)",
  sqnr: 'SQNR (dB)',
  mae: 'MAE (ONE qerror)',
  top1: 'top-1 agreement',
  task: 'task figure (top-1 / detection F1 / IoU / CTC)',
  auto: 'auto: the task figure, else the toolchain\'s',
};

/** A tensor compared instead of the graph outputs, with its weight (TPU-MLIR global_compare_layers). */
export interface CompareTensor {
  readonly tensor: string;
  readonly weight: number;
}

export interface SearchMetric {
  readonly kind: SearchMetricKind;
  /** Tensors compared instead of the graph outputs; weights sum to 1. Empty: every graph output, equally. */
  readonly compare: readonly CompareTensor[];
  /** 'task': how each output is read (the evaluation's detected or chosen tasks); set by resolveSearchMetric. */
  readonly specs?: Readonly<Record<string, TaskSpec>>;
}

/**
 * The metric a search actually scores by: 'auto' becomes 'task' when a compared tensor is an output
 * with a task (so a detector is searched by its detections, not by a cosine its boxes dominate),
 * else `fallback` (the search's toolchain default); 'task' gets the outputs' specs.
 */
export function resolveSearchMetric(metric: SearchMetric, fallback: SearchMetricKind, specs: Readonly<Record<string, TaskSpec>>, graphOutputs: readonly string[]): SearchMetric {
  const compared = comparedTensors(metric, graphOutputs).map((c) => c.tensor);
  const hasTask = compared.some((t) => specs[t] && specs[t].task !== 'other');
  const kind = metric.kind === 'auto' ? (hasTask ? 'task' : fallback) : metric.kind;
  return kind === 'task' ? { ...metric, kind, specs } : { ...metric, kind };
}

/** A task figure's share of a 'task' score; the rest is the cosine, which breaks ties between equal task figures. */
const TASK_WEIGHT = 1 - 1e-6;

export const DEFAULT_SEARCH_METRIC: SearchMetric = { kind: 'cos', compare: [] };

export function higherIsBetter(kind: SearchMetricKind): boolean {
  return kind !== 'mae';
}

/**
 * What a ranking sorts by, larger = more sensitive: 1 - cos, TPU-MLIR's 1 - cos' ("outputs_cos_los"),
 * -SQNR, MAE, 1 - top-1 agreement.
 */
export function lossOf(kind: SearchMetricKind, score: number): number {
  switch (kind) {
    case 'cos': return 1 - score;
    case 'rescaled_cos': return 1 - score;
    case 'sqnr': return -score;
    case 'mae': return score;
    case 'top1': return 1 - score;
    case 'task': return 1 - score;
    case 'auto': throw new Error('resolve the metric before scoring (resolveSearchMetric)');
  }
}

/** Whether a score is at least as good as a target on the metric's own scale. */
export function meetsTarget(kind: SearchMetricKind, score: number, target: number): boolean {
  return higherIsBetter(kind) ? score >= target : score <= target;
}

/**
 * TPU-MLIR's --global_compare_layers: "layer1,layer2" (equal weights) or "layer1:0.3,layer2:0.7".
 * Names are resolved by `resolve` (a layer name, its output tensor or TPU-MLIR's <tensor>_<OpType>).
 * @example parseCompareLayers('a:0.3,b:0.7', (n) => n) // [{ tensor: 'a', weight: 0.3 }, { tensor: 'b', weight: 0.7 }]
 */
export function parseCompareLayers(text: string, resolve: (name: string) => string | undefined): CompareTensor[] {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) return [];
  const entries = parts.map((part) => {
    const colon = part.lastIndexOf(':');
    const name = colon > 0 ? part.slice(0, colon) : part;
    const weight = colon > 0 ? Number(part.slice(colon + 1)) : NaN;
    if (colon > 0 && !(weight > 0)) throw new QbenchError(`global_compare_layers: "${part}" needs a positive weight after the colon`);
    const tensor = resolve(name);
    if (!tensor) throw new QbenchError(`global_compare_layers: the model has no layer or tensor "${name}"`);
    return { tensor, weight };
  });
  const weighted = entries.filter((e) => !Number.isNaN(e.weight));
  if (weighted.length > 0 && weighted.length < entries.length) throw new QbenchError('global_compare_layers: give every layer a weight or none');
  if (weighted.length === 0) return entries.map((e) => ({ tensor: e.tensor, weight: 1 / entries.length }));
  const total = entries.reduce((s, e) => s + e.weight, 0);
  if (Math.abs(total - 1) > 1e-3) throw new QbenchError(`global_compare_layers: the weights sum to ${+total.toFixed(4)}, not 1`);
  return entries;
}

/** The tensors a metric compares, with weights: its compare list, or every graph output equally. */
export function comparedTensors(metric: SearchMetric, graphOutputs: readonly string[]): CompareTensor[] {
  if (metric.compare.length > 0) return [...metric.compare];
  return graphOutputs.map((tensor) => ({ tensor, weight: 1 / graphOutputs.length }));
}

function argMax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * One sample's score. A compared tensor missing from `quantized` was not affected by the change
 * being scored (it lies outside the part of the graph that was run) and counts as exact.
 */
export function sampleScore(metric: SearchMetric, compared: readonly CompareTensor[], reference: TensorMap, quantized: TensorMap): number {
  if (metric.kind === 'sqnr') {
    let ff = 0;
    let dd = 0;
    for (const { tensor, weight } of compared) {
      const q = quantized[tensor];
      const f = toFloat32(reference[tensor], float16BitsToFloat32);
      const sums = q ? errorSums(f, toFloat32(q, float16BitsToFloat32)) : { ff: errorSums(f, f).ff, dd: 0 };
      ff += weight * sums.ff;
      dd += weight * sums.dd;
    }
    return dd === 0 ? Infinity : ff === 0 ? -Infinity : 10 * Math.log10(ff / dd);
  }
  let score = 0;
  for (const { tensor, weight } of compared) {
    const q = quantized[tensor];
    const f = toFloat32(reference[tensor], float16BitsToFloat32);
    const actual = q ? toFloat32(q, float16BitsToFloat32) : f;
    if (metric.kind === 'task') {
      const spec = metric.specs?.[tensor];
      const task = spec ? sampleTaskFigures(spec, tensor, reference, (name) => (name === tensor ? actual : quantized[name] ? toFloat32(quantized[name], float16BitsToFloat32) : reference[name] ? toFloat32(reference[name], float16BitsToFloat32) : undefined)) : null;
      const cos = tensorScore('cos', f, actual);
      score += weight * (task ? TASK_WEIGHT * primaryValue(task) + (1 - TASK_WEIGHT) * cos : cos);
      continue;
    }
    score += weight * tensorScore(metric.kind, f, actual);
  }
  return score;
}

function tensorScore(kind: Exclude<SearchMetricKind, 'sqnr'>, f: Float32Array, q: Float32Array): number {
  switch (kind) {
    case 'task':
    case 'auto':
      throw new Error(`tensorScore does not score '${kind}'`);
    case 'cos':
    case 'rescaled_cos': {
      const { ff, qq, dd } = errorSums(f, q);
      let cos: number;
      if (ff === 0 && qq === 0) cos = 1;
      else if (ff === 0 || qq === 0) cos = 0;
      else cos = Math.max(-1, Math.min(1, (ff + qq - dd) / (2 * Math.sqrt(ff * qq))));
      return kind === 'cos' ? cos : rescaledCosine(cos);
    }
    case 'mae': {
      if (f.length !== q.length) throw new Error(`cannot compare tensors of ${f.length} and ${q.length} elements`);
      let sum = 0;
      for (let i = 0; i < f.length; i++) sum += Math.abs(f[i] - q[i]);
      return f.length ? sum / f.length : 0;
    }
    case 'top1':
      return argMax(f) === argMax(q) ? 1 : 0;
  }
}

/** The mean of per-sample scores (the score of a configuration). */
export function meanScore(scores: readonly number[]): number {
  return scores.length ? scores.reduce((a, b) => a + b, 0) / scores.length : NaN;
}
