import type { Engine } from '../../engine/Engine';
import type { OutputSample } from '../../metrics/outputParts';
import { stepError } from '../../errors';
import { compareOutputs } from '../../metrics/outputParts';
import { float16BitsToFloat32 } from '../../model/float16';
import { toFloat32, type TensorMap } from '../../model/tensor';
import type { JobContext } from '../../jobs/Job';
import { WeightCache } from '../../quant/WeightCache';
import type { QTable } from '../../model/QTable';
import { buildPartQdq, buildPartQdqProto, scoreBuiltPart, type PartScores } from '../scoring/scorePart';
import { whatIfRunners, type WhatIfRunners } from '../../sim/incremental/IncrementalOutputs';
import { buildProbeModel, probedTensors, probeSums } from '../../sim/probeModel';
import type { ErrorSums } from '../../metrics/similarity';
import { localErrorSums, type LocalSums } from '../../sim/localErrors';
import type { SearchContext } from '../SearchContext';
import { comparedTensors, type SearchMetric } from '../scoring/searchMetric';
import { localUnitScores, type LocalScore } from '../scoring/localErrors';
import { rankUnits, type SensitivityOptions, type UnitSensitivity } from '../scoring/sensitivity';
import type { QuantUnit } from '../scoring/units';

/** Which calibration table a configuration is scored with: the one in use, or one method's. */
export type TableChoice = 'active' | { readonly method: import('../../model/CaliTable').CalibrationMethod };

/**
 * One engine's share of a search: ranks chunks of units and scores whole QTables on a slice of the
 * samples. The same class runs in the compute worker, in each pool worker and in Node worker
 * threads; a SearchPool hands the work out.
 */
export class SearchRunner {
  private readonly weightCache = new WeightCache();
  /** What-if evaluations: only what an edit changes runs again (sim/incremental). */
  private readonly incremental: WhatIfRunners;

  constructor(readonly ctx: SearchContext, readonly engine: Engine, incremental?: WhatIfRunners) {
    this.incremental = incremental ?? whatIfRunners(engine, ctx.model.fileName, ctx.samples.samples, { enabled: !ctx.wholeWhatIf });
  }

  rankChunk(units: readonly QuantUnit[], options: SensitivityOptions, job: JobContext, onResult: (result: UnitSensitivity) => void): Promise<UnitSensitivity[]> {
    return rankUnits(this.ctx, this.engine, units, options, job, onResult);
  }

  localChunk(units: readonly QuantUnit[], job: JobContext, onResult: (score: LocalScore) => void): Promise<LocalScore[]> {
    return localUnitScores(this.ctx, this.engine, units, this.weightCache, job, onResult);
  }

  /**
   * Each graph output's error on each of the given samples under a QTable (the evaluation's
   * 'outputs' depth, split between runners). Sessions of recent QTables are kept, as the Simulator does.
   */
  outputErrors(qtable: QTable, sampleIndices: readonly number[], job: JobContext, onSample?: (sample: number, errors: OutputSample) => void): Promise<OutputSample[]> {
    return this.inStep(`evaluating a QTable with ${describeQTable(qtable)}`, () => this.measureOutputErrors(qtable, sampleIndices, job, onSample));
  }

  private async measureOutputErrors(qtable: QTable, sampleIndices: readonly number[], job: JobContext, onSample?: (sample: number, errors: OutputSample) => void): Promise<OutputSample[]> {
    const { ctx } = this;
    const { proto } = buildPartQdqProto(ctx, { part: ctx.model, qtable, cali: ctx.cali }, [], this.weightCache);
    const names = ctx.model.graph.outputs.map((o) => o.name);
    // each output whole and each part of one built by a Concat (evaluateOnPool picks the worst)
    const errorsOf = (sample: number, out: TensorMap) => compareOutputs(ctx.references[sample], (name) => (out[name] ? toFloat32(out[name], float16BitsToFloat32) : undefined), names, ctx.scoring, sample);
    const measured = new Map<number, OutputSample>();
    const outputs = await this.incremental.outputs.run(proto, sampleIndices, job, onSample && ((sample, out) => {
      const errors = errorsOf(sample, out);
      measured.set(sample, errors);
      onSample(sample, errors);
    }));
    return outputs.map((out, k) => measured.get(sampleIndices[k]) ?? errorsOf(sampleIndices[k], out));
  }

