import { openSession } from '../engine/openSession';
import { concatFlat, extendedModel, writerOver } from '../io/onnx/graphExtension';
import type { Engine } from '../engine/Engine';
import { DataError, sampleError } from '../errors';
import type { Dataset } from '../io/dataset/Dataset';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { intAttr } from '../io/onnx/attributes';
import { int64VectorProto } from '../io/onnx/tensorProto';
import type { JobContext } from '../jobs/Job';
import type { TensorMap } from '../model/tensor';
import { letEventsIn } from '../jobs/letEventsIn';
import { seededRandom } from '../seededRandom';

/** What one run tells about one tensor in one sample. */
export interface SampleObservation {
  /** Exact minimum and maximum over the whole tensor. */
  readonly min: number;
  readonly max: number;
  /** Number of elements of the tensor. */
  readonly count: number;
  /** A seeded uniform sample of its elements (every element when the tensor is small or 'all' is asked). */
  readonly values: Float32Array;
}

export interface StatisticsPassOptions {
  /**
   * Elements sampled per tensor per sample for the histogram-based methods, or 'all'. Sampling is
   * what keeps a calibration pass near the cost of float inference (README "Calibration"): exact
   * min/max come from in-graph reductions either way.
   */
  readonly valuesPerTensor: number | 'all';
  /** Seed of the sampled positions: the same seed picks the same elements on every run. */
  readonly seed?: number;
}

export const DEFAULT_VALUES_PER_TENSOR = 4096;

/** Receives each sample's observations, tensor by tensor; keeps what it needs, never the values. */
export type ObservationSink = (tensorIndex: number, observation: SampleObservation, sampleIndex: number) => void;

