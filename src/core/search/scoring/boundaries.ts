import type { Engine } from '../../engine/Engine';
import { sessionError } from '../../engine/engineErrors';
import type { OnnxModel } from '../../io/onnx/OnnxModel';
import type { JobContext } from '../../jobs/Job';
import type { TensorMap } from '../../model/tensor';
import { prefixModel } from './subgraphs';
import { letEventsIn } from '../../jobs/letEventsIn';

/**
 * Float activations of some tensors for every sample, from one run of the float model cut down to
 * what computes them: what a part of the graph reads instead of the model's inputs.
 */
export type Boundaries = readonly TensorMap[];

export async function floatActivations(
  engine: Engine,
  model: OnnxModel,
  samples: readonly TensorMap[],
  tensors: readonly string[],
  job: JobContext,
): Promise<Boundaries> {
  const graphInputs = new Set(model.graph.inputs.map((i) => i.name));
  const computed = tensors.filter((t) => !graphInputs.has(t) && !model.isInitializer(t));
  const fromInputs = tensors.filter((t) => graphInputs.has(t));
  // constants (a Loop's trip count) are the same in every sample
  const constants = tensors.filter((t) => !graphInputs.has(t) && model.isInitializer(t));
  const result: TensorMap[] = samples.map((sample) => Object.fromEntries([...fromInputs.map((t) => [t, sample[t]]), ...constants.map((t) => [t, model.weight(t)])]));
  if (computed.length === 0) return result;
  const prefix = prefixModel(model, computed);
  let session;
  try {
    session = await engine.createSession(prefix.encode(), { modelName: model.fileName });
  } catch (error) {
    throw sessionError(error, model.fileName);
  }
  try {
    const inputs = session.inputNames;
    for (let i = 0; i < samples.length; i++) {
      await letEventsIn();
      job.throwIfCancelled();
      const outputs = await session.run(Object.fromEntries(inputs.map((name) => [name, samples[i][name]])), computed);
      Object.assign(result[i], outputs);
    }
  } finally {
    await session.dispose();
  }
  return result;
}

/** Bytes of one sample's tensors (to keep a part's activations under a memory budget). */
export function tensorBytes(map: TensorMap, tensors: readonly string[]): number {
  let bytes = 0;
  for (const t of tensors) bytes += map[t]?.data.byteLength ?? 0;
  return bytes;
}
