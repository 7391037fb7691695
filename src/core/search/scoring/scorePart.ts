import type { CaliEntry } from '../../model/CaliTable';
import type { Engine } from '../../engine/Engine';
import { sessionError } from '../../engine/engineErrors';
import type { OnnxModel } from '../../io/onnx/OnnxModel';
import { onnx } from '../../io/onnx/protobuf';
import type { JobContext } from '../../jobs/Job';
import type { TensorMap } from '../../model/tensor';
import { QdqBuilder } from '../../export/buildQdqModel';
import { type WeightCache } from '../../quant/WeightCache';
import type { QTable } from '../../model/QTable';
import type { Boundaries } from './boundaries';
import type { SearchContext } from '../SearchContext';
import { sampleScore, type CompareTensor, type SearchMetric } from './searchMetric';
import { letEventsIn } from '../../jobs/letEventsIn';

export interface PartConfiguration {
  /** The part of the float model to quantize and run (the whole model, or a search's cut). */
  readonly part: OnnxModel;
  readonly qtable: QTable;
  readonly cali: ReadonlyMap<string, CaliEntry>;
}

/**
 * The QDQ model of a part under a QTable, with the compared tensors it computes as outputs: the
 * same builder as the export, so a part scores exactly what the whole exported model computes there.
 */
export function buildPartQdq(ctx: SearchContext, config: PartConfiguration, compared: readonly CompareTensor[], weightCache: WeightCache): { bytes: Uint8Array; activationKey: string } {
  const { proto, activationKey } = buildPartQdqProto(ctx, config, compared, weightCache);
  return { bytes: onnx.ModelProto.encode(proto).finish(), activationKey };
}

/** buildPartQdq's model before encoding. */
export function buildPartQdqProto(ctx: SearchContext, config: PartConfiguration, compared: readonly CompareTensor[], weightCache: WeightCache): { proto: onnx.ModelProto; activationKey: string } {
  const builder = new QdqBuilder({
    ...ctx, model: config.part, cali: config.cali, qtable: config.qtable, weightCache,
    ...(config.part === ctx.model ? {} : { ruleModel: ctx.model }),
  });
  builder.emitAllLayers();
  const produced = new Set(config.part.proto.graph!.node.flatMap((n) => n.output));
  const outputs = new Set(config.part.graph.outputs.map((o) => o.name));
  const extra: onnx.IValueInfoProto[] = [];
  for (const { tensor } of compared) {
    if (outputs.has(tensor) || !produced.has(tensor)) continue;
    builder.floatValue(tensor);
    extra.push({ name: tensor });
    outputs.add(tensor);
  }
  return { proto: builder.finish(extra), activationKey: activationKey(builder.writer.initializers) };
}

/**
 * The activation qparams a build wrote (its scalar initializers, in order): two builds of the same
 * part and QTable with equal keys are the same model, whatever method gave their thresholds.
 */
function activationKey(initializers: readonly onnx.TensorProto[]): string {
  const parts: string[] = [];
  for (const t of initializers) {
    if (t.dims.length !== 0) continue;
    parts.push(`${t.name}=${Array.from(t.rawData ?? [], (b) => b.toString(16)).join('.')}|${t.floatData.join('.')}|${t.int32Data.join('.')}`);
  }
  return parts.join(';');
}

/** Per-sample results of a part: the search metric's score, and SQNR and cosine next to it (for clustering and the Pareto view). */
export interface PartScores {
  readonly scores: number[];
  readonly sqnr: number[];
  readonly cos: number[];
}

/**
 * Per-sample scores of a built part: each sample's feeds are the part's inputs taken from
 * `feeds` (the samples themselves, or float activations at the part's boundary).
 */
export async function scoreBuiltPart(
  engine: Engine,
  bytes: Uint8Array,
  modelName: string,
  feeds: Boundaries,
  references: readonly TensorMap[],
  metric: SearchMetric,
  compared: readonly CompareTensor[],
  sampleIndices: readonly number[],
  job: JobContext,
): Promise<PartScores> {
  let session;
  try {
    session = await engine.createSession(bytes, { modelName });
  } catch (error) {
    throw sessionError(error, modelName);
  }
  try {
    const fetches = compared.map((c) => c.tensor).filter((t) => session.outputNames.includes(t));
    const out: PartScores = { scores: [], sqnr: [], cos: [] };
    const sqnrMetric: SearchMetric = { kind: 'sqnr', compare: metric.compare };
    const cosMetric: SearchMetric = { kind: 'cos', compare: metric.compare };
    for (const i of sampleIndices) {
      await letEventsIn();
      job.throwIfCancelled();
      const result = await session.run(Object.fromEntries(session.inputNames.map((name) => [name, feeds[i][name]])), fetches);
      out.scores.push(sampleScore(metric, compared, references[i], result));
      out.sqnr.push(metric.kind === 'sqnr' ? out.scores[out.scores.length - 1] : sampleScore(sqnrMetric, compared, references[i], result));
      out.cos.push(metric.kind === 'cos' ? out.scores[out.scores.length - 1] : sampleScore(cosMetric, compared, references[i], result));
    }
    return out;
  } finally {
    await session.dispose();
  }
}
