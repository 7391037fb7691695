import type { CaliEntry } from '../model/CaliTable';
import type { Engine, ValueInfo } from '../engine/Engine';
import { DataError, sampleError } from '../errors';
import type { Dataset } from '../io/dataset/Dataset';
import { referencedNames, type GraphWriter } from '../io/onnx/GraphWriter';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { onnx } from '../io/onnx/protobuf';
import { makeTensorProto, scalarProto } from '../io/onnx/tensorProto';
import { silentJob, type JobContext } from '../jobs/Job';
import { indexGraph, type GraphNode } from '../model/ModelGraph';
import { inputRole, weightChannelAxis } from '../quant/inputRoles';
import { dequantizeWeight, quantizeWeightSymmetric } from '../quant/weightQuant';
import { inferTensorTypes } from '../engine/tensorTypes';
import { openSession } from '../engine/openSession';
import { concatFlat, writerOver } from '../io/onnx/graphExtension';

/**
 * TPU-MLIR's tune_steps: simple_tunner.py tries th_KL + i * (absmax - th_KL) / 21 for i = 0..21,
 * so 22 thresholds from th_KL to absmax inclusive (docs/algorithms.md §2 says "21 thresholds": 21 steps).
 */
export const TPU_MLIR_TUNE_STEPS = 21;
export const DEFAULT_TUNE_CANDIDATES = TPU_MLIR_TUNE_STEPS + 1;
/** TPU-MLIR run_calibration --tune_num default. */
export const DEFAULT_TUNE_NUM = 5;
/** TPU-MLIR's min_tuned_diff: a tensor whose absmax - th_KL is not above this is not tuned. */
export const DEFAULT_MIN_TUNED_DIFF = 0.01;
export const DEFAULT_MAX_TUNING_NODES = 3000;

export interface TuneOptions {
  /** Thresholds tried per tensor, evenly from th_KL to absmax inclusive (default 22, TPU-MLIR's). */
  readonly candidates?: number;
  /** Samples used: the first `tuneNum` of the dataset (TPU-MLIR tune_num, default 5). */
  readonly tuneNum?: number;
  /** Only these tensors (default: every entry whose source is 'kl'). */
  readonly tensors?: readonly string[];
  /** Observed min/max per tensor (the calibration statistics): the tuned entries' min/max are these clipped to ±threshold. */
  readonly ranges?: ReadonlyMap<string, { readonly min: number; readonly max: number }>;
  /** Element types of the model's tensors (Workbench.types); inferred with one session creation when absent. */
  readonly types?: ReadonlyMap<string, ValueInfo>;
  /** Consumers run with int8 per-channel fake-quantized weights, as TPU-MLIR's module_dq.fake_quant_weight() (default true). */
  readonly fakeQuantWeights?: boolean;
  /** A tensor whose absmax - th_KL is not above this keeps th_KL (TPU-MLIR min_tuned_diff, 0.01). */
  readonly minTunedDiff?: number;
  /** Nodes each tuning session adds to the float graph at most (tensors are batched to stay under it). */
  readonly maxNodesPerSession?: number;
  readonly job?: JobContext;
}

/** The losses of one tensor's candidates, and the threshold that won. */
export interface TensorTuning {
  readonly tensor: string;
  /** The nodes re-run with the tensor fake-quantized. */
  readonly consumers: readonly string[];
  readonly candidates: readonly number[];
  /** Mean over samples (and consumers) of ||ref - q||_2 / ||ref||_1 of the consumer's output, per candidate. */
  readonly losses: readonly number[];
  readonly threshold: number;
}

interface Consumer {
  readonly node: GraphNode;
  readonly proto: onnx.NodeProto;
  /** Input positions that read the tuned tensor as data (the others stay float). */
  readonly dataPositions: readonly number[];
  /** Output positions that are float32 (the loss is over them). */
  readonly floatOutputs: readonly number[];
}

interface Job {
  readonly tensor: string;
  readonly candidates: readonly number[];
  readonly consumers: readonly Consumer[];
}

