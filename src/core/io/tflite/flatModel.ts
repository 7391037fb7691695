import * as flatbuffers from 'flatbuffers';
import { FormatError } from '../../errors';
import * as circle from '../circle/generated/circle';
import * as tflite from './generated/tflite';

/** The two flatbuffer model formats qbench reads, told apart by their file identifier (bytes 4..8). */
export type FlatFormat = 'tflite' | 'circle';

const IDENTIFIERS: Record<string, FlatFormat> = { TFL3: 'tflite', CIR0: 'circle' };

/**
 * The format of a model file from its content, not its name: 'tflite' (identifier TFL3), 'circle'
 * (CIR0), or null (anything else: an ONNX protobuf has no identifier there).
 */
export function flatFormatOf(bytes: Uint8Array): FlatFormat | null {
  if (bytes.length < 8) return null;
  return IDENTIFIERS[String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7])] ?? null;
}

/** Linear quantization of a tensor: real = scale * (q - zeroPoint), per tensor or along `axis`. */
export interface FlatQuantization {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly axis: number;
}

/** A tensor of the main subgraph, as the converter needs it. */
export interface FlatTensor {
  readonly index: number;
  /** The name in the file; `tensor_<index>` where the file has none (some TFLite Micro models strip them). */
  readonly name: string;
  /** TensorType code: the same numbering in both schemas for every type qbench reads. */
  readonly type: number;
  readonly shape: readonly number[];
  /** The stored values (a view on the file), or null for an activation. */
  readonly data: Uint8Array | null;
  readonly quantization: FlatQuantization | null;
  /** A variable tensor (an RNN state): the interpreter starts it at zero. */
  readonly isVariable: boolean;
}

/**
 * The name each tensor of the main subgraph goes by in the converted ONNX model (and so in the
 * calibration and every table): its own, with `_<index>` after a name an earlier tensor took.
 */
export function convertedTensorNames(tensors: readonly FlatTensor[]): string[] {
  const seen = new Set<string>();
  return tensors.map((t) => {
    const name = seen.has(t.name) ? `${t.name}_${t.index}` : t.name;
    seen.add(name);
    return name;
  });
}

/** An operator of the main subgraph with its builtin options as plain data. */
export interface FlatOperator {
  readonly index: number;
  /** The builtin operator's name in the schema ('CONV_2D'), or `CUSTOM:<code>`. */
  readonly opcode: string;
  readonly version: number;
  /** Tensor indices; -1 for an absent optional input. */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly intermediates: readonly number[];
  /** The builtin options table unpacked (field names as generated: `strideW`, `fusedActivationFunction`...). */
  readonly options: Readonly<Record<string, unknown>> | null;
}

/** The main subgraph of a .tflite or .circle file, format-neutral. */
export interface FlatModel {
  readonly format: FlatFormat;
  readonly fileName: string;
  readonly description: string;
  readonly version: number;
  readonly subgraphCount: number;
  readonly tensors: readonly FlatTensor[];
  readonly operators: readonly FlatOperator[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

// The two generated modules have the same accessors for every field read here (Circle's schema is
// TFLite's with extra operators and types), so one reader serves both through this shape.
type Schema = typeof tflite | typeof circle;

/**
 * Reads the main subgraph of a .tflite or .circle model with the code flatc generated from its
 * schema. Every problem is a FormatError naming the file: a damaged flatbuffer, no subgraph, a
 * sparse tensor, a buffer outside the file.
 */
export function readFlatModel(bytes: Uint8Array, fileName: string): FlatModel {
  const format = flatFormatOf(bytes);
  if (!format) throw new FormatError(fileName, 'this is not a TensorFlow Lite or Circle model: its file identifier (bytes 4 to 8) is neither TFL3 nor CIR0');
  const schema: Schema = format === 'tflite' ? tflite : circle;
  try {
    return readWith(schema, format, bytes, fileName);
  } catch (error) {
    if (error instanceof FormatError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new FormatError(fileName, `the ${format === 'tflite' ? 'TensorFlow Lite' : 'Circle'} model is damaged or truncated (${detail})`);
  }
}

function readWith(schema: Schema, format: FlatFormat, bytes: Uint8Array, fileName: string): FlatModel {
  const model = schema.Model.getRootAsModel(new flatbuffers.ByteBuffer(bytes));
  const subgraphCount = model.subgraphsLength();
  if (subgraphCount === 0) throw new FormatError(fileName, 'the model has no subgraph');
  const graph = model.subgraphs(0)!;
  const buffers = (index: number): Uint8Array | null => {
    if (index <= 0 || index >= model.buffersLength()) return null;
    const buffer = model.buffers(index)!;
    const offset = buffer.offset();
    if (offset > 1n) {
      // Models over 2 GB keep their buffers after the flatbuffer, addressed from the file's start.
      const start = Number(offset);
      const end = start + Number(buffer.size());
      if (end > bytes.length) throw new FormatError(fileName, `buffer ${index} lies outside the file (bytes ${start} to ${end} of ${bytes.length}); the file is truncated`);
      return bytes.subarray(start, end);
    }
    const data = buffer.dataArray();
    return data && data.length > 0 ? data : null;
  };
  const tensors: FlatTensor[] = [];
  for (let i = 0; i < graph.tensorsLength(); i++) {
    const t = graph.tensors(i)!;
    const name = t.name();
    if (t.sparsity()) throw new FormatError(fileName, `tensor "${name ?? `tensor_${i}`}" is stored sparse; qbench reads dense tensors only (densify the model before converting it)`);
    const q = t.quantization();
    const scale = q?.scaleArray();
    const quantization = q && scale && scale.length > 0
      ? { scale: [...scale], zeroPoint: Array.from({ length: q.zeroPointLength() }, (_, k) => Number(q.zeroPoint(k) ?? 0n)), axis: q.quantizedDimension() }
      : null;
    tensors.push({ index: i, name: name || `tensor_${i}`, type: t.type(), shape: [...(t.shapeArray() ?? [])], data: buffers(t.buffer()), quantization, isVariable: t.isVariable() });
  }
  const operatorNames = schema.BuiltinOperator as unknown as Record<number, string>;
  const operators: FlatOperator[] = [];
  for (let i = 0; i < graph.operatorsLength(); i++) {
    const op = graph.operators(i)!;
    const code = model.operatorCodes(op.opcodeIndex());
    if (!code) throw new FormatError(fileName, `operator ${i} names operator code ${op.opcodeIndex()}, which the model does not have`);
    // builtin_code (int32) superseded deprecated_builtin_code (int8); files carry either, or both.
    const builtin = Math.max(code.builtinCode(), code.deprecatedBuiltinCode());
    const isCustom = builtin === 32;
    const opcode = isCustom ? `CUSTOM:${code.customCode() ?? ''}` : (operatorNames[format === 'circle' && code.builtinCode() < 0 ? code.builtinCode() : builtin] ?? `BUILTIN_${builtin}`);
    const unpacked = op.unpack();
    operators.push({
      index: i,
      opcode,
      version: code.version(),
      inputs: [...unpacked.inputs],
      outputs: [...unpacked.outputs],
      intermediates: [...unpacked.intermediates],
      options: (unpacked.builtinOptions as unknown as Record<string, unknown> | null) ?? null,
    });
  }
  return {
    format,
    fileName,
    description: model.description() ?? '',
    version: model.version(),
    subgraphCount,
    tensors,
    operators,
    inputs: [...(graph.inputsArray() ?? [])],
    outputs: [...(graph.outputsArray() ?? [])],
  };
}
