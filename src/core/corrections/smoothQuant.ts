import type { Engine } from '../engine/Engine';
import { DataError, sampleError } from '../errors';
import type { Dataset } from '../io/dataset/Dataset';
import { samplePositions } from '../calib/statisticsPass';
import { intAttr, intAttribute } from '../io/onnx/attributes';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import type { onnx } from '../io/onnx/protobuf';
import { int64VectorProto } from '../io/onnx/tensorProto';
import { silentJob, type JobContext } from '../jobs/Job';
import { roundHalfEven } from '../quant/rounding';
import { openSession } from '../engine/openSession';
import { addReduce, concatFlat, extendedModel, writerOver } from '../io/onnx/graphExtension';
import { ModelEdit, type FloatWeight } from './modelEdit';
import { seededRandom } from '../seededRandom';

export interface SmoothQuantOptions {
  /** Step of the alpha grid over [0, 1] (docs/algorithms.md §6, TPU-MLIR: 0.05, i.e. 21 values). */
  readonly alphaStep?: number;
  /**
   * Rows of each smoothed activation (its last axis is the channel) sampled per sample for the alpha
   * search. Default: min(256, ceil(512 / samples)), about 512 rows in all, whatever the dataset size.
   */
  readonly rowsPerSample?: number;
  /** Output columns of each weight the search's MSE is measured on (seeded; default 64; all when fewer). */
  readonly outputColumns?: number;
  readonly seed?: number;
  readonly job?: JobContext;
}

/** One weight consumer smoothed together with its producer, and the alpha chosen for the producer. */
export interface SmoothedPair {
  readonly producer: string;
  readonly matmul: string;
  readonly alpha: number;
}

export interface SkippedSmoothing {
  readonly producer: string;
  readonly reason: string;
}

export interface SmoothQuantResult {
  /** The input model itself when nothing was smoothed, else a new model. */
  readonly model: OnnxModel;
  readonly pairs: readonly SmoothedPair[];
  readonly skipped: readonly SkippedSmoothing[];
}

export const DEFAULT_ALPHA_STEP = 0.05;
const DEFAULT_ROW_BUDGET = 512;
const MAX_ROWS_PER_SAMPLE = 256;
const DEFAULT_OUTPUT_COLUMNS = 64;

/** Where 1/s is folded: inputs of the producer whose last axis is the channel. */
interface FoldTarget {
  readonly node: onnx.NodeProto;
  readonly index: number;
}

/** A MatMul or Gemm reading the smoothed activation, with the layout of its weight. */
interface WeightUser {
  readonly node: onnx.NodeProto;
  /** Weight is [N, C] (Gemm transB = 1) instead of [C, N]. */
  readonly transposed: boolean;
}

interface Group {
  readonly producer: onnx.NodeProto;
  readonly tensor: string;
  readonly channels: number;
  readonly folds: readonly FoldTarget[];
  readonly users: readonly WeightUser[];
}

/**
 * SmoothQuant (Xiao et al. 2023; docs/algorithms.md §6; TPU-MLIR python/calibration/smoothquant.py) for
 * producer -> MatMul/Gemm pairs, where the producer is a LayerNormalization, a Mul by a per-channel
 * constant, or the Add(Mul(x, gamma), beta) tail of a decomposed LayerNorm, and its output feeds only
 * MatMul/Gemm nodes that read it as their data input and a float32 initializer as their weight (Q, K
 * and V projections share one smoothing). Per input channel c (the activation's last axis):
 *   s[c] = a[c]^alpha / w[c]^(1 - alpha)
 * with a[c] = max|x[..., c]| over the dataset (one pass through the float model, in-graph
 * ReduceMax(Abs(x)) over every axis but the last) and w[c] = max|W[c, :]| over every consumer's
 * weight. alpha runs over 0, alphaStep, ..., 1 and the one with the smallest summed MSE of the int8
 * product qdq(x / s) qdq(W s) against x W wins, measured on rows of x sampled (seeded) in the same
 * pass: activations per tensor symmetric with threshold max(a / s) and clip at ±127 as TPU-MLIR's
 * qdq_act, weights per output channel symmetric (qbench's weight default, docs/algorithms.md §1). 1/s is
 * folded into the producer (LayerNorm scale and bias, the Mul constant, gamma and beta) and s into the
 * weight rows, so the float model computes the same function. A group whose best smoothing does not
 * lower that MSE below no smoothing at all is left alone and listed in `skipped`.
 *
 * A model without such pairs comes back unchanged (the same object) with empty lists, and no pass runs.
 *
 * @example
 * const { model, pairs } = await smoothQuant(floatModel, engine, dataset);
 * // pairs: [{ producer: 'ln1', matmul: 'q_proj', alpha: 0.55 }, { producer: 'ln1', matmul: 'k_proj', alpha: 0.55 }]
 */
