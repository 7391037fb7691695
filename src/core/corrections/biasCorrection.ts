import type { Engine } from '../engine/Engine';
import { DataError, sampleError } from '../errors';
import type { Dataset } from '../io/dataset/Dataset';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { addFloatHalf } from '../sim/probeModel';
import { onnx } from '../io/onnx/protobuf';
import { int64VectorProto } from '../io/onnx/tensorProto';
import { silentJob, type JobContext } from '../jobs/Job';
import { metricsFromSums } from '../metrics/similarity';
import type { LayerName } from '../model/ModelGraph';
import { QdqBuilder } from '../export/buildQdqModel';
import { type QuantizationContext } from '../quant/QuantizationContext';
import { isIntegerPrecision, type QTable } from '../model/QTable';
import { openSession } from '../engine/openSession';
import { addReduce, concatFlat } from '../io/onnx/graphExtension';
import { ModelEdit } from './modelEdit';

/** TPU-MLIR's min_layer_cos default (run_calibration --bc). */
export const DEFAULT_MIN_LAYER_COS = 0.99;

/** What one Conv's own quantization does to its output, over the samples. */
export interface ConvBiasError {
  readonly layer: LayerName;
  /**
   * Local cosine: the float output against the quantized Conv run on the float input (quantized with
   * the input's qparams), with its quantized weight and bias; mean over samples.
   */
  readonly cos: number;
  /** Per output channel: mean over samples of the mean over batch and positions of (float - quantized). */
  readonly meanError: Float32Array;
}

export interface CorrectedConv {
  readonly layer: LayerName;
  readonly localCos: number;
  /** Mean over channels of |added bias|. */
  readonly meanShift: number;
  /** What was added to each channel's bias. */
  readonly shift: Float32Array;
}

export interface BiasCorrectionOptions {
  /** Convs whose local cos is below this get corrected (TPU-MLIR min_layer_cos, default 0.99). */
  readonly minLayerCos?: number;
  readonly job?: JobContext;
}

export interface BiasCorrectionResult {
  /** The corrected float model (the input model itself when no Conv needed it). */
  readonly model: OnnxModel;
  readonly corrected: readonly CorrectedConv[];
  /** Every measured Conv, corrected or not (for the inspector). */
  readonly measured: readonly ConvBiasError[];
}

/**
 * Bias correction (docs/algorithms.md §6; TPU-MLIR run_calibration --bc): for each Conv with a float32
 * bias whose local cosine is below `minLayerCos`, adds to its bias the per-channel mean of
 * (float - quantized) output over the samples, so that the quantized Conv's output is unbiased.
 *
 * "Local" as docs/algorithms.md asks, and measured cheaply: the quantized half of the measuring model is
 * the QDQ model of `qtable` (QdqBuilder, the graph the workbench evaluates and exports), the float half
 * the float model, side by side in one session as in sim/probeModel.ts; for every integer Conv with a
 * bias, a copy of its quantized node (same int8 weight, int32 bias and input qparams) reads the
 * *float* input through its own QuantizeLinear/DequantizeLinear, so each Conv's error is its own and
 * not what upstream layers pass on. All Convs are therefore corrected at once without over-correcting
 * the ones downstream. Per Conv, ReduceMean of (f - q) over every axis but the channel and the sums
 * behind the cosine leave the engine as two concatenated vectors per run; activations never do.
 *
 * Contract with the caller: the result is a new float model with the same node and tensor names, to
 * be quantized with the same QTable and CaliTable. docs/algorithms.md's "revert if the output similarity
 * drops" is the caller's: evaluate the output similarity with the original and with the corrected
 * model (same samples, same QTable, same CaliTable) and keep the corrected one only if it is not worse.
 *
 * @example
 * const { model, corrected } = await biasCorrection(context, ALL_INT8, engine, samples, { minLayerCos: 0.99 });
 * // corrected: [{ layer: 'conv3', localCos: 0.981, meanShift: 0.012, shift: Float32Array(16) }]
 */
