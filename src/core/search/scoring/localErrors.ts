import type { Engine } from '../../engine/Engine';
import { stepError } from '../../errors';
import type { JobContext } from '../../jobs/Job';
import type { WeightCache } from '../../quant/WeightCache';
import { floatActivations, tensorBytes } from './boundaries';
import { buildPartQdq, scoreBuiltPart } from './scorePart';
import type { SearchContext } from '../SearchContext';
import { meanScore, type SearchMetric } from './searchMetric';
import { onlyUnitQuantized } from './sensitivity';
import { subModel } from './subgraphs';
import type { QuantUnit } from './units';
import { letEventsIn } from '../../jobs/letEventsIn';

/** A unit's local error: its own output, quantized from float inputs, against float (algorithms.md §4). */
export interface LocalScore {
  readonly head: string;
  readonly cos: number;
}

/** The tensors a unit reads (activations, not weights) and the float outputs of its last layer. */
function unitTensors(ctx: SearchContext, unit: QuantUnit): { inputs: string[]; outputs: string[] } {
  const members = new Set(unit.layers);
  const nodes = ctx.model.graph.nodes.filter((n) => members.has(n.name));
  const produced = new Set(nodes.flatMap((n) => n.outputs));
  const inputs = [...new Set(nodes.flatMap((n) => n.inputs).filter((t) => t && !produced.has(t) && !ctx.model.isInitializer(t)))];
  const tail = ctx.layers.get(unit.layers[unit.layers.length - 1]);
  return { inputs, outputs: [...(tail?.floatOutputs ?? [])] };
}

/**
 * Local cosine of each unit (run_qtable's per-layer measure): only the unit runs, quantized, on float
 * inputs, and its output is compared with float. Float activations come in chunks under `budget`.
 */
export async function localUnitScores(
  ctx: SearchContext,
  engine: Engine,
  units: readonly QuantUnit[],
  weightCache: WeightCache,
  job: JobContext,
  onResult: (score: LocalScore) => void,
  budget = 256 * 2 ** 20,
): Promise<LocalScore[]> {
  // A unit inside an If or Loop body reads tensors that exist only there: no local error is measured
  // for it (run_qtable leaves it as it is).
  const inBodies = new Set(ctx.model.graph.nodes.filter((n) => n.scope).map((n) => n.name));
  const plans = units.filter((u) => !inBodies.has(u.head)).map((unit) => ({ unit, ...unitTensors(ctx, unit) }));
  if (plans.length === 0) return [];
  const all = [...new Set(plans.flatMap((p) => [...p.inputs, ...p.outputs]))];
  const [first] = await floatActivations(engine, ctx.model, ctx.samples.samples.slice(0, 1), all, job);
  const indices = ctx.samples.samples.map((_, i) => i);
  const results: LocalScore[] = [];
  let start = 0;
  while (start < plans.length) {
    let end = start + 1;
    while (end < plans.length && tensorBytes(first, [...new Set(plans.slice(start, end + 1).flatMap((p) => [...p.inputs, ...p.outputs]))]) * indices.length <= budget) end++;
    const chunk = plans.slice(start, end);
    const values = await floatActivations(engine, ctx.model, ctx.samples.samples, [...new Set(chunk.flatMap((p) => [...p.inputs, ...p.outputs]))], job);
    for (const { unit, inputs, outputs } of chunk) {
      await letEventsIn();
      job.throwIfCancelled();
      let scores: number[];
      try {
        const part = subModel(ctx.model, new Set(unit.layers), inputs, outputs, ctx.types);
        const metric: SearchMetric = { kind: 'cos', compare: outputs.map((tensor) => ({ tensor, weight: 1 / outputs.length })) };
        const { bytes } = buildPartQdq(ctx, { part, qtable: onlyUnitQuantized(unit), cali: ctx.cali }, metric.compare, weightCache);
        ({ scores } = await scoreBuiltPart(engine, bytes, ctx.model.fileName, values, values, metric, metric.compare, indices, job));
      } catch (error) {
        throw stepError(error, ctx.model.fileName, `measuring the local error of layer "${unit.head}"`);
      }
      const score = { head: unit.head, cos: meanScore(scores) };
      results.push(score);
      onResult(score);
    }
    start = end;
  }
  return results;
}
