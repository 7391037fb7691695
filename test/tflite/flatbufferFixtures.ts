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