/**
 * TPU-MLIR's threshold tuning after KL calibration (docs/algorithms.md §2; sophgo/tpu-mlir
 * python/calibration/simple_tunner.py, SimpleTuner.find_better_threshold and calc_distance): for
 * every activation tensor with a KL entry, thresholds th_KL + i (absmax - th_KL) / (candidates - 1)
 * are tried; for each, the tensor is fake-quantized (QuantizeLinear -> DequantizeLinear, int8
 * symmetric, scale th / 127: TPU-MLIR's import_quant_bias), each node that reads it is re-run on it
 * with its other inputs float (and its weights int8 fake-quantized, as TPU-MLIR's module_dq), and the
 * loss is ||ref - q||_2 / ||ref||_1 of that node's output against the float model's, averaged over the
 * samples. The first candidate with the smallest loss wins (TPU-MLIR replaces only on a strictly
 * smaller distance, so ties keep the lower threshold, th_KL first).
 *
 * Everything runs in the engine: one session per batch of tensors holds the float graph (the part
 * the batch needs) plus, per tensor and candidate, a Q/DQ of the tensor, a copy of every consumer and
 * per copy a ReduceSumSquare of its error; two concatenated vectors leave the engine per run, never
 * an activation. Batches add at most `maxNodesPerSession` nodes; progress is reported and
 * cancellation checked per batch and per sample.
 *
 * Deviations from TPU-MLIR, each for a reason: a tensor read by several nodes gets the mean of their
 * losses (TPU-MLIR tunes it at its first reader and may raise it at later ones, depending on input
 * order); a node with several activation inputs has only the tuned one fake-quantized (TPU-MLIR
 * fake-quantizes all of them at the candidate threshold), as the tuned tensor's own threshold is what
 * is being chosen.
 *
 * @example
 * const losses = await measureTuningLosses(model, engine, dataset, klEntries, absmax, { tuneNum: 5 });
 * // [{ tensor: 'relu1', consumers: ['conv2'], candidates: [2.1, 2.2, ...], losses: [0.0213, 0.0208, ...], threshold: 2.2 }]
 */
export async function measureTuningLosses(
  model: OnnxModel,
  engine: Engine,
  samples: Dataset,
  cali: ReadonlyMap<string, CaliEntry>,
  absmax: ReadonlyMap<string, number>,
  options: TuneOptions = {},
): Promise<TensorTuning[]> {
  const job = options.job ?? silentJob;
  const count = options.candidates ?? DEFAULT_TUNE_CANDIDATES;
  if (!Number.isInteger(count) || count < 2) throw new RangeError(`candidates must be an integer of at least 2, got ${count}`);
  const tuneNum = Math.min(samples.samples.length, options.tuneNum ?? DEFAULT_TUNE_NUM);
  if (tuneNum < 1) throw new DataError('threshold tuning needs at least one sample; the dataset is empty');
  const types = options.types ?? await inferTensorTypes(model, engine);
  const jobs = tuningJobs(model, cali, absmax, types, count, options);
  if (jobs.length === 0) return [];
  const batches = batchJobs(jobs, options.maxNodesPerSession ?? DEFAULT_MAX_TUNING_NODES);
  const fakeWeights = new FakeQuantWeights(model, options.fakeQuantWeights ?? true);
  const results: TensorTuning[] = [];
  for (const [b, batch] of batches.entries()) {
    job.throwIfCancelled();
    job.progress({ stage: 'tuning thresholds', done: b, total: batches.length });
    results.push(...await runBatch(model, engine, samples, tuneNum, batch, fakeWeights, job));
  }
  job.progress({ stage: 'tuning thresholds', done: batches.length, total: batches.length });
  return results;
}

/**
 * measureTuningLosses, turned into a CaliTable: every tuned tensor's entry gets the winning
 * threshold; every other entry comes back as it was. A tuned entry keeps `source: 'kl'` (TPU-MLIR
 * writes the tuned table as its KL table); its min/max become the observed range (options.ranges)
 * clipped to ±threshold, or without ranges, the KL entry's min/max with each side that KL clipped at
 * ±th_KL moved out to ±threshold.
 *
 * @example
 * const tuned = await tuneThresholds(model, engine, calibrationSamples, klTable, absmax, { ranges, types });
 * // klTable 'relu1': { threshold: 2.55, min: 0, max: 2.55, source: 'kl' }   (absmax 2.87)
 * // tuned   'relu1': { threshold: 2.67, min: 0, max: 2.67, source: 'kl' }   (one of 2.55 + i * 0.32 / 21)
 */
