import type { CalibrationMethod } from '../../model/CaliTable';
import { stepError } from '../../errors';
import type { Engine } from '../../engine/Engine';
import type { JobContext } from '../../jobs/Job';
import type { LayerName } from '../../model/ModelGraph';
import { WeightCache } from '../../quant/WeightCache';
import type { QTable } from '../../model/QTable';
import { floatActivations, tensorBytes, type Boundaries } from './boundaries';
import { buildPartQdq, scoreBuiltPart } from './scorePart';
import type { SearchContext } from '../SearchContext';
import { comparedTensors, lossOf, meanScore, type CompareTensor, type SearchMetric } from './searchMetric';
import { descendantCone, subModel, type Cone } from './subgraphs';
import { unitEntries, type QuantUnit } from './units';

/**
 * One method's result for a unit: the output score with only this unit quantized, its output at the
 * method's threshold (its inputs at the thresholds of the table in use).
 */
export interface MethodScore {
  readonly method: CalibrationMethod;
  readonly score: number;
  /** lossOf(metric, score): larger is more sensitive. */
  readonly loss: number;
  /** Output SQNR in dB (mean over samples) of the same configuration. */
  readonly sqnr: number;
}

/** A unit's sensitivity (run_sensitive_layer): its loss under each method, the least of them kept. */
export interface UnitSensitivity {
  readonly head: LayerName;
  readonly layers: readonly LayerName[];
  readonly position: number;
  readonly perMethod: readonly MethodScore[];
  /** The method with the least loss: the unit's sensitivity and the threshold TPU-MLIR keeps. */
  readonly best: MethodScore;
}

export interface SensitivityOptions {
  readonly methods: readonly CalibrationMethod[];
  readonly metric: SearchMetric;
  /** Float activations held at once, all samples together (default 256 MB). */
  readonly boundaryBudgetBytes?: number;
  /** Samples to score on (default all). */
  readonly sampleIndices?: readonly number[];
}

/** Only the unit's layers integer, everything else float: the configuration a unit is ranked by. */
export function onlyUnitQuantized(unit: QuantUnit): QTable {
  return { defaultPrecision: 'FP32', layers: new Map(unitEntries(unit).map((l) => [l, 'INT8'])) };
}

interface PlannedUnit {
  readonly unit: QuantUnit;
  readonly cone: Cone;
}

/**
 * run_sensitive_layer's ranking, exactly (docs/algorithms.md §5): for every unit and method, the output
 * score of the model with only that unit quantized. Two things make it cheap without changing a
 * number: a unit's quantization changes only its descendants, so only that cone runs, fed with float
 * activations computed once per chunk of units; and methods that give the unit the same qparams
 * build the same model, which runs once. `onResult` gets each unit as soon as it is scored.
 */
export async function rankUnits(
  ctx: SearchContext,
  engine: Engine,
  units: readonly QuantUnit[],
  options: SensitivityOptions,
  job: JobContext,
  onResult: (result: UnitSensitivity) => void,
): Promise<UnitSensitivity[]> {
  const graphOutputs = ctx.model.graph.outputs.map((o) => o.name);
  const compared = comparedTensors(options.metric, graphOutputs);
  const indices = options.sampleIndices ?? ctx.samples.samples.map((_, i) => i);
  const planned = units.map((unit) => ({ unit, cone: descendantCone(ctx.model, unit.layers) }));
  const chunks = await planChunks(ctx, engine, planned, indices.length, options.boundaryBudgetBytes ?? 256 * 2 ** 20, job);
  const weightCache = new WeightCache();
  const results: UnitSensitivity[] = [];
  let done = 0;
  for (const chunk of chunks) {
    const tensors = [...new Set(chunk.flatMap((p) => p.cone.boundary))];
    const boundaries = await floatActivations(engine, ctx.model, ctx.samples.samples, tensors, quiet(job)).catch((error: unknown) => {
      throw stepError(error, ctx.model.fileName, `computing the float activations that feed layer "${chunk[0].unit.head}"`);
    });
    for (const { unit, cone } of chunk) {
      job.progress({ stage: `sensitivity: ${unit.head}`, done, total: units.length });
      const result = await scoreUnit(ctx, engine, unit, cone, boundaries, compared, options, indices, weightCache, job).catch((error: unknown) => {
        throw stepError(error, ctx.model.fileName, `ranking layer "${unit.head}" (${unit.layers.length} layer${unit.layers.length === 1 ? '' : 's'})`);
      });
      results.push(result);
      onResult(result);
      done++;
    }
  }
  job.progress({ stage: 'sensitivity', done: units.length, total: units.length });
  return results;
}

