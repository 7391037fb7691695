import { CancelToken, jobContext, type JobContext } from '../../jobs/Job';
import type { OutputSample } from '../../metrics/outputParts';
import type { ErrorSums } from '../../metrics/similarity';
import type { LocalSums } from '../../sim/localErrors';
import type { LayerName } from '../../model/ModelGraph';
import { qtableFromData, qtableToData, type QTable, type QTableData } from '../../model/QTable';
import type { SearchMetric } from '../scoring/searchMetric';
import type { SearchRunner, TableChoice } from './SearchRunner';
import type { LocalScore } from '../scoring/localErrors';
import type { PartScores } from '../scoring/scorePart';
import type { SensitivityOptions, UnitSensitivity } from '../scoring/sensitivity';
import type { QuantUnit } from '../scoring/units';

/**
 * A runner as the pool sees it: in this thread, in a Web Worker or in a Node worker thread (all
 * arguments and results are plain data, so the same calls cross comlink). Work is named by a job id
 * so that `cancel` can reach it from outside.
 */
export interface RunnerPort {
  rankChunk(units: readonly QuantUnit[], options: SensitivityOptions, jobId: string, onResult: (result: UnitSensitivity) => void): Promise<void>;
  scoreQTables(qtables: readonly QTableData[], table: TableChoice, metric: SearchMetric, sampleIndices: readonly number[], jobId: string): Promise<PartScores[]>;
  localChunk(units: readonly QuantUnit[], jobId: string, onResult: (score: LocalScore) => void): Promise<void>;
  /** `onSample`: each sample's errors as soon as that sample is measured (the what-if's first figure while the rest run). */
  outputErrors(qtable: QTableData, sampleIndices: readonly number[], jobId: string, onSample?: (sample: number, errors: OutputSample) => void): Promise<OutputSample[]>;
  layerSums(qtable: QTableData, sampleIndices: readonly number[], jobId: string): Promise<ErrorSums[][]>;
  /** An evaluation answered from memory: the runner's what-if runner of that depth takes the QTable's model as the last one run. */
  noteQTable(qtable: QTableData, depth: 'outputs' | 'layers'): Promise<void>;
  localSums(qtable: QTableData, sampleIndices: readonly number[], jobId: string): Promise<LocalSums>;
  cancel(jobId: string): void;
}

/** A SearchRunner in this thread behind the RunnerPort calls. */
export class LocalRunnerPort implements RunnerPort {
  private readonly tokens = new Map<string, CancelToken>();

  constructor(private readonly runner: SearchRunner) {}

  async rankChunk(units: readonly QuantUnit[], options: SensitivityOptions, jobId: string, onResult: (result: UnitSensitivity) => void): Promise<void> {
    await this.withJob(jobId, (job) => this.runner.rankChunk(units, options, job, onResult));
  }

  scoreQTables(qtables: readonly QTableData[], table: TableChoice, metric: SearchMetric, sampleIndices: readonly number[], jobId: string): Promise<PartScores[]> {
    return this.withJob(jobId, (job) => this.runner.scoreQTables(qtables.map(qtableFromData), table, metric, sampleIndices, job));
  }

  async localChunk(units: readonly QuantUnit[], jobId: string, onResult: (score: LocalScore) => void): Promise<void> {
    await this.withJob(jobId, (job) => this.runner.localChunk(units, job, onResult));
  }

  outputErrors(qtable: QTableData, sampleIndices: readonly number[], jobId: string, onSample?: (sample: number, errors: OutputSample) => void): Promise<OutputSample[]> {
    return this.withJob(jobId, (job) => this.runner.outputErrors(qtableFromData(qtable), sampleIndices, job, onSample));
  }

  layerSums(qtable: QTableData, sampleIndices: readonly number[], jobId: string): Promise<ErrorSums[][]> {
    return this.withJob(jobId, (job) => this.runner.layerSums(qtableFromData(qtable), sampleIndices, job));
  }

  noteQTable(qtable: QTableData, depth: 'outputs' | 'layers'): Promise<void> {
    return this.runner.noteQTable(qtableFromData(qtable), depth);
  }

  localSums(qtable: QTableData, sampleIndices: readonly number[], jobId: string): Promise<LocalSums> {
    return this.withJob(jobId, (job) => this.runner.localSums(qtableFromData(qtable), sampleIndices, job));
  }

  cancel(jobId: string): void {
    this.tokens.get(jobId)?.cancel();
  }