export async function smoothQuant(model: OnnxModel, engine: Engine, dataset: Dataset, options: SmoothQuantOptions = {}): Promise<SmoothQuantResult> {
  const job = options.job ?? silentJob;
  const alphaStep = options.alphaStep ?? DEFAULT_ALPHA_STEP;
  if (!(alphaStep > 0 && alphaStep <= 1)) throw new RangeError(`alphaStep must be in (0, 1], got ${alphaStep}`);
  const edit = new ModelEdit(model);
  const { groups, skipped } = findGroups(edit);
  if (groups.length === 0) return { model, pairs: [], skipped };
  if (dataset.samples.length === 0) throw new DataError('SmoothQuant needs at least one sample to measure the activations; the dataset is empty');

  const seed = options.seed ?? 1;
  const rowsPerSample = options.rowsPerSample ?? Math.min(MAX_ROWS_PER_SAMPLE, Math.ceil(DEFAULT_ROW_BUDGET / dataset.samples.length));
  if (!(rowsPerSample >= 1) || !Number.isInteger(rowsPerSample)) throw new RangeError(`rowsPerSample must be a positive integer, got ${rowsPerSample}`);
  const measured = await measureActivations(engine, model, groups, dataset, rowsPerSample, seed, job);

  const alphas: number[] = [];
  for (let k = 0; k * alphaStep <= 1 + 1e-9; k++) alphas.push(Math.min(1, Number((k * alphaStep).toFixed(10))));
  const pairs: SmoothedPair[] = [];
  for (const [g, group] of groups.entries()) {
    job.throwIfCancelled();
    job.progress({ stage: 'SmoothQuant: searching alpha', done: g, total: groups.length });
    const weights = group.users.map((u) => edit.floatWeight(u.node.input[1])!);
    const w = weightRanges(group, weights);
    const { absmax, rows } = measured[g];
    const search = new AlphaSearch(rows, group.channels, group.users, weights, options.outputColumns ?? DEFAULT_OUTPUT_COLUMNS, seed + g);
    const baseline = search.loss(new Float64Array(group.channels).fill(1), absmax);
    let best: { loss: number; alpha: number; s: Float64Array } = { loss: Infinity, alpha: 0, s: new Float64Array(0) };
    for (const alpha of alphas) {
      const s = smoothingScales(absmax, w, alpha);
      const loss = search.loss(s, absmax);
      if (loss < best.loss) best = { loss, alpha, s };
    }
    if (!(best.loss < baseline)) {
      skipped.push({ producer: group.producer.name, reason: `no alpha lowers the int8 product's MSE (best ${best.loss.toPrecision(4)} at alpha ${best.alpha}, ${baseline.toPrecision(4)} without smoothing)` });
      continue;
    }
    fold(edit, group, weights, best.s);
    for (const user of group.users) pairs.push({ producer: group.producer.name, matmul: user.node.name, alpha: best.alpha });
  }
  job.progress({ stage: 'SmoothQuant: searching alpha', done: groups.length, total: groups.length });
  return { model: pairs.length ? edit.build() : model, pairs, skipped };
}

/**
 * s[c] = a[c]^alpha / w[c]^(1 - alpha); a channel where that is not a positive finite number (a dead
 * channel, a zero weight row) keeps s = 1, as TPU-MLIR sets inf and nan to 1.
 * @example smoothingScales([4, 1], [1, 4], 0.5) // [2, 0.5]
 */
export function smoothingScales(a: ArrayLike<number>, w: ArrayLike<number>, alpha: number): Float64Array {
  const s = new Float64Array(a.length);
  for (let c = 0; c < a.length; c++) {
    const v = Math.pow(a[c], alpha) / Math.pow(w[c], 1 - alpha);
    s[c] = Number.isFinite(v) && v > 0 ? v : 1;
  }
  return s;
}

/** w[c] = max over every consumer of max|W[c, :]|. */
function weightRanges(group: Group, weights: readonly FloatWeight[]): Float64Array {
  const w = new Float64Array(group.channels);
  group.users.forEach((user, u) => {
    const { dims, data } = weights[u];
    const [rowsC, cols] = user.transposed ? [dims[1], dims[0]] : [dims[0], dims[1]];
    for (let c = 0; c < rowsC; c++) {
      for (let j = 0; j < cols; j++) {
        const v = Math.abs(user.transposed ? data[j * rowsC + c] : data[c * cols + j]);
        if (v > w[c]) w[c] = v;
      }
    }
  });
  return w;
}

