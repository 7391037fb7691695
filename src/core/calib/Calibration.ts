import type { Engine, ValueInfo } from '../engine/Engine';
import { bodies, isIf, isLoop, isScan, outerReferences } from '../io/onnx/ifBodies';
import type { onnx } from '../io/onnx/protobuf';
import { floatActivations } from '../search/scoring/boundaries';
import { branchModel } from '../engine/tensorTypes';
import type { Dataset } from '../io/dataset/Dataset';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import type { JobContext } from '../jobs/Job';
import { sliceAlong, type TensorMap } from '../model/tensor';
import { isCancelled, QbenchError } from '../errors';
import { intAttribute, intsAttribute } from '../io/onnx/attributes';
import { calibrateTensor, type MethodContext } from './calibrate';
import { CALIBRATION_METHODS, type CaliEntry, type CaliTable, type CalibrationMethod } from '../model/CaliTable';
import { runStatisticsPass } from './statisticsPass';
import { TensorStatisticsAccumulator, type TensorStatistics } from './TensorStatistics';

/** How calibration observes the data (the toolchains' knobs, with their defaults). */
export interface CalibrationSettings {
  /** The method every tensor uses unless overridden (TPU-MLIR's default is KL, ORT's and ONE's min/max). */
  readonly method: CalibrationMethod;
  /** Bins of the KL histograms (TPU-MLIR histogram_bin_num, default 2048). */
  readonly histogramBins: number;
  /** Elements sampled per tensor per sample for histogram-based methods, or 'all' (exact, slower). */
  readonly valuesPerTensor: number | 'all';
  /**
   * Which methods' statistics one pass keeps: 'all' lets the page compare and draw every method and
   * switch between them without running the data again; 'method' keeps only the chosen one's
   * (faster: KL then needs one histogram per tensor), and a change of method recalibrates.
   */
  readonly collect: 'all' | 'method';
  /** How many of the dataset's samples calibrate and how many evaluate (null: all). */
  readonly calibrationSamples: number | null;
  readonly evaluationSamples: number | null;
}

export const DEFAULT_CALIBRATION: CalibrationSettings = {
  method: 'max',
  histogramBins: 2048,
  valuesPerTensor: 4096,
  collect: 'all',
  calibrationSamples: null,
  evaluationSamples: null,
};

/** A per-tensor choice that replaces the model-wide method: another method, or a typed threshold. */
export type TensorOverride = { readonly method: CalibrationMethod } | { readonly threshold: number };

/**
 * Everything one calibration pass measured: each tensor's statistics, from which any method's entry
 * is computed on first use and kept (TensorRT's KL scans 1,920 candidates per tensor: 2 s for the
 * demo's 331 tensors, paid only when that method is asked for).
 */
export class CalibrationResult {
  private readonly cache = new Map<CalibrationMethod, Map<string, CaliEntry>>();

  constructor(
    readonly tensors: readonly string[],
    readonly statistics: ReadonlyMap<string, TensorStatistics>,
    readonly contexts: ReadonlyMap<string, MethodContext>,
    readonly sampleCount: number,
    /** Float outputs of the calibration samples (the first `sampleCount` of the dataset). */
    readonly floatOutputs: readonly TensorMap[],
  ) {}

  /** Time of the pass and of the first method's entries (set once by calibrateModel). */
  elapsedMs = 0;

  /** This result and another pass over more tensors, as one (the other's float outputs are not kept). */
  merge(more: CalibrationResult): CalibrationResult {
    const merged = new CalibrationResult(
      [...this.tensors, ...more.tensors],
      new Map([...this.statistics, ...more.statistics]),
      new Map([...this.contexts, ...more.contexts]),
      this.sampleCount,
      this.floatOutputs,
    );
    merged.elapsedMs = this.elapsedMs + more.elapsedMs;
    return merged;
  }

  /** Whether the pass kept what `method` needs. */
  collected(method: CalibrationMethod): boolean {
    const first = this.statistics.values().next().value;
    return !first || first.methods === 'all' || first.methods.includes(method);
  }

  /** The entry of every tensor under one method. */
  entries(method: CalibrationMethod): ReadonlyMap<string, CaliEntry> {
    if (!this.collected(method)) throw new QbenchError(`calibration kept the statistics of ${this.methodsText()} only; calibrate again to use ${method}`);
    let table = this.cache.get(method);
    if (!table) {
      table = new Map(this.tensors.map((t) => [t, calibrateTensor(method, this.statistics.get(t)!, this.contexts.get(t)!)]));
      this.cache.set(method, table);
    }
    return table;
  }

