import { openSession } from '../engine/openSession';
import { extendedModel, writerOver } from '../io/onnx/graphExtension';
import type { Engine } from '../engine/Engine';
import { DataError, sampleError } from '../errors';
import type { Dataset } from '../io/dataset/Dataset';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { intAttr } from '../io/onnx/attributes';
import { int64VectorProto, makeTensorProto } from '../io/onnx/tensorProto';
import type { JobContext } from '../jobs/Job';
import type { TensorMap } from '../model/tensor';
import { letEventsIn } from '../jobs/letEventsIn';
import { seededRandom } from '../seededRandom';
import { derivedTensors, mapValue, mapValues } from './derivedTensors';

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
  /**
   * Whether tensors that follow element by element from another observed one take their statistics
   * from it (derivedTensors.ts; default true). The statistics are the same either way, bit for bit;
   * false observes every tensor in the graph (what tests compare with).
   */
  readonly derive?: boolean;
}

export const DEFAULT_VALUES_PER_TENSOR = 4096;

/** Receives each sample's observations, tensor by tensor; keeps what it needs, never the values (their buffer is reused). */
export type ObservationSink = (tensorIndex: number, observation: SampleObservation, sampleIndex: number) => void;

/** `count` sorted distinct positions drawn uniformly from [0, size) (Floyd's algorithm). */
export function samplePositions(size: number, count: number, seed: number): number[] {
  if (count >= size) return Array.from({ length: size }, (_, i) => i);
  const next = seededRandom(seed);
  // The same picks and order as with a Set and Array.sort, in a fraction of the time (a calibration
  // pass draws them for hundreds of tensors): a bitmap, and a typed array's native numeric sort.
  if (size <= 1 << 26) {
    const chosen = new Uint8Array(size);
    const picked = new Int32Array(count);
    let n = 0;
    for (let j = size - count; j < size; j++) {
      const t = Math.floor(next() * (j + 1));
      const pick = chosen[t] ? j : t;
      chosen[pick] = 1;
      picked[n++] = pick;
    }
    return Array.from(picked.sort());
  }
  const chosen = new Set<number>();
  const picked = new Float64Array(count);
  let n = 0;
  for (let j = size - count; j < size; j++) {
    const t = Math.floor(next() * (j + 1));
    const pick = chosen.has(t) ? j : t;
    chosen.add(pick);
    picked[n++] = pick;
  }
  return Array.from(picked.sort());
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
  // Written last tensor first, as the observations are (runStatisticsPass): onnxruntime then counts
  // each tensor right after computing it instead of keeping every activation until the end (the
  // demo's count in onnxruntime-web: 181 MB of heap).
  const flatShape = writer.addInitializer(int64VectorProto(writer.uniqueName('qbench_sizes_shape'), [1]));
  const sizes = [...tensors].reverse().map((t) => {
    const size = writer.uniqueName(`${t}/qbench_Size`);
    writer.addNode('Size', [t], [size], `${t}/qbench_Size`);
    const out = writer.uniqueName(`${t}/qbench_Size_1d`);
    writer.addNode('Reshape', [size, flatShape], [out], `${t}/qbench_Size_1d`);
    return out;
  }).reverse();
  const output = writer.uniqueName('qbench_sizes');
  writer.addNode('Concat', sizes, [output], 'qbench_sizes/Concat', [intAttr('axis', 0)]);
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
 * min and max (ReduceMin/ReduceMax of the flattened tensor in the graph) and a seeded sample of its
 * values (GatherElements in the graph), all leaving the engine as one concatenated vector per run.
 * A tensor that follows element by element from another listed one (derivedTensors.ts: a Reshape,
 * an Add/Sub/Mul/Div by a scalar, a Clip) is not reduced or gathered: it is sampled at its root's
 * positions (whether derived or observed), so its extremes and values are its root's mapped, bit for
 * bit what observing it gives. Activations themselves never reach JavaScript, so memory stays flat however many
 * samples there are. Also returns the float model's graph outputs per sample, which later
 * evaluations compare with.
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
  let inferred = staticSizes(tensors, dataset.samples[0], staticDims);
  let sizes = inferred ?? await tensorSizes(engine, model, tensors, dataset.samples[0]);
  /** The extended model for these element counts, and where each statistic sits in its output. */
  const prepare = async (sizes: readonly number[]) => {
    // A tensor that follows element by element from another observed one (derivedTensors.ts) is
    // not reduced: its extremes come from its root's and its values from the root's sampled ones.
    const derivable = derivedTensors(model, tensors).map((d, i) => (d && sizes[d.root] === sizes[i] ? d : null));
    const derived = options.derive === false ? tensors.map(() => null) : derivable;
    // A derivable tensor is sampled at its root's positions, derived or observed: its values are then
    // its root's mapped, with no gather of its own, and observing it gives the same numbers.
    const positionsSeed = (i: number) => (options.seed ?? 1) + (derivable[i]?.root ?? i);
    const writer = writerOver(model);
    const flatShape = writer.addInitializer(int64VectorProto(writer.uniqueName('qbench_flat'), [-1]));
    const dependents = new Map<number, number[]>();
    derived.forEach((d, i) => { if (d) (dependents.get(d.root) ?? dependents.set(d.root, []).get(d.root)!).push(i); });
    const everyElement = (i: number) => options.valuesPerTensor === 'all' || options.valuesPerTensor >= sizes[i];
    // One output vector; where each root's min and max sit, and each tensor's sampled values ([start, end)).
    const minAt = new Int32Array(tensors.length);
    const maxAt = new Int32Array(tensors.length);
    const starts = new Int32Array(tensors.length);
    const ends = new Int32Array(tensors.length);
    const parts: string[] = [];
    let offset = 0;
    // Root by root, the last tensor first, each root's observations together: onnxruntime runs the
    // nodes in a depth-first order from that one output, so each tensor is observed right after it
    // is computed (while it is in cache) rather than every tensor kept to the end of the run.
    for (let r = tensors.length - 1; r >= 0; r--) {
      if (derived[r]) continue;
      const flat = writer.uniqueName(`${tensors[r]}/qbench_flat`);
      writer.addNode('Reshape', [tensors[r], flatShape], [flat], `${tensors[r]}/qbench_flat`);
      // Reductions of the flattened tensor keep one dimension: a [1] vector each, concatenated as is.
      for (const op of ['ReduceMin', 'ReduceMax'] as const) {
        const out = writer.uniqueName(`${tensors[r]}/qbench_${op}`);
        writer.addNode(op, [flat], [out], `${tensors[r]}/qbench_${op}`, [intAttr('keepdims', 1)]);
        parts.push(out);
      }
      minAt[r] = offset;
      maxAt[r] = offset + 1;
      offset += 2;
      for (const i of [r, ...(dependents.get(r) ?? [])]) {
        // A derived tensor reads its root's values (same size, same flat order, same positions).
        if (derived[i]) continue;
        const size = sizes[i];
        const want = everyElement(i) ? size : options.valuesPerTensor as number;
        starts[i] = offset;
        ends[i] = offset += want;
        if (want === size) {
          parts.push(flat);
          continue;
        }
        // int32 positions where they fit: GatherElements reads them faster than int64 ones
        const picked = samplePositions(size, want, positionsSeed(i));
        const positionsName = writer.uniqueName(`${tensors[i]}/qbench_positions`);
        const positions = writer.addInitializer(size <= 0x7fffffff ? makeTensorProto(positionsName, { dtype: 'int32', dims: [want], data: Int32Array.from(picked) }) : int64VectorProto(positionsName, picked));
        const out = writer.uniqueName(`${tensors[i]}/qbench_sample`);
        // GatherElements on the 1-D flattened tensor is Gather's copy of the same elements; onnxruntime's
        // Gather costs far more per index (README "Calibration in one pass").
        writer.addNode('GatherElements', [flat, positions], [out], `${tensors[i]}/qbench_sample`, [intAttr('axis', 0)]);
        parts.push(out);
      }
    }
    derived.forEach((d, i) => {
      if (!d) return;
      minAt[i] = minAt[d.root];
      maxAt[i] = maxAt[d.root];
      starts[i] = starts[d.root];
      ends[i] = ends[d.root];
    });
    const statisticsOut = writer.uniqueName('qbench_statistics');
    writer.addNode('Concat', parts, [statisticsOut], 'qbench_statistics/Concat', [intAttr('axis', 0)]);

    // A derived tensor's values are mapped into one reused buffer (sinks never keep the values).
    let longest = 0;
    tensors.forEach((_, i) => { if (derived[i]) longest = Math.max(longest, ends[i] - starts[i]); });
    const scratch = new Float32Array(longest);
    const session = await openSession(engine, extendedModel(model.proto, writer, [statisticsOut]), model.fileName);
    return { derived, minAt, maxAt, starts, ends, length: offset, statisticsOut, scratch, session };
  };
  let pass = await prepare(sizes);
  const outputNames = model.graph.outputs.map((o) => o.name);
  const floatOutputs: TensorMap[] = [];
  // An engine with several lanes (threads) runs the next samples while this thread takes in one's
  // statistics; each run's rejection is held until its turn (no unhandled rejection meanwhile).
  const lanes = Math.max(1, engine.lanes ?? 1);
  const inFlight = new Map<number, Promise<TensorMap>>();
  const start = (s: number) => {
    if (s >= total || inFlight.has(s)) return;
    let run: Promise<TensorMap>;
    try {
      run = pass.session.run(dataset.samples[s], [...outputNames, pass.statisticsOut]);
    } catch (error) {
      run = Promise.reject(error); // an engine that throws before its promise: told with the sample all the same
    }
    run.catch(() => {});
    inFlight.set(s, run);
  };
  try {
    for (let s = 0; s < total; s++) {
      await letEventsIn();
      job.throwIfCancelled();
      job.progress({ stage: 'calibrating', done: s, total });
      // Sample 0 runs alone: its element counts may prove the inferred ones wrong and the pass be made again.
      start(s);
      if (s > 0 && lanes > 1) for (let ahead = 1; ahead <= lanes; ahead++) start(s + ahead);
      let result;
      try {
        result = await inFlight.get(s)!;
      } catch (error) {
        throw sampleError(error, model.fileName, 'calibrating', s, dataset.sampleNames[s]);
      } finally {
        inFlight.delete(s);
      }
      if ((result[pass.statisticsOut].data as Float32Array).length !== pass.length) {
        // Element counts inferred from shapes that the run contradicts (a Loop's outputs): counted by a run instead.
        if (s > 0 || !inferred) throw new DataError(`sample ${s} (${dataset.sampleNames[s]}) gives the observed tensors other element counts than sample 0; calibrate with samples whose tensors keep their shapes`);
        await pass.session.dispose();
        sizes = await tensorSizes(engine, model, tensors, dataset.samples[0]);
        inferred = undefined;
        pass = await prepare(sizes);
        s--;
        continue;
      }
      const { derived, minAt, maxAt, starts, ends, scratch } = pass;
      const values = result[pass.statisticsOut].data as Float32Array;
      for (let t = 0; t < tensors.length; t++) {
        const d = derived[t];
        let low: number;
        let high: number;
        let own = values.subarray(starts[t], ends[t]);
        if (d) {
          const [a, b] = [mapValue(d, values[minAt[t]]), mapValue(d, values[maxAt[t]])];
          [low, high] = d.decreasing ? [b, a] : [a, b];
          own = mapValues(d, own, scratch.subarray(0, own.length));
        } else {
          low = values[minAt[t]];
          high = values[maxAt[t]];
        }
        if (Number.isNaN(low) || Number.isNaN(high)) throw new DataError(`sample ${s} (${dataset.sampleNames[s]}) makes tensor "${tensors[t]}" NaN`);
        sink(t, { min: low, max: high, count: sizes[t], values: own }, s);
      }
      floatOutputs.push(Object.fromEntries(outputNames.map((name) => [name, result[name]])));
    }
    job.progress({ stage: 'calibrating', done: total, total });
  } finally {
    // A session is not disposed under a run (a cancel or a failed sample leaves the next ones going).
    await Promise.allSettled(inFlight.values());
    await pass.session.dispose();
  }
  return { sizes, floatOutputs };
}