  private async withJob<T>(jobId: string, work: (job: JobContext) => Promise<T>): Promise<T> {
    const token = this.tokens.get(jobId) ?? new CancelToken();
    this.tokens.set(jobId, token);
    try {
      return await work(jobContext(() => {}, token));
    } finally {
      this.tokens.delete(jobId);
    }
  }
}

/** Estimated cost of ranking a unit (to balance chunks and to estimate the time left). */
export interface UnitCost {
  readonly unit: QuantUnit;
  readonly cost: number;
}

let poolJobs = 0;

/**
 * Hands a search's work to every runner at once (docs/architecture.md: "a pool of workers for
 * independent candidates"): unit rankings in chunks taken from a shared queue, biggest first, so
 * runners finish together; whole-QTable scores split by samples. Cancelling the job reaches every
 * runner within one inference.
 */
export class SearchPool {
  constructor(readonly ports: readonly RunnerPort[]) {}

  get size(): number {
    return this.ports.length;
  }

  async rank(units: readonly UnitCost[], options: SensitivityOptions, job: JobContext, onResult: (result: UnitSensitivity) => void): Promise<UnitSensitivity[]> {
    // A few chunks per runner: enough to even out, few enough that the float passes that feed each chunk stay cheap.
    const chunks = chunkUnits(units, this.ports.length * 3);
    const total = units.reduce((s, u) => s + u.cost, 0);
    const costOf = new Map(units.map((u) => [u.unit.head, u.cost]));
    const results: UnitSensitivity[] = [];
    let done = 0;
    job.progress({ stage: 'sensitivity', done: 0, total });
    const jobId = `pool-${++poolJobs}`;
    await this.whileCancellable(job, jobId, (failed) => this.ports.map(async (port) => {
      for (let chunk = chunks.shift(); chunk && !failed(); chunk = chunks.shift()) {
        job.throwIfCancelled();
        await port.rankChunk(chunk, options, jobId, (result) => {
          results.push(result);
          done += costOf.get(result.head) ?? 0;
          job.progress({ stage: `sensitivity: ${result.head}`, done, total });
          onResult(result);
        });
      }
    }));
    return results;
  }

  /** Local cosine of every unit (run_qtable), the units split between runners in contiguous groups. */
  async local(units: readonly QuantUnit[], job: JobContext, onResult: (score: LocalScore) => void = () => {}): Promise<LocalScore[]> {
    const groups = splitSamples(units.length, this.ports.length).map((indices) => indices.map((i) => units[i]));
    const results: LocalScore[] = [];
    const jobId = `pool-${++poolJobs}`;
    await this.whileCancellable(job, jobId, () => groups.map((group, k) => (group.length ? this.ports[k].localChunk(group, jobId, (score) => {
      results.push(score);
      job.progress({ stage: `local error: ${score.head}`, done: results.length, total: units.length });
      onResult(score);
    }) : Promise.resolve())));
    return results;
  }

  /** Each output's error per sample under a QTable, the samples split between runners (in sample order). */
  outputErrors(qtable: QTable, sampleCount: number, job: JobContext, onSample?: (sample: number, errors: OutputSample) => void): Promise<OutputSample[]> {
    return this.perSample(sampleCount, job, (port, indices, jobId) => port.outputErrors(qtableToData(qtable), indices, jobId, onSample));
  }

  /** An evaluation of `qtable` answered from memory: every runner takes its model as the last one run (SearchRunner.noteQTable). */
  async noteQTable(qtable: QTable, depth: 'outputs' | 'layers'): Promise<void> {
    await Promise.all(this.ports.map((port) => port.noteQTable(qtableToData(qtable), depth)));
  }

  /** Each layer's error sums per sample under a QTable (SearchRunner.layerSums), split as outputErrors splits them, in sample order. */
  layerSums(qtable: QTable, sampleCount: number, job: JobContext): Promise<ErrorSums[][]> {
    return this.perSample(sampleCount, job, (port, indices, jobId) => port.layerSums(qtableToData(qtable), indices, jobId));
  }

  /** Each quantized layer's local error sums per sample under a QTable (SearchRunner.localSums), split as outputErrors splits them, in sample order. */
  async localSums(qtable: QTable, sampleCount: number, job: JobContext): Promise<LocalSums> {
    let layers: readonly LayerName[] = [];
    const perSample = await this.perSample(sampleCount, job, async (port, indices, jobId) => {
      const sums = await port.localSums(qtableToData(qtable), indices, jobId);
      layers = sums.layers;
      return sums.perSample;
    });
    return { layers, perSample };
  }

