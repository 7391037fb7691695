import type { CaliEntry } from '../../model/CaliTable';
import type { LayerName } from '../../model/ModelGraph';
import type { Precision } from '../../model/QTable';
import { onnx } from '../onnx/protobuf';
import { convertFlatModel, isQuantizedModel } from './convertFlatModel';
import { convertedTensorNames, readFlatModel, type FlatFormat, type FlatModel } from './flatModel';
import { TensorType } from './flatTensors';

export { flatFormatOf, type FlatFormat } from './flatModel';

/** A .tflite or .circle model converted for qbench. */
export interface ConvertedFlatbufferModel {
  readonly format: FlatFormat;
  /** The float ONNX model qbench works on (read it with readOnnx). */
  readonly float: Uint8Array;
  /**
   * For a quantized file: the same graph with every quantized tensor passed through the file's own
   * quantizer (its scale and zero point), i.e. the file's quantized model as onnxruntime runs it;
   * same inputs and outputs as `float`. Null for a float file.
   */
  readonly quantized: Uint8Array | null;
  /** The file's quantization of each activation as a calibration (empty for a float file). */
  readonly ranges: ReadonlyMap<string, CaliEntry>;
  /**
   * A quantized file's own precisions where they are not INT8, by operator (its node's name, the
   * tensor it writes): INT16 where the operator writes an int16 activation (a "16x8" file), FP32
   * where it writes a float one (an operator the file computes in float; DEQUANTIZE excepted, whose
   * float output is the file's way out of integers). Empty for a float file.
   */
  readonly precisions: ReadonlyMap<LayerName, Precision>;
  /** What a user must know about the conversion (a `note:` line, the line under the model's name). */
  readonly note: string;
}

/**
 * Reads a TensorFlow Lite (TFL3) or Circle (CIR0) model and converts it to ONNX: a FormatError for a
 * damaged file, a QbenchError naming the operator and the tensor for anything not converted.
 */
export function readFlatbufferModel(bytes: Uint8Array, fileName: string): ConvertedFlatbufferModel {
  const model = readFlatModel(bytes, fileName);
  const float = convertFlatModel(model, 'float');
  const quantizedFile = isQuantizedModel(model);
  const quantized = quantizedFile ? convertFlatModel(model, 'quantized') : null;
  const kind = model.format === 'circle' ? 'Circle' : 'TensorFlow Lite';
  const note = quantizedFile
    ? `converted from ${kind} (${model.operators.length} operators); the file is quantized: it opens as the float model with its own quantization (${float.ranges.size} tensors) imported as the calibration, and its own quantized model is measured next to yours`
    : `converted from ${kind} (${model.operators.length} operators)`;
  return {
    format: model.format,
    float: onnx.ModelProto.encode(float.proto).finish(),
    quantized: quantized ? onnx.ModelProto.encode(quantized.proto).finish() : null,
    ranges: float.ranges,
    precisions: quantizedFile ? filePrecisions(model) : new Map(),
    note,
  };
}

/** The precision each operator of a quantized file computes at, where it is not INT8 (ConvertedFlatbufferModel.precisions). */
function filePrecisions(model: FlatModel): Map<LayerName, Precision> {
  const names = convertedTensorNames(model.tensors);
  const precisions = new Map<LayerName, Precision>();
  for (const op of model.operators) {
    const written = op.outputs[0];
    const out = written >= 0 ? model.tensors[written] : undefined;
    if (!out || out.data !== null) continue;
    if (out.type === TensorType.INT16 && out.quantization) precisions.set(names[written], 'INT16');
    else if (out.type === TensorType.FLOAT32 && op.opcode !== 'DEQUANTIZE') precisions.set(names[written], 'FP32');
  }
  return precisions;
}