/** The int8 product's MSE for a smoothing, on sampled rows and output columns (all in JavaScript). */
class AlphaSearch {
  private readonly users: { readonly wt: Float32Array; readonly wq: Float32Array; readonly columns: number; readonly reference: Float64Array; readonly y: Float64Array }[];
  private readonly xq: Float32Array;

  constructor(private readonly x: Float32Array, private readonly channels: number, users: readonly WeightUser[], weights: readonly FloatWeight[], outputColumns: number, seed: number) {
    const rows = x.length / channels;
    this.xq = new Float32Array(x.length);
    this.users = users.map((user, u) => {
      const { dims, data } = weights[u];
      const total = user.transposed ? dims[0] : dims[1];
      const picked = samplePositions(total, outputColumns, seed + u);
      // wt[j * C + c] = W[c, column j]: column-major for the dot products below
      const wt = new Float32Array(picked.length * channels);
      picked.forEach((col, j) => {
        for (let c = 0; c < channels; c++) wt[j * channels + c] = user.transposed ? data[col * channels + c] : data[c * total + col];
      });
      const reference = new Float64Array(rows * picked.length);
      product(x, wt, rows, channels, picked.length, reference);
      return { wt, wq: new Float32Array(wt.length), columns: picked.length, reference, y: new Float64Array(reference.length) };
    });
  }

  loss(s: Float64Array, absmax: Float32Array): number {
    const { x, xq, channels } = this;
    const rows = x.length / channels;
    let mxa = 0;
    for (let c = 0; c < channels; c++) mxa = Math.max(mxa, absmax[c] / s[c]);
    const step = mxa > 0 ? mxa / 127 : 1;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < channels; c++) {
        const q = Math.max(-127, Math.min(127, roundHalfEven(x[r * channels + c] / s[c] / step)));
        xq[r * channels + c] = q * step;
      }
    }
    let loss = 0;
    for (const user of this.users) {
      const { wq, y } = user;
      for (let j = 0; j < user.columns; j++) {
        let m = 0;
        for (let c = 0; c < channels; c++) m = Math.max(m, Math.abs(user.wt[j * channels + c] * s[c]));
        const ws = m > 0 ? m / 127 : 1;
        for (let c = 0; c < channels; c++) wq[j * channels + c] = roundHalfEven((user.wt[j * channels + c] * s[c]) / ws) * ws;
      }
      product(xq, wq, rows, channels, user.columns, y);
      let sum = 0;
      for (let i = 0; i < y.length; i++) sum += (y[i] - user.reference[i]) ** 2;
      loss += sum / y.length;
    }
    return loss;
  }
}

/** out[r * J + j] = sum_c x[r * C + c] * wt[j * C + c]. */
function product(x: Float32Array, wt: Float32Array, rows: number, channels: number, columns: number, out: Float64Array): void {
  for (let r = 0; r < rows; r++) {
    const xr = r * channels;
    for (let j = 0; j < columns; j++) {
      const wj = j * channels;
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += x[xr + c] * wt[wj + c];
      out[r * columns + j] = sum;
    }
  }
}

/** x / s folded into the producer, W * s into the consumers' weight rows. */
function fold(edit: ModelEdit, group: Group, weights: readonly FloatWeight[], s: Float64Array): void {
  const C = group.channels;
  for (const target of group.folds) {
    const p = edit.floatWeight(target.node.input[target.index])!;
    for (let e = 0; e < p.data.length; e++) p.data[e] /= s[e % C];
    edit.writeInput(target.node, target.index, p, 'smoothed');
  }
  group.users.forEach((user, u) => {
    const { dims, data } = weights[u];
    if (user.transposed) {
      for (let e = 0; e < data.length; e++) data[e] *= s[e % C];
    } else {
      const cols = dims[1];
      for (let e = 0; e < data.length; e++) data[e] *= s[Math.floor(e / cols)];
    }
    edit.writeInput(user.node, 1, weights[u], 'smoothed');
  });
}

/** The channel count a float32 initializer's last axis gives, or undefined. */
function lastDim(edit: ModelEdit, name: string | undefined): number | undefined {
  const w = edit.floatWeight(name);
  return w && w.dims.length >= 1 ? w.dims[w.dims.length - 1] : undefined;
}