export async function tuneThresholds(
  model: OnnxModel,
  engine: Engine,
  samples: Dataset,
  cali: ReadonlyMap<string, CaliEntry>,
  absmax: ReadonlyMap<string, number>,
  options: TuneOptions = {},
): Promise<Map<string, CaliEntry>> {
  const tuned = await measureTuningLosses(model, engine, samples, cali, absmax, options);
  const table = new Map(cali);
  for (const { tensor, threshold } of tuned) {
    const entry = cali.get(tensor)!;
    table.set(tensor, tunedEntry(entry, threshold, options.ranges?.get(tensor)));
  }
  return table;
}

/**
 * A KL entry with a new threshold (see tuneThresholds for min/max).
 * @example tunedEntry({ threshold: 2, min: -2, max: 1.5, source: 'kl' }, 3) // { threshold: 3, min: -3, max: 1.5, source: 'kl' }
 */
export function tunedEntry(entry: CaliEntry, threshold: number, range?: { readonly min: number; readonly max: number }): CaliEntry {
  if (range) return { threshold, min: Math.max(range.min, -threshold), max: Math.min(range.max, threshold), source: entry.source };
  const clipped = (side: number) => Math.abs(side) >= entry.threshold * (1 - 1e-6);
  return {
    threshold,
    min: clipped(entry.min) && entry.min < 0 ? -threshold : entry.min,
    max: clipped(entry.max) && entry.max > 0 ? threshold : entry.max,
    source: entry.source,
  };
}

/**
 * Candidate thresholds th_KL + i (absmax - th_KL) / (count - 1), i = 0..count-1 (the last is absmax exactly).
 * @example tuningCandidates(1, 2, 3) // [1, 1.5, 2]
 */
export function tuningCandidates(thKl: number, absmax: number, count: number): number[] {
  const step = (absmax - thKl) / (count - 1);
  return Array.from({ length: count }, (_, i) => (i === count - 1 ? absmax : thKl + step * i));
}

function tuningJobs(model: OnnxModel, cali: ReadonlyMap<string, CaliEntry>, absmax: ReadonlyMap<string, number>, types: ReadonlyMap<string, ValueInfo>, count: number, options: TuneOptions): Job[] {
  const { consumers } = indexGraph(model.graph.nodes);
  const protoOf = new Map(model.proto.graph!.node.map((n) => [n.name, n]));
  const minDiff = options.minTunedDiff ?? DEFAULT_MIN_TUNED_DIFF;
  const wanted = options.tensors ? new Set(options.tensors) : undefined;
  const jobs: Job[] = [];
  for (const [tensor, entry] of cali) {
    if (entry.source !== 'kl' || (wanted && !wanted.has(tensor))) continue;
    const top = absmax.get(tensor);
    if (top === undefined || !(top - entry.threshold > minDiff)) continue;
    const readers: Consumer[] = [];
    for (const node of consumers.get(tensor) ?? []) {
      if (node.domain && node.domain !== 'ai.onnx') continue;
      if (node.scope || !protoOf.has(node.name)) continue; // inside an If branch: not tuned
      if (Object.values(node.attributes).some((v) => typeof v === 'object' && v !== null && 'graph' in v)) continue;
      const dataPositions = node.inputs.flatMap((input, k) => (input === tensor && inputRole(node.opType, k, false) === 'data' ? [k] : []));
      const floatOutputs = node.outputs.flatMap((o, k) => (o && types.get(o)?.dtype === 'float32' ? [k] : []));
      if (dataPositions.length && floatOutputs.length) readers.push({ node, proto: protoOf.get(node.name)!, dataPositions, floatOutputs });
    }
    if (readers.length) jobs.push({ tensor, candidates: tuningCandidates(entry.threshold, top, count), consumers: readers });
  }
  return jobs;
}

/** Nodes a job adds: per candidate a Q and a DQ, per consumer copy the node and per float output Sub, ReduceSumSquare, Reshape. */
function jobCost(job: Job): number {
  const perCandidate = 2 + job.consumers.reduce((n, c) => n + 1 + 3 * c.floatOutputs.length, 0);
  return job.candidates.length * perCandidate + job.consumers.reduce((n, c) => n + 2 * c.floatOutputs.length, 0);
}