  entry(tensor: string, method: CalibrationMethod): CaliEntry {
    return this.entries(method).get(tensor)!;
  }

  /** Every collected method's entry for one tensor (what the inspector draws on the histogram). */
  allMethods(tensor: string): Partial<Record<CalibrationMethod, CaliEntry>> {
    const stats = this.statistics.get(tensor);
    if (!stats) throw new Error(`no statistics for tensor ${tensor}`);
    return Object.fromEntries(CALIBRATION_METHODS.filter((m) => this.collected(m)).map((m) => [m, this.cache.get(m)?.get(tensor) ?? calibrateTensor(m, stats, this.contexts.get(tensor)!)]));
  }

  private methodsText(): string {
    const first = this.statistics.values().next().value;
    return first && first.methods !== 'all' ? first.methods.join(', ') : 'every method';
  }
}

/**
 * One pass over the calibration samples: statistics of every tensor (statisticsPass.ts) merged
 * sample by sample, then every method's thresholds from them, so switching methods, comparing them
 * (search_threshold) or drawing them on a histogram never runs the data again.
 */
export async function calibrateModel(
  engine: Engine,
  model: OnnxModel,
  tensors: readonly string[],
  positions: ReadonlyMap<string, number>,
  dataset: Dataset,
  settings: CalibrationSettings,
  job: JobContext,
  /** Types and shapes the engine inferred (saves a run where all are static; needed for If branches). */
  staticDims?: ReadonlyMap<string, ValueInfo>,
): Promise<CalibrationResult> {
  const started = performance.now();
  // Tensors inside If branches are observed on the branches the samples take (calibrateBranches).
  const mainScope = new Set([...model.graph.inputs.map((i) => i.name), ...model.proto.graph!.node.flatMap((n) => n.output)]);
  const inBranches = tensors.filter((t) => !mainScope.has(t));
  tensors = tensors.filter((t) => mainScope.has(t));
  const methods = settings.collect === 'all' ? 'all' : [settings.method];
  const accumulators = tensors.map(() => new TensorStatisticsAccumulator({ histogramBins: settings.histogramBins, expectedSamples: dataset.samples.length, methods }));
  // Only branch tensors asked for (a later pass over tensors a QTable un-fused): no main-graph pass.
  const { floatOutputs } = tensors.length === 0 && inBranches.length > 0
    ? { floatOutputs: [] as TensorMap[] }
    : await runStatisticsPass(engine, model, tensors, dataset, { valuesPerTensor: settings.valuesPerTensor }, (t, observation) => accumulators[t].add(observation), job, staticDims);
  const graphInputs = new Set(model.graph.inputs.map((i) => i.name));
  const statistics = new Map<string, TensorStatistics>();
  const contexts = new Map<string, MethodContext>();
  // A branch calibrated as a model of its own keeps the positions of the whole model.
  let positionCount = model.graph.nodes.length;
  for (const p of positions.values()) positionCount = Math.max(positionCount, p + 1);
  tensors.forEach((tensor, t) => {
    statistics.set(tensor, accumulators[t].result());
    contexts.set(tensor, { bits: 8, position: positions.get(tensor) ?? 0, positionCount, isGraphInput: graphInputs.has(tensor), histogramBins: settings.histogramBins });
  });
  let result = new CalibrationResult(tensors, statistics, contexts, dataset.samples.length, floatOutputs);
  if (inBranches.length && staticDims) result = await calibrateBodies({ engine, positions, settings, job, types: staticDims }, model, new Set(inBranches), dataset, result);
  result.entries(settings.method);
  result.elapsedMs = performance.now() - started;
  return result;
}

/** What every body pass shares with the pass over the model around it. */
interface BodyPass {
  readonly engine: Engine;
  readonly positions: ReadonlyMap<string, number>;
  readonly settings: CalibrationSettings;
  readonly job: JobContext;
  readonly types: ReadonlyMap<string, ValueInfo>;
}

/**
 * Statistics of tensors inside If branches (issue #9): the If's condition and the tensors its
 * branches read are fetched for every sample, and each branch runs, as a model of its own, on the
 * samples that take it (nested Ifs recursively); a Loop body runs iteration by iteration
 * (calibrateLoopBody). A body no sample runs observes nothing: its layers have no ranges and run
 * float (buildQdqModel).
 */