/** `count` sorted distinct positions drawn uniformly from [0, size) (Floyd's algorithm). */
export function samplePositions(size: number, count: number, seed: number): number[] {
  if (count >= size) return Array.from({ length: size }, (_, i) => i);
  const next = seededRandom(seed);
  const chosen = new Set<number>();
  for (let j = size - count; j < size; j++) {
    const t = Math.floor(next() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** The sampled positions are fixed per tensor, so every sample must have sample 0's input shapes. */
function requireOneShape(dataset: Dataset): void {
  const first = dataset.samples[0];
  dataset.samples.forEach((sample, s) => {
    for (const [name, tensor] of Object.entries(sample)) {
      const expected = first[name]?.dims ?? [];
      if (tensor.dims.length !== expected.length || tensor.dims.some((d, k) => d !== expected[k])) {
        throw new DataError(`sample ${s} (${dataset.sampleNames[s]}) has input "${name}" of shape [${tensor.dims.join(', ')}] but sample 0 (${dataset.sampleNames[0]}) has [${expected.join(', ')}]; calibrate with samples of one shape`);
      }
    }
  });
}

/** Element counts from inferred shapes, or undefined if any tensor has a dimension known only at run time. */
function staticSizes(tensors: readonly string[], sample: TensorMap, dims?: ReadonlyMap<string, { readonly dims: readonly (number | null)[] | null }>): number[] | undefined {
  if (!dims) return undefined;
  const sizes: number[] = [];
  for (const tensor of tensors) {
    const shape = sample[tensor]?.dims ?? dims.get(tensor)?.dims;
    if (!shape || shape.some((d) => d === null || d < 0)) return undefined;
    sizes.push((shape as number[]).reduce((a, b) => a * b, 1));
  }
  return sizes;
}

/** Element count of every tensor, from one run of the model with a Size node per tensor. */
async function tensorSizes(engine: Engine, model: OnnxModel, tensors: readonly string[], sample: TensorMap): Promise<number[]> {
  const writer = writerOver(model);
  const sizes = tensors.map((t) => {
    const out = writer.uniqueName(`${t}/qbench_Size`);
    writer.addNode('Size', [t], [out], `${t}/qbench_Size`);
    return out;
  });
  const output = concatFlat(writer, sizes, 'qbench_sizes');
  const session = await openSession(engine, extendedModel(model.proto, writer, [output]), model.fileName);
  try {
    const result = await session.run(sample, [output]);
    return Array.from(result[output].data as BigInt64Array, Number);
  } finally {
    await session.dispose();
  }
}

/**
 * One pass over the samples through the float model, observing every listed tensor: its exact
 * min and max (ReduceMin/ReduceMax in the graph) and a seeded sample of its values (Gather in the
 * graph), all leaving the engine as three concatenated vectors per run. Activations themselves never
 * reach JavaScript, so memory stays flat however many samples there are. Also returns the float
 * model's graph outputs per sample, which later evaluations compare with.
 *
 * Every sample must give each tensor the same number of elements (the sampled positions are fixed):
 * a sample that does not is reported by name.
 */
export async function runStatisticsPass(
  engine: Engine,
  model: OnnxModel,
  tensors: readonly string[],
  dataset: Dataset,
  options: StatisticsPassOptions,
  sink: ObservationSink,
  job: JobContext,
  /** Shapes the engine inferred: where every dimension is known, no run is needed to count elements. */
  staticDims?: ReadonlyMap<string, { readonly dims: readonly (number | null)[] | null }>,
): Promise<{ sizes: number[]; floatOutputs: TensorMap[] }> {
  const total = dataset.samples.length;
  requireOneShape(dataset);
  job.progress({ stage: 'calibrating', done: 0, total });
  const sizes = staticSizes(tensors, dataset.samples[0], staticDims) ?? await tensorSizes(engine, model, tensors, dataset.samples[0]);
  const writer = writerOver(model);
  const flat = writer.addInitializer(int64VectorProto(writer.uniqueName('qbench_flat'), [-1]));
  const mins = tensors.map((t) => {
    const out = writer.uniqueName(`${t}/qbench_ReduceMin`);
    writer.addNode('ReduceMin', [t], [out], `${t}/qbench_ReduceMin`);
    return out;
  });
  const maxs = tensors.map((t) => {
    const out = writer.uniqueName(`${t}/qbench_ReduceMax`);
    writer.addNode('ReduceMax', [t], [out], `${t}/qbench_ReduceMax`);
    return out;
  });
  const offsets: number[] = [];
  let offset = 0;
  const sampled = tensors.map((t, i) => {
    const size = sizes[i];
    const want = options.valuesPerTensor === 'all' ? size : Math.min(size, options.valuesPerTensor);
    offsets.push(offset);
    offset += want;
    const flattened = writer.uniqueName(`${t}/qbench_flat`);
    writer.addNode('Reshape', [t, flat], [flattened], `${t}/qbench_flat`);
    if (want === size) return flattened;
    const positions = writer.addInitializer(int64VectorProto(writer.uniqueName(`${t}/qbench_positions`), samplePositions(size, want, (options.seed ?? 1) + i)));
    const out = writer.uniqueName(`${t}/qbench_sample`);
    writer.addNode('Gather', [flattened, positions], [out], `${t}/qbench_sample`, [intAttr('axis', 0)]);
    return out;
  });
  offsets.push(offset);
  const minOut = concatFlat(writer, mins, 'qbench_min');
  const maxOut = concatFlat(writer, maxs, 'qbench_max');
  const valuesOut = writer.uniqueName('qbench_values');
  writer.addNode('Concat', sampled, [valuesOut], 'qbench_values/Concat', [intAttr('axis', 0)]);

  const session = await openSession(engine, extendedModel(model.proto, writer, [minOut, maxOut, valuesOut]), model.fileName);
  const outputNames = model.graph.outputs.map((o) => o.name);
  const floatOutputs: TensorMap[] = [];
  try {
    for (let s = 0; s < total; s++) {
      await letEventsIn();
      job.throwIfCancelled();
      job.progress({ stage: 'calibrating', done: s, total });
      let result;
      try {
        result = await session.run(dataset.samples[s], [...outputNames, minOut, maxOut, valuesOut]);
      } catch (error) {
        throw sampleError(error, model.fileName, 'calibrating', s, dataset.sampleNames[s]);
      }
      const min = result[minOut].data as Float32Array;
      const max = result[maxOut].data as Float32Array;
      const values = result[valuesOut].data as Float32Array;
      for (let t = 0; t < tensors.length; t++) {
        if (Number.isNaN(min[t]) || Number.isNaN(max[t])) throw new DataError(`sample ${s} (${dataset.sampleNames[s]}) makes tensor "${tensors[t]}" NaN`);
        sink(t, { min: min[t], max: max[t], count: sizes[t], values: values.subarray(offsets[t], offsets[t + 1]) }, s);
      }
      floatOutputs.push(Object.fromEntries(outputNames.map((name) => [name, result[name]])));
    }
    job.progress({ stage: 'calibrating', done: total, total });
  } finally {
    await session.dispose();
  }
  return { sizes, floatOutputs };
}