async function scoreUnit(
  ctx: SearchContext,
  engine: Engine,
  unit: QuantUnit,
  cone: Cone,
  boundaries: Boundaries,
  compared: readonly CompareTensor[],
  options: SensitivityOptions,
  indices: readonly number[],
  weightCache: WeightCache,
  job: JobContext,
): Promise<UnitSensitivity> {
  // The cone as one model per method. (Measured: loading the unit apart from its float downstream,
  // once per method, saves sessions but copies the unit's output through JavaScript twice per run;
  // on MobileNetV2 in Node that was 45% slower.)
  const inCone = new Set(cone.outputs);
  const produced = new Set(ctx.model.proto.graph!.node.filter((n) => cone.nodes.has(n.name)).flatMap((n) => n.output));
  const partOutputs = [...cone.outputs, ...compared.map((c) => c.tensor).filter((t) => produced.has(t) && !inCone.has(t))];
  const part = subModel(ctx.model, cone.nodes, cone.boundary, partOutputs, ctx.types);
  const qtable = onlyUnitQuantized(unit);
  const byKey = new Map<string, { score: number; sqnr: number }>();
  const perMethod: MethodScore[] = [];
  const outputs = ctx.layers.get(unit.layers[unit.layers.length - 1])?.floatOutputs ?? [];
  for (const method of options.methods) {
    const table = ctx.methodTables.get(method);
    if (!table) throw new Error(`no ${method} table in the search context`);
    // TPU-MLIR "adjusts the layer's threshold with the method": the unit's output takes the method's
    // threshold; what it reads keeps the table in use.
    const cali = new Map(ctx.cali);
    for (const tensor of outputs) {
      const entry = table.get(tensor);
      if (entry) cali.set(tensor, entry);
    }
    const { bytes, activationKey } = buildPartQdq(ctx, { part, qtable, cali }, compared, weightCache);
    let scored = byKey.get(activationKey);
    if (scored === undefined) {
      const perSample = await scoreBuiltPart(engine, bytes, ctx.model.fileName, boundaries, ctx.references, options.metric, compared, indices, job);
      scored = { score: meanScore(perSample.scores), sqnr: meanScore(perSample.sqnr) };
      byKey.set(activationKey, scored);
    }
    perMethod.push({ method, ...scored, loss: lossOf(options.metric.kind, scored.score) });
  }
  const best = perMethod.reduce((a, b) => (b.loss < a.loss ? b : a));
  return { head: unit.head, layers: unit.layers, position: unit.position, perMethod, best };
}

/**
 * Consecutive units whose float boundary activations fit the budget together. Sizes come from one
 * sample (every boundary tensor, once); a single unit over budget gets a chunk of its own.
 */
async function planChunks(ctx: SearchContext, engine: Engine, planned: readonly PlannedUnit[], sampleCount: number, budget: number, job: JobContext): Promise<PlannedUnit[][]> {
  const all = [...new Set(planned.flatMap((p) => p.cone.boundary))];
  const bytesOf = await boundarySizes(ctx, engine, all, job);
  const tensorBytes = (tensors: readonly string[]) => tensors.reduce((sum, t) => sum + (bytesOf.get(t) ?? 0), 0);
  const chunks: PlannedUnit[][] = [];
  let current: PlannedUnit[] = [];
  let tensors = new Set<string>();
  for (const p of planned) {
    const next = new Set([...tensors, ...p.cone.boundary]);
    if (current.length > 0 && tensorBytes([...next]) * sampleCount > budget) {
      chunks.push(current);
      current = [];
      tensors = new Set(p.cone.boundary);
    } else {
      tensors = next;
    }
    current.push(p);
  }
  if (current.length) chunks.push(current);
  return chunks;
}

/**
 * Bytes per sample of each tensor: from the static shapes the engine inferred, or, where a dimension
 * is only known at run time, from one run on the first sample.
 */
async function boundarySizes(ctx: SearchContext, engine: Engine, tensors: readonly string[], job: JobContext): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const unknown: string[] = [];
  for (const t of tensors) {
    const info = ctx.types.get(t);
    const bytes = info?.dtype === 'float32' ? 4 : info?.dtype === 'float16' || info?.dtype === 'int16' || info?.dtype === 'uint16' ? 2 : info?.dtype === 'int64' || info?.dtype === 'float64' ? 8 : info?.dtype === 'int32' ? 4 : 1;
    if (info?.dims && info.dims.every((d) => d !== null)) sizes.set(t, bytes * (info.dims as number[]).reduce((p, d) => p * d, 1));
    else unknown.push(t);
  }
  if (unknown.length) {
    const [first] = await floatActivations(engine, ctx.model, ctx.samples.samples.slice(0, 1), unknown, quiet(job));
    for (const t of unknown) sizes.set(t, tensorBytes(first, [t]));
  }
  return sizes;
}

/** The same cancellation, no progress of its own (a step inside a bigger job). */
function quiet(job: JobContext): JobContext {
  return { progress: () => {}, throwIfCancelled: () => job.throwIfCancelled(), get cancelled() { return job.cancelled; } };
}

/**
 * What ranking a unit costs: the multiply-adds of its cone (a Conv, Gemm or MatMul costs its output
 * size times its weights per output channel; other nodes their output size; unknown dimensions
 * count 1). Balances the pool's chunks and gives the time left.
 */
export function unitCosts(ctx: Pick<SearchContext, 'model' | 'types'>, units: readonly QuantUnit[]): { unit: QuantUnit; cost: number }[] {
  const costOf = new Map<string, number>();
  const weights = new Map(ctx.model.graph.weights.map((w) => [w.name, w]));
  for (const node of ctx.model.graph.nodes) {
    const dims = ctx.types.get(node.outputs[0])?.dims ?? [];
    const size = Math.max(1, dims.reduce<number>((p, d) => p * (d ?? 1), 1));
    const weight = node.inputs[1] ? weights.get(node.inputs[1]) : undefined;
    const perOutput = weight && ['Conv', 'ConvTranspose', 'Gemm', 'MatMul'].includes(node.opType) ? weight.dims.reduce((p, d) => p * d, 1) / Math.max(1, weight.dims[0]) : 1;
    costOf.set(node.name, size * perOutput);
  }
  return units.map((unit) => {
    const cone = descendantCone(ctx.model, unit.layers);
    let cost = 0;
    for (const name of cone.nodes) cost += costOf.get(name) ?? 1;
    return { unit, cost };
  });
}