export async function biasCorrection(context: QuantizationContext, qtable: QTable, engine: Engine, samples: Dataset, options: BiasCorrectionOptions = {}): Promise<BiasCorrectionResult> {
  const minLayerCos = options.minLayerCos ?? DEFAULT_MIN_LAYER_COS;
  if (!(minLayerCos >= -1 && minLayerCos <= 1)) throw new RangeError(`minLayerCos must be in [-1, 1], got ${minLayerCos}`);
  const measured = await measureConvBiasErrors(context, qtable, engine, samples, { job: options.job });
  const edit = new ModelEdit(context.model);
  const corrected: CorrectedConv[] = [];
  for (const error of measured) {
    if (!(error.cos < minLayerCos)) continue;
    const conv = edit.nodes.find((n) => n.name === error.layer)!;
    const bias = edit.floatWeight(conv.input[2])!;
    let total = 0;
    for (let m = 0; m < bias.data.length; m++) {
      bias.data[m] += error.meanError[m];
      total += Math.abs(error.meanError[m]);
    }
    edit.writeInput(conv, 2, bias, 'bias_corrected');
    corrected.push({ layer: error.layer, localCos: error.cos, meanShift: total / bias.data.length, shift: error.meanError });
  }
  return { model: corrected.length ? edit.build() : context.model, corrected, measured };
}

export interface MeasureOptions {
  readonly job?: JobContext;
  /**
   * The float model the quantized Convs are compared with (default: context.model). After a bias
   * correction, pass the original model to see what remains of the error: the corrected float
   * model's own outputs moved with its biases.
   */
  readonly reference?: OnnxModel;
}

/**
 * The local error of every integer Conv with a float32 bias under `qtable`: its cosine and its
 * per-channel mean error (see biasCorrection). One session, one run per sample.
 */
