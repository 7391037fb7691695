import * as flatbuffers from 'flatbuffers';
import { unzipSync } from 'fflate';
import { readFileSync } from 'node:fs';
import * as circle from '../../src/core/io/circle/generated/circle';
import * as tflite from '../../src/core/io/tflite/generated/tflite';
import { parseNpy, type NpyArray } from '../../src/core/io/dataset/npy';

/** The stored inputs and outputs of a corpus model (`X.ref.npz`: in_0.., out_0..; `names` is not read). */
export function readReference(path: string): { inputs: NpyArray[]; outputs: NpyArray[] } {
  const entries = unzipSync(new Uint8Array(readFileSync(path)));
  const arrays = (prefix: string) => Object.keys(entries).filter((k) => k.startsWith(prefix)).sort().map((k) => parseNpy(entries[k], `${path}:${k}`));
  return { inputs: arrays('in_'), outputs: arrays('out_') };
}

/** A .tflite's object tree, to edit and write again. */
export function unpackTflite(bytes: Uint8Array): tflite.ModelT {
  return tflite.Model.getRootAsModel(new flatbuffers.ByteBuffer(bytes)).unpack();
}

export function packTflite(model: tflite.ModelT): Uint8Array {
  const builder = new flatbuffers.Builder(1024);
  tflite.Model.finishModelBuffer(builder, model.pack(builder));
  return builder.asUint8Array().slice();
}

/**
 * The .circle ONE would make of a .tflite with no Circle-only content: every table rebuilt with the
 * code generated from circle_schema.fbs (same field values; the operator options' union codes are
 * the same in both schemas for TFLite's options) and written with the identifier CIR0.
 */
export function tfliteToCircle(bytes: Uint8Array, edit: (model: circle.ModelT) => void = () => {}): Uint8Array {
  const t = unpackTflite(bytes);
  const optionsClass = (type: number): string => `${tflite.BuiltinOptions[type]}T`;
  const model = new circle.ModelT(
    t.version,
    t.operatorCodes.map((c) => new circle.OperatorCodeT(c.deprecatedBuiltinCode, c.customCode, c.version, c.builtinCode as number as circle.BuiltinOperator)),
    t.subgraphs.map((g) => new circle.SubGraphT(
      g.tensors.map((x) => new circle.TensorT(x.shape, x.type as number as circle.TensorType, x.buffer, x.name, x.quantization
        ? new circle.QuantizationParametersT(x.quantization.min, x.quantization.max, x.quantization.scale, x.quantization.zeroPoint, circle.QuantizationDetails.NONE, null, x.quantization.quantizedDimension)
        : null, x.isVariable, null, x.shapeSignature, x.hasRank)),
      g.inputs,
      g.outputs,
      g.operators.map((op) => {
        const Options = op.builtinOptions ? (circle as unknown as Record<string, new () => object>)[optionsClass(op.builtinOptionsType)] : null;
        const options = op.builtinOptions && Options ? Object.assign(new Options(), op.builtinOptions) : null;
        return new circle.OperatorT(op.opcodeIndex, op.inputs, op.outputs, op.builtinOptionsType as number, options as circle.OperatorT['builtinOptions'], op.customOptions, op.customOptionsFormat, op.mutatingVariableInputs, op.intermediates);
      }),
      g.name,
    )),
    t.description,
    t.buffers.map((b) => new circle.BufferT(b.data)),
  );
  edit(model);
  const builder = new flatbuffers.Builder(1024);
  circle.Model.finishModelBuffer(builder, model.pack(builder));
  return builder.asUint8Array().slice();
}

/**
 * A "16x8" .tflite made from an int8 one: every int8 activation becomes int16, symmetric (zero point
 * 0) over the range the int8 one covered, and each bias int64 at the new input scale times the
 * weight's, as TensorFlow Lite's 16x8 converter stores them; weights stay int8.
 */
export function to16x8(bytes: Uint8Array): Uint8Array {
  const model = unpackTflite(bytes);
  const graph = model.subgraphs[0];
  const constant = (t: tflite.TensorT) => model.buffers[t.buffer]?.data.length > 0;
  for (const t of graph.tensors) {
    const q = t.quantization;
    if (constant(t) || t.type !== tflite.TensorType.INT8 || !q) continue;
    const zp = Number(q.zeroPoint[0] ?? 0n);
    const limit = Math.max(Math.abs((-128 - zp) * q.scale[0]), Math.abs((127 - zp) * q.scale[0]));
    t.type = tflite.TensorType.INT16;
    q.scale = [limit / 32767];
    q.zeroPoint = [0n];
  }
  for (const op of graph.operators) {
    const [input, weight, bias] = op.inputs.map((i) => (i >= 0 ? graph.tensors[i] : undefined));
    if (!input || !weight || !bias || !constant(bias) || bias.type !== tflite.TensorType.INT32 || !bias.quantization) continue;
    const stored = new Int32Array(Uint8Array.from(model.buffers[bias.buffer].data).buffer);
    const wScales = weight.quantization!.scale;
    const scales = Array.from(stored, (_, c) => input.quantization!.scale[0] * (wScales[c] ?? wScales[0]));
    const biasScales = bias.quantization.scale;
    const wide = BigInt64Array.from(stored, (q, c) => BigInt(Math.round((q * (biasScales[c] ?? biasScales[0])) / scales[c])));
    model.buffers[bias.buffer].data = [...new Uint8Array(wide.buffer)];
    bias.type = tflite.TensorType.INT64;
    bias.quantization!.scale = scales;
    bias.quantization!.zeroPoint = scales.map(() => 0n);
  }
  return packTflite(model);
}