function findGroups(edit: ModelEdit): { groups: Group[]; skipped: SkippedSmoothing[] } {
  const groups: Group[] = [];
  const skipped: SkippedSmoothing[] = [];
  for (const node of edit.nodes) {
    if (node.domain && node.domain !== 'ai.onnx') continue;
    const folds = foldTargets(edit, node);
    if (!folds) continue;
    const tensor = node.output[0];
    const readers = edit.consumers(tensor);
    const weightReaders = readers.filter((r) => r.opType === 'MatMul' || r.opType === 'Gemm');
    if (weightReaders.length === 0) continue; // not a SmoothQuant candidate at all
    const skip = (reason: string) => skipped.push({ producer: node.name, reason });
    if (edit.graphOutputs.has(tensor)) { skip(`its output "${tensor}" is a graph output`); continue; }
    const other = readers.find((r) => r.opType !== 'MatMul' && r.opType !== 'Gemm');
    if (other) { skip(`its output also feeds ${other.opType} "${other.name}"; only MatMul/Gemm consumers can take the scales`); continue; }
    const users: WeightUser[] = [];
    let channels: number | undefined;
    let problem: string | undefined;
    for (const reader of readers) {
      const weight = edit.floatWeight(reader.input[1]);
      if (reader.input[0] !== tensor || reader.input.lastIndexOf(tensor) !== 0) problem = `${reader.opType} "${reader.name}" reads it other than as its data input`;
      else if (!weight || weight.dims.length !== 2) problem = `the weight of ${reader.opType} "${reader.name}" is not a 2-D float32 initializer`;
      else if (reader.opType === 'Gemm' && intAttribute(reader, 'transA', 0) !== 0) problem = `Gemm "${reader.name}" transposes its input (transA = 1)`;
      if (problem) break;
      const transposed = reader.opType === 'Gemm' && intAttribute(reader, 'transB', 0) !== 0;
      const c = transposed ? weight!.dims[1] : weight!.dims[0];
      if (channels !== undefined && c !== channels) { problem = `its consumers' weights have ${channels} and ${c} input rows`; break; }
      channels = c;
      users.push({ node: reader, transposed });
    }
    if (problem) { skip(problem); continue; }
    const mismatch = folds.find((f) => lastDim(edit, f.node.input[f.index]) !== channels);
    if (mismatch) {
      skip(`"${mismatch.node.input[mismatch.index]}" does not have ${channels} values along its last axis, one per channel`);
      continue;
    }
    groups.push({ producer: node, tensor, channels: channels!, folds, users });
  }
  return { groups, skipped };
}

/**
 * The producer's per-channel constants that 1/s can be folded into, or undefined when the node is
 * not a SmoothQuant producer: LayerNormalization (scale, bias), Mul(x, c), Add(Mul(x, gamma), beta).
 */
function foldTargets(edit: ModelEdit, node: onnx.NodeProto): FoldTarget[] | undefined {
  const constantInput = (n: onnx.NodeProto): number | undefined => {
    if (n.input.length !== 2) return undefined;
    const k = n.input.findIndex((i) => edit.floatWeight(i) !== undefined);
    return k >= 0 && edit.floatWeight(n.input[1 - k]) === undefined && (lastDim(edit, n.input[k]) ?? 1) > 1 ? k : undefined;
  };
  switch (node.opType) {
    case 'LayerNormalization': {
      if (!edit.floatWeight(node.input[1]) || (node.input[2] && !edit.floatWeight(node.input[2]))) return undefined;
      if (node.output.slice(1).some((o) => o && (edit.consumers(o).length > 0 || edit.graphOutputs.has(o)))) return undefined;
      return node.input[2] ? [{ node, index: 1 }, { node, index: 2 }] : [{ node, index: 1 }];
    }
    case 'Mul': {
      const k = constantInput(node);
      return k === undefined ? undefined : [{ node, index: k }];
    }
    case 'Add': {
      const k = constantInput(node);
      if (k === undefined) return undefined;
      const mul = edit.producer(node.input[1 - k]);
      if (!mul || mul.opType !== 'Mul' || edit.consumers(mul.output[0]).length !== 1 || edit.graphOutputs.has(mul.output[0])) return undefined;
      const g = constantInput(mul);
      return g === undefined ? undefined : [{ node: mul, index: g }, { node, index: k }];
    }
    default:
      return undefined;
  }
}

