import * as flatbuffers from 'flatbuffers';
import { FormatError, QbenchError } from '../../errors';
import { flatFormatOf } from '../tflite/flatModel';
import * as tflite from '../tflite/generated/tflite';
import * as circle from './generated/circle';

/**
 * A buffer written from a view on the file it was read from. The generated object API would unpack
 * its bytes into a number[] and write them back one addInt8 at a time; this copies them in one set,
 * aligned to 16 bytes as the schemas' `force_align: 16` asks.
 */
class BufferView extends circle.BufferT {
  constructor(readonly view: Uint8Array | null) {
    super();
  }

  override pack(builder: flatbuffers.Builder): flatbuffers.Offset {
    let data = 0;
    if (this.view && this.view.length > 0) {
      builder.prep(16, this.view.length);
      data = builder.createByteVector(this.view);
    }
    return circle.Buffer.createBuffer(builder, data, 0n, 0n);
  }
}

function list<T>(length: number, at: (i: number) => T | null): T[] {
  return Array.from({ length }, (_, i) => at(i)!);
}

/** The enum member of `to` with the same name as `value` in `from` (the two schemas number some differently). */
function sameName<T extends number>(from: Record<number, string>, to: Record<string, number | string>, value: number, what: string, fileName: string): T {
  const name = from[value];
  const mapped = name === undefined ? undefined : to[name];
  if (typeof mapped !== 'number') throw new QbenchError(`${what} ${name ?? value} has no equivalent in Circle's schema; the .circle cannot be written`, fileName);
  return mapped as T;
}

function buffersOf(model: tflite.Model | circle.Model, fileName: string): BufferView[] {
  return list(model.buffersLength(), (i) => {
    const buffer = model.buffers(i)!;
    if (buffer.offset() > 1n) throw new QbenchError(`buffer ${i} is stored after the flatbuffer (a model over 2 GB); qbench does not write such a .circle`, fileName);
    return new BufferView(buffer.dataArray());
  });
}

/** A .circle's object tree as the generated code unpacks it, its buffers left as views on the file. */
function unpackCircle(bytes: Uint8Array, fileName: string): circle.ModelT {
  const model = circle.Model.getRootAsModel(new flatbuffers.ByteBuffer(bytes));
  return new circle.ModelT(
    model.version(),
    list(model.operatorCodesLength(), (i) => model.operatorCodes(i)!.unpack()),
    list(model.subgraphsLength(), (i) => model.subgraphs(i)!.unpack()),
    model.description(),
    buffersOf(model, fileName),
    [...(model.metadataBufferArray() ?? [])],
    list(model.metadataLength(), (i) => model.metadata(i)!.unpack()),
    list(model.signatureDefsLength(), (i) => model.signatureDefs(i)!.unpack()),
  );
}

function circleQuantization(q: tflite.QuantizationParametersT | null, where: string, fileName: string): circle.QuantizationParametersT | null {
  if (!q) return null;
  if (q.detailsType !== tflite.QuantizationDetails.NONE) throw new QbenchError(`tensor "${where}" has custom quantization details, which Circle's schema does not carry`, fileName);
  return new circle.QuantizationParametersT(q.min, q.max, q.scale, q.zeroPoint, circle.QuantizationDetails.NONE, null, q.quantizedDimension);
}

/**
 * The object tree of the .circle ONE's tflite2circle makes of a .tflite: the same tables rebuilt
 * with the code generated from circle_schema.fbs, enum values (operators, tensor types, option
 * tables) matched by name. What Circle cannot hold is refused, naming it: sparse tensors, tensors
 * in external buffers, custom quantization, StableHLO options.
 */
