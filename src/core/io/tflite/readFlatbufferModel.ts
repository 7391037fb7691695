import type { CaliEntry } from '../../model/CaliTable';
import { onnx } from '../onnx/protobuf';
import { convertFlatModel, isQuantizedModel } from './convertFlatModel';
import { readFlatModel, type FlatFormat } from './flatModel';

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
    note,
  };
}
