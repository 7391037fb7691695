import type { Engine } from '../../engine/Engine';
import type { OutputSample } from '../../metrics/outputParts';
import type { QTableData } from '../../model/QTable';
import type { LocalScore } from '../scoring/localErrors';
import type { PartScores } from '../scoring/scorePart';
import { LocalRunnerPort, type RunnerPort } from './SearchPool';
import { SearchRunner, type TableChoice } from './SearchRunner';
import type { SearchMetric } from '../scoring/searchMetric';
import type { SensitivityOptions, UnitSensitivity } from '../scoring/sensitivity';
import { searchContextFromData, type SearchContextData } from './serialize';
import type { SearchContext } from '../SearchContext';
import { disposeWhatIfRunners, whatIfRunners, type IncrementalOutputs, type WhatIfRunners } from '../../sim/incremental/IncrementalOutputs';
import type { ErrorSums } from '../../metrics/similarity';
import type { LocalSums } from '../../sim/localErrors';
import type { QuantUnit } from '../scoring/units';
import type { TensorMap } from '../../model/tensor';

/**
 * What one pool worker exposes (a Web Worker in the page, a worker thread in Node): the search
 * context, loaded once per search session, then the RunnerPort calls on a SearchRunner over its
 * own engine.
 */
export class PoolWorker implements RunnerPort {
  private port?: LocalRunnerPort;
  private runner?: SearchRunner;
  /** What-if values kept across contexts of the same evaluation samples (a threshold edit loads a new context), and those samples. */
  private incremental?: { readonly key: string; readonly runners: WhatIfRunners; readonly samples: SearchContext['samples'] };

  constructor(private readonly engine: Engine) {}

  load(data: SearchContextData): void {
    this.loadContext(searchContextFromData(data));
  }

  /** The context itself, for a runner in the thread that holds it (the page's compute worker: no copy of the samples). */
  loadContext(ctx: SearchContext): void {
    const key = `${ctx.samplesKey ?? ''}|${!ctx.wholeWhatIf}`;
    if (ctx.samplesKey === undefined || this.incremental?.key !== key) {
      if (this.incremental) void disposeWhatIfRunners(this.incremental.runners);
      this.incremental = { key, runners: whatIfRunners(this.engine, ctx.model.fileName, ctx.samples.samples, { enabled: !ctx.wholeWhatIf }), samples: ctx.samples };
    }
    // The same samples (their key says so) as the runners': one copy, not the runners' and this
    // context's (a worker receives a copy with every context: 37 MB at the demo's 30 samples).
    const samples = this.incremental.samples;
    this.runner = new SearchRunner({ ...ctx, samples }, this.engine, this.incremental.runners);
    this.port = new LocalRunnerPort(this.runner);
  }

  rankChunk(units: readonly QuantUnit[], options: SensitivityOptions, jobId: string, onResult: (result: UnitSensitivity) => void): Promise<void> {
    return this.require().rankChunk(units, options, jobId, onResult);
  }

  scoreQTables(qtables: readonly QTableData[], table: TableChoice, metric: SearchMetric, sampleIndices: readonly number[], jobId: string): Promise<PartScores[]> {
    return this.require().scoreQTables(qtables, table, metric, sampleIndices, jobId);
  }

  localChunk(units: readonly QuantUnit[], jobId: string, onResult: (score: LocalScore) => void): Promise<void> {
    return this.require().localChunk(units, jobId, onResult);
  }

  outputErrors(qtable: QTableData, sampleIndices: readonly number[], jobId: string, onSample?: (sample: number, errors: OutputSample) => void): Promise<OutputSample[]> {
    return this.require().outputErrors(qtable, sampleIndices, jobId, onSample);
  }

  layerSums(qtable: QTableData, sampleIndices: readonly number[], jobId: string): Promise<ErrorSums[][]> {
    return this.require().layerSums(qtable, sampleIndices, jobId);
  }

  noteQTable(qtable: QTableData, depth: 'outputs' | 'layers'): Promise<void> {
    return this.require().noteQTable(qtable, depth);
  }

  localSums(qtable: QTableData, sampleIndices: readonly number[], jobId: string): Promise<LocalSums> {
    return this.require().localSums(qtable, sampleIndices, jobId);
  }

  /** What this worker's last what-if of each kind ran and what it keeps (tests, benchmark). */
  whatIfState(depth: 'outputs' | 'layers' | 'local'): { readonly plan: IncrementalOutputs['lastPlan']; readonly kept: ReturnType<IncrementalOutputs['keptValues']> } | null {
    const runner = this.incremental?.runners[depth];
    return runner ? { plan: runner.lastPlan, kept: runner.keptValues() } : null;
  }

  /** The samples this worker's searches read, the what-if runners' own (tests: one copy whatever the contexts loaded). */
  samplesInUse(): readonly TensorMap[] | null {
    return this.runner?.ctx.samples.samples ?? null;
  }

  cancel(jobId: string): void {
    this.port?.cancel(jobId);
  }

  private require(): LocalRunnerPort {
    if (!this.port) throw new Error('the search worker has no context: load() first');
    return this.port;
  }
}