export async function measureConvBiasErrors(context: QuantizationContext, qtable: QTable, engine: Engine, samples: Dataset, options: MeasureOptions = {}): Promise<ConvBiasError[]> {
  const job = options.job ?? silentJob;
  if (samples.samples.length === 0) throw new DataError('bias correction needs at least one sample; the dataset is empty');
  const builder = new QdqBuilder({ ...context, qtable });
  const convs = context.model.graph.nodes.filter((n) => n.opType === 'Conv' && !n.scope && (!n.domain || n.domain === 'ai.onnx') && n.inputs[2]
    && isFloatInitializer(context.model, n.inputs[1]) && isFloatInitializer(context.model, n.inputs[2]) && isIntegerPrecision(builder.precisions.get(n.name)!));
  if (convs.length === 0) return [];
  builder.emitAllLayers();
  const { writer } = builder;
  const quantizedNodes = [...writer.nodes];
  const emitted = new Map(quantizedNodes.map((n) => [n.name, n]));
  const producerOf = new Map(quantizedNodes.flatMap((n) => n.output.map((o) => [o, n] as const)));
  const asFloat = addFloatHalf(builder, options.reference ?? context.model);

  const shape = writer.addInitializer(int64VectorProto(writer.uniqueName('qbench_bias_nmr_shape'), [0, 0, -1]));
  const meanParts: string[] = [];
  const sumParts: string[] = [];
  const measured: { layer: LayerName; channels: number }[] = [];
  for (const conv of convs) {
    const quantized = emitted.get(conv.name);
    if (!quantized || quantized.opType !== 'Conv') continue;
    const base = `${conv.name}/qbench_local`;
    const localInput = localQuantizedInput(builder, producerOf, quantized.input[0], asFloat(conv.inputs[0]), base);
    const localOut = writer.uniqueName(`${conv.outputs[0]}/qbench_local`);
    writer.nodes.push(onnx.NodeProto.create({ ...quantized, name: writer.uniqueName(base), input: [localInput, ...quantized.input.slice(1)], output: [localOut] }));
    const reference = asFloat(conv.outputs[0]);
    const diff = writer.uniqueName(`${base}_error`);
    writer.addNode('Sub', [reference, localOut], [diff], `${base}_error`);
    const nmr = writer.uniqueName(`${base}_error_nmr`);
    writer.addNode('Reshape', [diff, shape], [nmr], `${base}_error_nmr`);
    meanParts.push(addReduce(writer, builder.opset, 'ReduceMean', nmr, [0, 2], 0, `${base}_mean_error`));
    for (const [tensor, label] of [[diff, 'dd'], [reference, 'ff'], [localOut, 'qq']] as const) {
      const out = writer.uniqueName(`${base}_${label}`);
      writer.addNode('ReduceSumSquare', [tensor], [out], `${base}_${label}`);
      sumParts.push(out);
    }
    measured.push({ layer: conv.name, channels: context.model.weight(conv.inputs[2]).dims[0] });
  }
  if (measured.length === 0) return [];
  const meansOut = concatFlat(writer, meanParts, 'qbench_bias_mean_error');
  const sumsOut = concatFlat(writer, sumParts, 'qbench_bias_sums');
  const proto = builder.finish([{ name: meansOut }, { name: sumsOut }]);
  const session = await openSession(engine, onnx.ModelProto.encode(proto).finish(), context.model.fileName);

  const means = measured.map((m) => new Float64Array(m.channels));
  const cosines = measured.map(() => 0);
  const total = samples.samples.length;
  try {
    for (let s = 0; s < total; s++) {
      job.throwIfCancelled();
      job.progress({ stage: 'bias correction', done: s, total });
      let result;
      try {
        result = await session.run(samples.samples[s], [meansOut, sumsOut]);
      } catch (error) {
        throw sampleError(error, context.model.fileName, 'bias correction', s, samples.sampleNames[s]);
      }
      const mean = result[meansOut].data as Float32Array;
      const sums = result[sumsOut].data as Float32Array;
      let at = 0;
      measured.forEach((m, k) => {
        for (let c = 0; c < m.channels; c++) means[k][c] += mean[at + c];
        at += m.channels;
        cosines[k] += metricsFromSums({ dd: sums[3 * k], ff: sums[3 * k + 1], qq: sums[3 * k + 2], count: 1 }).cos;
      });
    }
  } finally {
    await session.dispose();
  }
  job.progress({ stage: 'bias correction', done: total, total });
  return measured.map((m, k) => ({ layer: m.layer, cos: cosines[k] / total, meanError: Float32Array.from(means[k], (v) => v / total) }));
}

function isFloatInitializer(model: OnnxModel, name: string | undefined): boolean {
  return Boolean(name) && model.initializerProto(name!)?.dataType === onnx.TensorProto.DataType.FLOAT;
}

/**
 * The float input quantized exactly as the quantized Conv's input is: a copy of the
 * QuantizeLinear -> DequantizeLinear in front of it, reading the float tensor. A Conv whose input is
 * not behind a DequantizeLinear reads the float tensor itself.
 */
function localQuantizedInput(builder: QdqBuilder, producerOf: ReadonlyMap<string, onnx.NodeProto>, quantizedInput: string, floatInput: string, base: string): string {
  const { writer } = builder;
  const dq = producerOf.get(quantizedInput);
  const q = dq?.opType === 'DequantizeLinear' ? producerOf.get(dq.input[0]) : undefined;
  if (!dq || !q || q.opType !== 'QuantizeLinear') return floatInput;
  const quantized = writer.uniqueName(`${base}_input_quantized`);
  writer.nodes.push(onnx.NodeProto.create({ ...q, name: writer.uniqueName(`${base}_input_q`), input: [floatInput, ...q.input.slice(1)], output: [quantized] }));
  const dequantized = writer.uniqueName(`${base}_input_dequantized`);
  writer.nodes.push(onnx.NodeProto.create({ ...dq, name: writer.uniqueName(`${base}_input_dq`), input: [quantized, ...dq.input.slice(1)], output: [dequantized] }));
  return dequantized;
}