function batchJobs(jobs: readonly Job[], maxNodes: number): Job[][] {
  const batches: Job[][] = [];
  let current: Job[] = [];
  let cost = 0;
  for (const job of jobs) {
    const c = jobCost(job);
    if (current.length && cost + c > maxNodes) {
      batches.push(current);
      current = [];
      cost = 0;
    }
    current.push(job);
    cost += c;
  }
  if (current.length) batches.push(current);
  return batches;
}

/** Int8 per-channel fake-quantized copies of consumer weights, computed once per weight. */
class FakeQuantWeights {
  private readonly done = new Map<string, onnx.TensorProto>();
  constructor(private readonly model: OnnxModel, private readonly enabled: boolean) {}

  /** The tensor the copy reads at input k: a fake-quantized weight, or the input itself. */
  input(node: GraphNode, k: number, writer: GraphWriter): string {
    const name = node.inputs[k];
    if (!this.enabled || !name || !this.model.isInitializer(name) || inputRole(node.opType, k, true) !== 'weight') return name;
    const weight = this.model.weight(name);
    if (weight.dtype !== 'float32') return name;
    const axis = weightChannelAxis(node.opType, weight.dims.length, { transB: node.attributes.transB as number | undefined });
    const key = `${name}\u0000${axis}`;
    let proto = this.done.get(key);
    if (!proto) {
      const q = quantizeWeightSymmetric(weight, axis, 'int8', true, 'max');
      proto = makeTensorProto(`${name}/qbench_fake_quant_${axis}`, { dtype: 'float32', dims: [...weight.dims], data: dequantizeWeight(q) });
      this.done.set(key, proto);
    }
    if (!writer.initializers.includes(proto)) {
      writer.reserve(proto.name);
      writer.addInitializer(proto);
    }
    return proto.name;
  }
}

/**
 * The float nodes a batch needs: every ancestor of the tuned tensors and of their consumers' inputs
 * (the consumers themselves give the reference outputs), in graph order.
 */
function neededFloatNodes(model: OnnxModel, batch: readonly Job[]): onnx.NodeProto[] {
  const nodes = model.proto.graph!.node;
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const keep = new Set<number>();
  const stack: number[] = [];
  const want = (tensor: string) => {
    const p = producer.get(tensor);
    if (p !== undefined && !keep.has(p)) {
      keep.add(p);
      stack.push(p);
    }
  };
  for (const job of batch) {
    want(job.tensor);
    for (const c of job.consumers) c.node.outputs.forEach((o) => o && want(o));
  }
  while (stack.length) for (const input of nodes[stack.pop()!].input) if (input) want(input);
  return nodes.filter((_, i) => keep.has(i));
}