async function calibrateBodies(pass: BodyPass, model: OnnxModel, want: ReadonlySet<string>, dataset: Dataset, result: CalibrationResult): Promise<CalibrationResult> {
  const { engine, job } = pass;
  const initializers = new Set(model.proto.graph!.initializer.map((t) => t.name));
  for (const node of model.proto.graph!.node) {
    if (isLoop(node) || isScan(node)) {
      result = await skippingFailures(job, result, () => calibrateLoopBody(pass, model, node, want, dataset, result));
      continue;
    }
    if (!isIf(node)) continue;
    for (const { branch, graph } of bodies(node)) {
      const inside = branchOutputs(graph).filter((t) => want.has(t));
      if (inside.length === 0) continue;
      const reads = outerReferences(graph).filter((r) => !initializers.has(r));
      const values = await floatActivations(engine, model, dataset.samples, [node.input[0], ...reads], job);
      const taken = values.flatMap((v, s) => ((Number(v[node.input[0]].data[0]) !== 0) === (branch === 'then_branch') ? [s] : []));
      if (taken.length === 0) continue;
      const samples: Dataset = { samples: taken.map((s) => Object.fromEntries(reads.map((r) => [r, values[s][r]]))), sampleNames: taken.map((s) => dataset.sampleNames[s]) };
      const before = result;
      result = await skippingFailures(job, result, async () => before.merge(await calibrateModel(engine, branchModel(model, graph, pass.types), inside, pass.positions, samples, pass.settings, job, pass.types)));
    }
  }
  return result;
}

/**
 * A body the engine cannot run on its own (or whose steps cannot share one pass) is not calibrated:
 * its layers keep no ranges and run float, instead of the whole calibration failing. Cancellation
 * still stops everything.
 */
async function skippingFailures(job: JobContext, result: CalibrationResult, work: () => Promise<CalibrationResult>): Promise<CalibrationResult> {
  try {
    return await work();
  } catch (error) {
    if (isCancelled(error) || job.cancelled) throw error;
    return result;
  }
}

/** Iterations of a Loop calibration observes per sample, at most (each iteration is one more observation). */
export const MAX_CALIBRATED_ITERATIONS = 64;

/**
 * A Loop's or a Scan's body (issue #9): its inputs and the tensors its body reads are fetched for
 * every sample, the body runs step by step as a model of its own (a Loop: trip count, condition and
 * carried values as the Loop passes them; a Scan: its state and one slice of each scanned input;
 * at most MAX_CALIBRATED_ITERATIONS steps), and every step's inputs feed one statistics pass over
 * the body.
 */