function tfliteAsCircle(bytes: Uint8Array, fileName: string): circle.ModelT {
  const model = tflite.Model.getRootAsModel(new flatbuffers.ByteBuffer(bytes));
  const operatorCodes = list(model.operatorCodesLength(), (i) => {
    const c = model.operatorCodes(i)!.unpack();
    const builtin = Math.max(c.builtinCode, c.deprecatedBuiltinCode);
    const code = sameName<circle.BuiltinOperator>(tflite.BuiltinOperator, circle.BuiltinOperator, builtin, 'operator', fileName);
    return new circle.OperatorCodeT(Math.min(code, 127), c.customCode, c.version, code);
  });
  const subgraphs = list(model.subgraphsLength(), (g) => {
    const graph = model.subgraphs(g)!.unpack();
    const tensors = graph.tensors.map((t, i) => {
      const where = typeof t.name === 'string' && t.name ? t.name : `tensor_${i}`;
      if (t.sparsity) throw new QbenchError(`tensor "${where}" is sparse; qbench writes dense tensors only`, fileName);
      if (t.externalBuffer) throw new QbenchError(`tensor "${where}" is in an external buffer, which Circle's schema does not have`, fileName);
      const type = sameName<circle.TensorType>(tflite.TensorType, circle.TensorType, t.type, 'tensor type', fileName);
      return new circle.TensorT(t.shape, type, t.buffer, t.name, circleQuantization(t.quantization, where, fileName), t.isVariable, null, t.shapeSignature, t.hasRank);
    });
    const operators = graph.operators.map((op, i) => {
      if (op.builtinOptions2Type !== tflite.BuiltinOptions2.NONE) throw new QbenchError(`operator #${i} has StableHLO options, which qbench does not write to Circle`, fileName);
      let optionsType = circle.BuiltinOptions.NONE;
      let options: circle.OperatorT['builtinOptions'] = null;
      if (op.builtinOptions) {
        const name = tflite.BuiltinOptions[op.builtinOptionsType];
        optionsType = sameName<circle.BuiltinOptions>(tflite.BuiltinOptions, circle.BuiltinOptions, op.builtinOptionsType, 'operator option table', fileName);
        const Options = (circle as unknown as Record<string, (new () => object) | undefined>)[`${name}T`];
        if (!Options) throw new QbenchError(`operator option table ${name} has no equivalent in Circle's schema`, fileName);
        options = Object.assign(new Options(), op.builtinOptions) as circle.OperatorT['builtinOptions'];
      }
      return new circle.OperatorT(op.opcodeIndex, op.inputs, op.outputs, optionsType, options, op.customOptions, op.customOptionsFormat as number as circle.CustomOptionsFormat, op.mutatingVariableInputs, op.intermediates, op.largeCustomOptionsOffset, op.largeCustomOptionsSize);
    });
    return new circle.SubGraphT(tensors, graph.inputs, graph.outputs, operators, graph.name);
  });
  const metadata = list(model.metadataLength(), (i) => {
    const m = model.metadata(i)!.unpack();
    return new circle.MetadataT(m.name, m.buffer);
  });
  const signatureDefs = list(model.signatureDefsLength(), (i) => {
    const s = model.signatureDefs(i)!.unpack();
    const map = (t: tflite.TensorMapT) => new circle.TensorMapT(t.name, t.tensorIndex);
    return new circle.SignatureDefT(s.inputs.map(map), s.outputs.map(map), s.signatureKey, s.subgraphIndex);
  });
  // tflite2circle writes the Circle schema's version, 0, whatever the .tflite's.
  return new circle.ModelT(0, operatorCodes, subgraphs, model.description(), buffersOf(model, fileName), [...(model.metadataBufferArray() ?? [])], metadata, signatureDefs);
}

/**
 * A .tflite or .circle as a Circle object tree to edit and write again with `packCircle`: a
 * .circle as it is, a .tflite converted as ONE's tflite2circle does.
 */
export function circleModelOf(bytes: Uint8Array, fileName: string): circle.ModelT {
  const format = flatFormatOf(bytes);
  if (!format) throw new FormatError(fileName, 'this is not a TensorFlow Lite or Circle model: its file identifier (bytes 4 to 8) is neither TFL3 nor CIR0');
  try {
    return format === 'circle' ? unpackCircle(bytes, fileName) : tfliteAsCircle(bytes, fileName);
  } catch (error) {
    if (error instanceof QbenchError) throw error;
    throw new FormatError(fileName, `the model is damaged or truncated (${error instanceof Error ? error.message : String(error)})`);
  }
}

/** Writes a Circle object tree as a .circle (file identifier CIR0). */
export function packCircle(model: circle.ModelT, sizeHint = 1024): Uint8Array {
  const builder = new flatbuffers.Builder(sizeHint);
  circle.Model.finishModelBuffer(builder, model.pack(builder));
  return builder.asUint8Array().slice();
}