/**
 * One pass over the dataset through the float model: per group, a[c] = max over samples of
 * ReduceMax(Abs(x reshaped to [-1, C]), axis 0), and `rowsPerSample` rows of x per sample (seeded row
 * indices taken modulo the sample's row count in the graph, so samples of any length work; the row
 * count comes back too, and repeated rows are dropped in JavaScript). Three concatenated outputs.
 */
async function measureActivations(engine: Engine, model: OnnxModel, groups: readonly Group[], dataset: Dataset, rowsPerSample: number, seed: number, job: JobContext): Promise<{ absmax: Float32Array; rows: Float32Array }[]> {
  const writer = writerOver(model);
  const random = seededRandom(seed);
  const picks = Array.from({ length: rowsPerSample }, () => Math.floor(random() * 2147483647));
  const pickName = writer.addInitializer(int64VectorProto(writer.uniqueName('qbench_smoothquant_rows'), picks));
  const zero = writer.addInitializer(int64VectorProto(writer.uniqueName('qbench_smoothquant_zero'), [0]));
  const absmaxParts: string[] = [];
  const rowParts: string[] = [];
  const countParts: string[] = [];
  for (const group of groups) {
    const base = `${group.tensor}/qbench_smoothquant`;
    const shape = writer.addInitializer(int64VectorProto(writer.uniqueName(`${base}_shape`), [-1, group.channels]));
    const flat = writer.uniqueName(`${base}_2d`);
    writer.addNode('Reshape', [group.tensor, shape], [flat], `${base}_2d`);
    const abs = writer.uniqueName(`${base}_abs`);
    writer.addNode('Abs', [flat], [abs], `${base}_abs`);
    absmaxParts.push(addReduce(writer, model.opset, 'ReduceMax', abs, [0], 0, `${base}_absmax`));
    const shapeOf = writer.uniqueName(`${base}_shape_of`);
    writer.addNode('Shape', [flat], [shapeOf], `${base}_shape_of`);
    const count = writer.uniqueName(`${base}_row_count`);
    writer.addNode('Gather', [shapeOf, zero], [count], `${base}_row_count`, [intAttr('axis', 0)]);
    const index = writer.uniqueName(`${base}_row_index`);
    writer.addNode('Mod', [pickName, count], [index], `${base}_row_index`);
    const rows = writer.uniqueName(`${base}_rows`);
    writer.addNode('Gather', [flat, index], [rows], `${base}_rows`, [intAttr('axis', 0)]);
    rowParts.push(rows);
    countParts.push(count);
  }
  const absmaxOut = concatFlat(writer, absmaxParts, 'qbench_smoothquant_absmax');
  const rowsOut = concatFlat(writer, rowParts, 'qbench_smoothquant_rows_out');
  const countOut = concatFlat(writer, countParts, 'qbench_smoothquant_row_counts');
  const session = await openSession(engine, extendedModel(model.proto, writer, [absmaxOut, rowsOut, countOut]), model.fileName);

  const absmax = groups.map((g) => new Float32Array(g.channels));
  const rows = groups.map(() => [] as Float32Array[]);
  const total = dataset.samples.length;
  try {
    for (let s = 0; s < total; s++) {
      job.throwIfCancelled();
      job.progress({ stage: 'SmoothQuant: measuring activations', done: s, total });
      let result;
      try {
        result = await session.run(dataset.samples[s], [absmaxOut, rowsOut, countOut]);
      } catch (error) {
        throw sampleError(error, model.fileName, 'SmoothQuant: measuring activations', s, dataset.sampleNames[s]);
      }
      const a = result[absmaxOut].data as Float32Array;
      const r = result[rowsOut].data as Float32Array;
      const counts = Array.from(result[countOut].data as BigInt64Array, Number);
      let aAt = 0;
      let rAt = 0;
      groups.forEach((group, g) => {
        const C = group.channels;
        for (let c = 0; c < C; c++) absmax[g][c] = Math.max(absmax[g][c], a[aAt + c]);
        aAt += C;
        const seen = new Set<number>();
        picks.forEach((pick, k) => {
          const row = pick % counts[g];
          if (seen.has(row)) return;
          seen.add(row);
          rows[g].push(r.slice(rAt + k * C, rAt + (k + 1) * C));
        });
        rAt += rowsPerSample * C;
      });
    }
  } finally {
    await session.dispose();
  }
  job.progress({ stage: 'SmoothQuant: measuring activations', done: total, total });
  return groups.map((group, g) => {
    const joined = new Float32Array(rows[g].length * group.channels);
    rows[g].forEach((row, k) => joined.set(row, k * group.channels));
    return { absmax: absmax[g], rows: joined };
  });
}
