import type { Engine } from '../engine/Engine';
import { openSession } from '../engine/openSession';
import type { Dataset } from '../io/dataset/Dataset';
import { onnx } from '../io/onnx/protobuf';
import type { JobContext } from '../jobs/Job';
import { letEventsIn } from '../jobs/letEventsIn';
import { meanMetrics, metricsFromSums, type ErrorMetrics } from '../metrics/similarity';
import type { LocalErrors } from '../model/Evaluation';
import type { QTable } from '../model/QTable';
import type { QuantizationContext } from '../quant/QuantizationContext';
import type { WeightCache } from '../quant/WeightCache';
import { buildLocalProbeModel } from './localProbeModel';
import type { ProbedTensor } from './probeModel';
import { scalarOf } from './reductions';

export interface LocalErrorInput extends QuantizationContext {
  readonly engine: Engine;
  /** The evaluation samples (the accumulated errors' samples). */
  readonly samples: Dataset;
  readonly weightCache?: WeightCache;
}

/**
 * Each layer's local error under `qtable` (docs/algorithms.md §4), averaged over the samples as the
 * accumulated errors are: one session of the local probe (localProbeModel.ts), one run per sample,
 * released at the end (the page asks once per QTable, after its accumulated errors).
 * Layers the QTable leaves in float, and layers inside If/Loop/Scan bodies, have no entry.
 */
export async function measureLocalErrors(input: LocalErrorInput, qtable: QTable, job: JobContext): Promise<LocalErrors> {
  const probed: ProbedTensor[] = [];
  const scoped = new Set(input.model.graph.nodes.filter((n) => n.scope).map((n) => n.name));
  for (const info of input.layers.values()) {
    const tensor = info.floatOutputs[0];
    if (tensor && !scoped.has(info.name)) probed.push({ layer: info.name, tensor });
  }
  const { proto, probes } = buildLocalProbeModel({ ...input, qtable }, probed);
  if (probes.length === 0) return {};
  const session = await openSession(input.engine, onnx.ModelProto.encode(proto).finish(), input.model.fileName);
  const perLayer = probes.map(() => [] as ErrorMetrics[]);
  const fetches = probes.flatMap((p) => [p.dd, p.qq, p.ff, p.count]);
  const total = input.samples.samples.length;
  try {
    for (let i = 0; i < total; i++) {
      await letEventsIn();
      job.throwIfCancelled();
      job.progress({ stage: 'local errors', done: i, total });
      const result = await session.run(input.samples.samples[i], fetches);
      probes.forEach(({ dd, qq, ff, count }, k) => {
        perLayer[k].push(metricsFromSums({ ff: scalarOf(result[ff].data), qq: scalarOf(result[qq].data), dd: scalarOf(result[dd].data), count: scalarOf(result[count].data) }));
      });
    }
  } finally {
    await session.dispose();
  }
  job.progress({ stage: 'local errors', done: total, total });
  return Object.fromEntries(probes.map((p, k) => [p.layer, meanMetrics(perLayer[k])]));
}
