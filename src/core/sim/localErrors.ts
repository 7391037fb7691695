import type { Dataset } from '../io/dataset/Dataset';
import type { JobContext } from '../jobs/Job';
import { meanMetrics, metricsFromSums, type ErrorSums } from '../metrics/similarity';
import type { LocalErrors } from '../model/Evaluation';
import type { LayerName } from '../model/ModelGraph';
import type { QTable } from '../model/QTable';
import type { QuantizationContext } from '../quant/QuantizationContext';
import type { WeightCache } from '../quant/WeightCache';
import type { IncrementalOutputs } from './incremental/IncrementalOutputs';
import { buildLocalProbeModel } from './localProbeModel';
import { probedTensors, probeSums } from './probeModel';

export interface LocalErrorInput extends QuantizationContext {
  /** The evaluation samples (the accumulated errors' samples). */
  readonly samples: Dataset;
  readonly weightCache?: WeightCache;
}

/** Each measured layer's local error sums on some samples: the layers, and per sample one sum per layer. */
export interface LocalSums {
  readonly layers: readonly LayerName[];
  readonly perSample: readonly (readonly ErrorSums[])[];
}

/**
 * Each layer's local error sums under `qtable` (docs/algorithms.md §4) on the given samples: the
 * local probe (localProbeModel.ts) run by `runner`, so that after an edit only the copies the edit
 * changed run again, from the float values they read (incremental/IncrementalOutputs.ts): a layer's
 * local error depends on its own quantization alone. Layers the QTable leaves in float, and layers
 * inside If/Loop/Scan bodies, have no entry.
 */
export async function localErrorSums(input: LocalErrorInput, qtable: QTable, sampleIndices: readonly number[], runner: IncrementalOutputs, job: JobContext): Promise<LocalSums> {
  const { proto, probes } = buildLocalProbeModel({ ...input, qtable }, probedTensors(input.model, input.layers).main);
  if (probes.length === 0) return { layers: [], perSample: sampleIndices.map(() => []) };
  const fetches = probes.flatMap((p) => [p.dd, p.qq, p.ff, p.count]);
  let done = 0;
  const results = await runner.run(proto, sampleIndices, job, () => job.progress({ stage: 'local errors', done: ++done, total: sampleIndices.length }), fetches);
  return { layers: probes.map((p) => p.layer), perSample: results.map((result) => probeSums({ outputs: probes }, result)) };
}

/** Local errors from the sums of every evaluation sample, averaged in sample order as the accumulated errors are. */
export function localErrorsFromSums({ layers, perSample }: LocalSums): LocalErrors {
  return Object.fromEntries(layers.map((layer, k) => [layer, meanMetrics(perSample.map((sums) => metricsFromSums(sums[k])))]));
}

/** Each layer's local error under `qtable`, on every evaluation sample (the Workbench in this thread). */
export async function measureLocalErrors(input: LocalErrorInput, qtable: QTable, runner: IncrementalOutputs, job: JobContext): Promise<LocalErrors> {
  return localErrorsFromSums(await localErrorSums(input, qtable, input.samples.samples.map((_, i) => i), runner, job));
}