  /**
   * One result per sample, the samples dealt between runners and put back in sample order.
   * Interleaved, so that a runner always gets the same samples whatever the count: a preliminary
   * figure's first samples are where the full evaluation that follows finds them (kept values).
   */
  private async perSample<T>(sampleCount: number, job: JobContext, call: (port: RunnerPort, indices: readonly number[], jobId: string) => Promise<readonly T[]>): Promise<T[]> {
    const slices = interleaveSamples(sampleCount, this.ports.length);
    const jobId = `pool-${++poolJobs}`;
    const parts = await this.whileCancellable(job, jobId, () => slices.map((indices, k) => (indices.length ? call(this.ports[k], indices, jobId) : Promise.resolve([]))));
    const ordered: T[] = new Array(sampleCount);
    slices.forEach((indices, k) => indices.forEach((sample, j) => (ordered[sample] = parts[k][j])));
    return ordered;
  }

  /** Mean score and output cosine of each QTable over `sampleCount` samples, the samples split between runners. */
  async score(qtables: readonly QTable[], table: TableChoice, metric: SearchMetric, sampleCount: number, job: JobContext): Promise<{ score: number; cos: number }[]> {
    const slices = splitSamples(sampleCount, this.ports.length);
    const data = qtables.map(qtableToData);
    const jobId = `pool-${++poolJobs}`;
    const empty: PartScores = { scores: [], sqnr: [], cos: [] };
    const parts = await this.whileCancellable(job, jobId, () => slices.map((indices, k) => (indices.length ? this.ports[k].scoreQTables(data, table, metric, indices, jobId) : Promise.resolve(data.map(() => empty)))));
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    return qtables.map((_, q) => ({ score: mean(parts.flatMap((p) => p[q].scores)), cos: mean(parts.flatMap((p) => p[q].cos)) }));
  }

  /**
   * Runs one task per runner, telling every runner to stop when the job is cancelled. When a task
   * fails, the others are told to stop and every task is waited for before the first failure is
   * rethrown: a runner is never left inside the engine when its pool is closed (terminating a
   * worker thread during an onnxruntime call aborts the whole process).
   */
  private async whileCancellable<T>(job: JobContext, jobId: string, start: (failed: () => boolean) => Promise<T>[]): Promise<T[]> {
    const cancelAll = () => {
      for (const port of this.ports) port.cancel(jobId);
    };
    const timer = setInterval(() => {
      if (job.cancelled) cancelAll();
    }, 50);
    let failure: { error: unknown } | null = null;
    try {
      const tasks = start(() => failure !== null).map((task) => task.catch((error: unknown) => {
        if (!failure) {
          failure = { error };
          cancelAll();
        }
        throw error;
      }));
      const settled = await Promise.allSettled(tasks);
      job.throwIfCancelled();
      const first = failure as { error: unknown } | null;
      if (first) throw first.error;
      return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
    } finally {
      clearInterval(timer);
    }
  }
}

/**
 * Consecutive units (their float boundaries overlap, so a chunk's activations are computed in one
 * pass) cut into about `count` chunks of equal cost, returned biggest first.
 */
export function chunkUnits(units: readonly UnitCost[], count: number): QuantUnit[][] {
  const total = units.reduce((s, u) => s + u.cost, 0);
  const target = total / Math.max(1, count);
  const chunks: { units: QuantUnit[]; cost: number }[] = [];
  let current: { units: QuantUnit[]; cost: number } = { units: [], cost: 0 };
  for (const { unit, cost } of units) {
    if (current.units.length > 0 && current.cost + cost > target * 1.05) {
      chunks.push(current);
      current = { units: [], cost: 0 };
    }
    current.units.push(unit);
    current.cost += cost;
  }
  if (current.units.length) chunks.push(current);
  return chunks.sort((a, b) => b.cost - a.cost).map((c) => c.units);
}

/** Sample indices 0..n-1 in `parts` contiguous slices of nearly equal size. */
/** Sample i to runner i mod parts. */
export function interleaveSamples(n: number, parts: number): number[][] {
  return Array.from({ length: parts }, (_, k) => Array.from({ length: Math.max(0, Math.ceil((n - k) / parts)) }, (_, i) => k + i * parts));
}

export function splitSamples(n: number, parts: number): number[][] {
  return Array.from({ length: parts }, (_, k) => {
    const start = Math.floor((k * n) / parts);
    const end = Math.floor(((k + 1) * n) / parts);
    return Array.from({ length: end - start }, (_, i) => start + i);
  });
}
