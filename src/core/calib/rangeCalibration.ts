import type { Engine, Session } from '../engine/Engine';
import { sessionError } from '../engine/engineErrors';
import { DataError } from '../errors';
import type { Dataset } from '../io/dataset/Dataset';
import { GraphWriter } from '../io/onnx/GraphWriter';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { onnx } from '../io/onnx/protobuf';
import type { JobContext } from '../jobs/Job';
import type { TensorMap } from '../model/tensor';
import type { Range } from '../quant/qparams';
import { addReduction, scalarOf } from '../sim/reductions';

/** Names of the per-tensor reductions in the reference model. */
interface ReductionOutputs {
  readonly min: string;
  readonly max: string;
  readonly sumSquares: string;
  readonly count: string;
}

/** The float model plus, for each tensor, its min, max, sum of squares and element count. */
export function buildReferenceModel(model: OnnxModel, tensors: readonly string[]): { proto: onnx.ModelProto; reductions: ReductionOutputs[] } {
  const graph = model.proto.graph!;
  const writer = new GraphWriter([...graph.node.flatMap((n) => [n.name, ...n.output]), ...graph.input.map((i) => i.name), ...graph.initializer.map((t) => t.name)]);
  writer.nodes.push(...graph.node);
  const reductions = tensors.map((tensor) => ({
    min: addReduction(writer, 'ReduceMin', tensor),
    max: addReduction(writer, 'ReduceMax', tensor),
    sumSquares: addReduction(writer, 'ReduceSumSquare', tensor),
    count: addReduction(writer, 'Size', tensor),
  }));
  const extraOutputs = reductions.flatMap((r) => [r.min, r.max, r.sumSquares, r.count]).map((name) => onnx.ValueInfoProto.create({ name }));
  const proto = onnx.ModelProto.create({
    ...model.proto,
    graph: onnx.GraphProto.create({ ...graph, node: writer.nodes, initializer: [...graph.initializer, ...writer.initializers], output: [...graph.output, ...extraOutputs] }),
  });
  return { proto, reductions };
}

/** What the float model computes on the samples, kept to compare every evaluation with. */
export interface FloatReference {
  /** The float model's graph outputs for each sample. */
  readonly outputs: TensorMap[];
  /** sum f^2 of each measured tensor, per sample (sumSquares[sample][tensorIndex]). */
  readonly sumSquares: Float64Array[];
  /** Element count of each measured tensor, per sample. */
  readonly counts: Float64Array[];
  /** The tensors measured, in the order of the arrays above. */
  readonly tensors: readonly string[];
}

export interface RangeCalibration {
  /** Running min and max of every tensor over the samples (algorithms.md §2 "max"). */
  readonly ranges: Map<string, Range>;
  readonly reference: FloatReference;
}

/**
 * One pass over the samples through the float model with in-graph reductions: per-tensor min/max
 * (and sums of squares for later error metrics) without ever holding an activation in JavaScript.
 */
export async function calibrateRanges(engine: Engine, model: OnnxModel, tensors: readonly string[], dataset: Dataset, job: JobContext): Promise<RangeCalibration> {
  const { proto, reductions } = buildReferenceModel(model, tensors);
  let session: Session;
  try {
    session = await engine.createSession(onnx.ModelProto.encode(proto).finish(), { modelName: model.fileName });
  } catch (error) {
    throw sessionError(error, model.fileName);
  }
  const min = new Float64Array(tensors.length).fill(Infinity);
  const max = new Float64Array(tensors.length).fill(-Infinity);
  const reference: FloatReference = { outputs: [], sumSquares: [], counts: [], tensors };
  const outputNames = model.graph.outputs.map((o) => o.name);
  const fetches = [...outputNames, ...reductions.flatMap((r) => [r.min, r.max, r.sumSquares, r.count])];
  const total = dataset.samples.length;
  try {
    for (let i = 0; i < total; i++) {
      job.throwIfCancelled();
      job.progress({ stage: 'calibrating', done: i, total });
      const result = await session.run(dataset.samples[i], fetches);
      const sumSquares = new Float64Array(tensors.length);
      const counts = new Float64Array(tensors.length);
      reductions.forEach((r, t) => {
        const lo = scalarOf(result[r.min].data);
        const hi = scalarOf(result[r.max].data);
        if (Number.isNaN(lo) || Number.isNaN(hi)) throw new DataError(`sample ${i} (${dataset.sampleNames[i]}) makes tensor "${tensors[t]}" NaN`);
        if (lo < min[t]) min[t] = lo;
        if (hi > max[t]) max[t] = hi;
        sumSquares[t] = scalarOf(result[r.sumSquares].data);
        counts[t] = scalarOf(result[r.count].data);
      });
      const outputs: TensorMap = {};
      for (const name of outputNames) outputs[name] = result[name];
      reference.outputs.push(outputs);
      reference.sumSquares.push(sumSquares);
      reference.counts.push(counts);
    }
    job.progress({ stage: 'calibrating', done: total, total });
  } finally {
    await session.dispose();
  }
  const ranges = new Map<string, Range>();
  tensors.forEach((tensor, t) => ranges.set(tensor, { min: min[t], max: max[t] }));
  return { ranges, reference };
}