async function calibrateLoopBody(pass: BodyPass, model: OnnxModel, node: onnx.INodeProto, want: ReadonlySet<string>, dataset: Dataset, result: CalibrationResult): Promise<CalibrationResult> {
  const { engine, job, types } = pass;
  const [{ graph } = { graph: undefined }] = bodies(node);
  if (!graph) return result;
  const bodyInputs = (graph.input ?? []).map((i) => i.name ?? '');
  const inside = [...bodyInputs, ...branchOutputs(graph)].filter((t) => want.has(t));
  if (inside.length === 0) return result;
  const initializers = new Set(model.proto.graph!.initializer.map((t) => t.name));
  const reads = outerReferences(graph).filter((r) => !initializers.has(r));
  const loopInputs = (node.input ?? []).filter(Boolean);
  const values = await floatActivations(engine, model, dataset.samples, [...new Set([...loopInputs, ...reads])], job);
  const body = branchModel(model, graph, types);
  const session = await engine.createSession(body.encode(), { modelName: model.fileName });
  const bodyOutputs = (graph.output ?? []).map((o) => o.name ?? '');
  const scalarDims = (k: number) => (graph.input?.[k]?.type?.tensorType?.shape?.dim ?? []).map(() => 1);
  const feeds: TensorMap[] = [];
  const names: string[] = [];
  try {
    if (isScan(node)) {
      // Scan: the first inputs are the initial state, the last num_scan_inputs are scanned along their axes.
      const scanned = intAttribute(node, 'num_scan_inputs', 0);
      const stateNames = (node.input ?? []).slice(0, (node.input ?? []).length - scanned);
      const scanNames = (node.input ?? []).slice(stateNames.length);
      if (scanNames.length === 0) return result;
      const axes = intsAttribute(node, 'scan_input_axes') ?? scanNames.map(() => 0);
      const reverse = intsAttribute(node, 'scan_input_directions') ?? scanNames.map(() => 0);
      for (let s = 0; s < values.length; s++) {
        let state = stateNames.map((n) => values[s][n]);
        const first = values[s][scanNames[0]];
        const axis0 = axes[0] < 0 ? axes[0] + first.dims.length : axes[0];
        const length = first.dims[axis0];
        for (let t = 0; t < length && t < MAX_CALIBRATED_ITERATIONS; t++) {
          job.throwIfCancelled();
          const slices = scanNames.map((n, k) => {
            const tensor = values[s][n];
            const axis = axes[k] < 0 ? axes[k] + tensor.dims.length : axes[k];
            return sliceAlong(tensor, axis, reverse[k] ? tensor.dims[axis] - 1 - t : t);
          });
          const feed: TensorMap = {
            ...Object.fromEntries(state.map((v, k) => [bodyInputs[k], v])),
            ...Object.fromEntries(slices.map((v, k) => [bodyInputs[state.length + k], v])),
            ...Object.fromEntries(reads.map((r) => [r, values[s][r]])),
          };
          feeds.push(feed);
          names.push(`${dataset.sampleNames[s]} step ${t}`);
          const out = await session.run(feed, bodyOutputs.slice(0, state.length));
          state = bodyOutputs.slice(0, state.length).map((o) => out[o]);
        }
      }
    }
    for (let s = 0; s < (isLoop(node) ? values.length : 0); s++) {
      const [tripName, condName, ...carriedNames] = node.input ?? [];
      const trips = tripName ? Number(values[s][tripName].data[0]) : Infinity;
      let cond = condName ? Number(values[s][condName].data[0]) !== 0 : true;
      let carried = carriedNames.map((n) => values[s][n]);
      for (let i = 0; i < trips && cond && i < MAX_CALIBRATED_ITERATIONS; i++) {
        job.throwIfCancelled();
        const feed: TensorMap = {
          [bodyInputs[0]]: { dtype: 'int64', dims: scalarDims(0), data: new BigInt64Array([BigInt(i)]) },
          [bodyInputs[1]]: { dtype: 'bool', dims: scalarDims(1), data: new Uint8Array([cond ? 1 : 0]) },
          ...Object.fromEntries(carried.map((t, k) => [bodyInputs[2 + k], t])),
          ...Object.fromEntries(reads.map((r) => [r, values[s][r]])),
        };
        feeds.push(feed);
        names.push(`${dataset.sampleNames[s]} iteration ${i}`);
        const out = await session.run(feed, bodyOutputs);
        cond = Number(out[bodyOutputs[0]].data[0]) !== 0;
        carried = bodyOutputs.slice(1, 1 + carried.length).map((o) => out[o]);
      }
    }
  } finally {
    await session.dispose();
  }
  if (feeds.length === 0) return result;
  // Steps whose carried values change shape cannot share one statistics pass: skippingFailures keeps the body float.
  return result.merge(await calibrateModel(engine, body, inside, pass.positions, { samples: feeds, sampleNames: names }, pass.settings, job, types));
}

/** Every tensor a body's nodes produce, nested bodies (and their inputs) included. */
function branchOutputs(graph: onnx.IGraphProto): string[] {
  const out: string[] = [];
  for (const node of graph.node ?? []) {
    for (const o of node.output ?? []) if (o) out.push(o);
    for (const { graph: inner } of bodies(node)) out.push(...(inner.input ?? []).map((i) => i.name ?? ''), ...branchOutputs(inner));
  }
  return out;
}

/**
 * The CaliTable in use: each tensor's override, else its entry in an imported table, else the
 * model-wide method's entry.
 */
export function activeCaliTable(
  result: CalibrationResult,
  method: CalibrationMethod,
  overrides: ReadonlyMap<string, TensorOverride>,
  imported: CaliTable | null,
  /** Tuned thresholds (TPU-MLIR tune_num) that replace the method's where present. */
  tuned: ReadonlyMap<string, CaliEntry> | null = null,
): Map<string, CaliEntry> {
  const table = new Map<string, CaliEntry>();
  for (const tensor of result.tensors) {
    const override = overrides.get(tensor);
    if (override && 'method' in override) table.set(tensor, result.entry(tensor, override.method));
    else if (override) table.set(tensor, userEntry(result.statistics.get(tensor)!, override.threshold));
    else table.set(tensor, imported?.entries.get(tensor) ?? tuned?.get(tensor) ?? result.entry(tensor, method));
  }
  return table;
}

/** A typed threshold: symmetric schemes use it; asymmetric ones the observed range clipped to it. */
export function userEntry(stats: Pick<TensorStatistics, 'min' | 'max'>, threshold: number): CaliEntry {
  const th = Math.abs(threshold);
  return { threshold: th, min: Math.max(stats.min, -th), max: Math.min(stats.max, th), source: 'user' };
}