  /**
   * An evaluation of `qtable` at `depth` answered from memory (RecentEvaluations): the what-if runner
   * of that depth takes its model as the last one run (IncrementalOutputs.note).
   */
  async noteQTable(qtable: QTable, depth: 'outputs' | 'layers'): Promise<void> {
    if (depth === 'outputs') {
      const { proto } = buildPartQdqProto(this.ctx, { part: this.ctx.model, qtable, cali: this.ctx.cali }, [], this.weightCache);
      await this.incremental.outputs.note(proto);
      return;
    }
    const probe = buildProbeModel({ ...this.ctx, qtable, weightCache: this.weightCache }, probedTensors(this.ctx.model, this.ctx.layers).main);
    await this.incremental.layers.note(probe.proto, probe.outputs.flatMap((o) => [o.dd, o.qq, o.ff, o.count]));
  }

  /**
   * Each layer's error sums (probedTensors' main layers, in order) on each of the given samples under
   * a QTable: the heatmap's probe model (sim/probeModel.ts), split between runners by samples.
   */
  layerSums(qtable: QTable, sampleIndices: readonly number[], job: JobContext): Promise<ErrorSums[][]> {
    return this.inStep(`measuring every layer's error with ${describeQTable(qtable)}`, async () => {
      const probe = buildProbeModel({ ...this.ctx, qtable, weightCache: this.weightCache }, probedTensors(this.ctx.model, this.ctx.layers).main);
      const fetches = probe.outputs.flatMap((o) => [o.dd, o.qq, o.ff, o.count]);
      const results = await this.incremental.layers.run(probe.proto, sampleIndices, job, undefined, fetches);
      return results.map((result) => probeSums(probe, result));
    });
  }

  /** Each quantized layer's local error sums on each of the given samples under a QTable (the heatmap's local errors, split between runners by samples). */
  localSums(qtable: QTable, sampleIndices: readonly number[], job: JobContext): Promise<LocalSums> {
    return this.inStep(`measuring each layer alone with ${describeQTable(qtable)}`, () => localErrorSums({ ...this.ctx, weightCache: this.weightCache }, qtable, sampleIndices, this.incremental.local, job));
  }

  /** Per-sample scores (and output cosines) of each QTable, the whole model quantized, on the given samples. */
  async scoreQTables(qtables: readonly QTable[], table: TableChoice, metric: SearchMetric, sampleIndices: readonly number[], job: JobContext): Promise<PartScores[]> {
    const { ctx } = this;
    const cali = table === 'active' ? ctx.cali : ctx.methodTables.get(table.method);
    if (!cali) throw new Error(`no ${table === 'active' ? 'active' : table.method} table in the search context`);
    const compared = comparedTensors(metric, ctx.model.graph.outputs.map((o) => o.name));
    const results: PartScores[] = [];
    for (const qtable of qtables) {
      results.push(await this.inStep(`scoring a QTable with ${describeQTable(qtable)}`, () => {
        const { bytes } = buildPartQdq(ctx, { part: ctx.model, qtable, cali }, compared, this.weightCache);
        return scoreBuiltPart(this.engine, bytes, ctx.model.fileName, ctx.samples.samples, ctx.references, metric, compared, sampleIndices, job);
      }));
    }
    return results;
  }

  /** Runs a step; its failure names the model and the step. */
  private async inStep<T>(step: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw stepError(error, this.ctx.model.fileName, step);
    }
  }
}

/** "default INT8, 3 layers otherwise": how a QTable is named in a message. */
function describeQTable(qtable: QTable): string {
  const others = qtable.layers.size;
  return `default ${qtable.defaultPrecision}${others ? `, ${others} layer${others === 1 ? '' : 's'} otherwise` : ''}`;
}