async function runBatch(model: OnnxModel, engine: Engine, samples: Dataset, tuneNum: number, batch: readonly Job[], fakeWeights: FakeQuantWeights, job: JobContext): Promise<TensorTuning[]> {
  const graph = model.proto.graph!;
  const writer = writerOver(model, neededFloatNodes(model, batch));
  const zeroPoint = writer.addInitializer(scalarProto(writer.uniqueName('qbench_tune_zero_point'), 'int8', 0));
  const errorParts: string[] = [];
  const l1Index = new Map<string, number>();
  const l1Parts: string[] = [];
  /** Per job, candidate, consumer: the indices of its float outputs' error sums and reference L1 norms. */
  const layout = batch.map((tuning) => tuning.candidates.map(() => tuning.consumers.map(() => ({ errors: [] as number[], norms: [] as number[] }))));

  batch.forEach((tuning, j) => {
    for (const c of tuning.consumers) {
      for (const k of c.floatOutputs) {
        const ref = c.node.outputs[k];
        if (l1Index.has(ref)) continue;
        const out = writer.uniqueName(`${ref}/qbench_tune_L1`);
        writer.addNode('ReduceL1', [ref], [out], `${ref}/qbench_tune_L1`);
        l1Index.set(ref, l1Parts.length);
        l1Parts.push(out);
      }
    }
    tuning.candidates.forEach((threshold, i) => {
      const base = `${tuning.tensor}/qbench_tune_${i}`;
      const scale = writer.addInitializer(scalarProto(writer.uniqueName(`${base}_scale`), 'float32', threshold / 127));
      const quantized = writer.uniqueName(`${base}_quantized`);
      writer.addNode('QuantizeLinear', [tuning.tensor, scale, zeroPoint], [quantized], `${base}/QuantizeLinear`);
      const fake = writer.uniqueName(`${base}_fake_quant`);
      writer.addNode('DequantizeLinear', [quantized, scale, zeroPoint], [fake], `${base}/DequantizeLinear`);
      tuning.consumers.forEach((c, ci) => {
        const inputs = c.node.inputs.map((input, k) => (c.dataPositions.includes(k) ? fake : fakeWeights.input(c.node, k, writer)));
        const outputs = c.node.outputs.map((o) => (o ? writer.uniqueName(`${o}/${base}`) : o));
        writer.nodes.push(onnx.NodeProto.create({ ...c.proto, name: writer.uniqueName(`${c.node.name}/${base}`), input: inputs, output: outputs }));
        for (const k of c.floatOutputs) {
          const ref = c.node.outputs[k];
          const diff = writer.uniqueName(`${outputs[k]}_error`);
          writer.addNode('Sub', [ref, outputs[k]], [diff], `${outputs[k]}_error`);
          const dd = writer.uniqueName(`${outputs[k]}_error_sum_square`);
          writer.addNode('ReduceSumSquare', [diff], [dd], `${outputs[k]}_error_sum_square`);
          layout[j][i][ci].errors.push(errorParts.length);
          layout[j][i][ci].norms.push(l1Index.get(ref)!);
          errorParts.push(dd);
        }
      });
    });
  });
  const errorsOut = concatFlat(writer, errorParts, 'qbench_tune_errors');
  const normsOut = concatFlat(writer, l1Parts, 'qbench_tune_norms');
  const used = referencedNames(writer.nodes);
  const proto = onnx.ModelProto.create({
    ...model.proto,
    graph: onnx.GraphProto.create({
      ...graph,
      node: writer.nodes,
      initializer: [...graph.initializer, ...writer.initializers].filter((t) => used.has(t.name)),
      valueInfo: [],
      output: [errorsOut, normsOut].map((name) => onnx.ValueInfoProto.create({ name })),
    }),
  });
  // 'basic': no QDQ fusion, so the fake quantization is computed exactly as written
  const session = await openSession(engine, onnx.ModelProto.encode(proto).finish(), model.fileName, { graphOptimization: 'basic' });
  const sums = batch.map((tuning) => tuning.candidates.map(() => 0));
  try {
    for (let s = 0; s < tuneNum; s++) {
      job.throwIfCancelled();
      let result;
      try {
        result = await session.run(samples.samples[s], [errorsOut, normsOut]);
      } catch (error) {
        throw sampleError(error, model.fileName, 'threshold tuning', s, samples.sampleNames[s]);
      }
      const errors = result[errorsOut].data as Float32Array;
      const norms = result[normsOut].data as Float32Array;
      layout.forEach((perCandidate, j) => perCandidate.forEach((perConsumer, i) => {
        let total = 0;
        for (const { errors: e, norms: n } of perConsumer) total += distance(e.reduce((a, k) => a + errors[k], 0), n.reduce((a, k) => a + norms[k], 0));
        sums[j][i] += total / perConsumer.length;
      }));
    }
  } finally {
    await session.dispose();
  }
  return batch.map((tuning, j) => {
    const losses = sums[j].map((v) => v / tuneNum);
    let best = 0;
    for (let i = 1; i < losses.length; i++) if (losses[i] < losses[best]) best = i;
    return { tensor: tuning.tensor, consumers: tuning.consumers.map((c) => c.node.name), candidates: tuning.candidates, losses, threshold: tuning.candidates[best] };
  });
}

/** TPU-MLIR's calc_distance for one sample: ||ref - q||_2 / ||ref||_1 from sum (ref - q)^2 and sum |ref|. */
function distance(sumSquaredError: number, l1: number): number {
  if (l1 > 0) return Math.sqrt(sumSquaredError) / l1;
  return sumSquaredError > 0 ? Infinity : 0;
}
