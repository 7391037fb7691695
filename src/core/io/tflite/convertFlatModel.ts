import { QbenchError } from '../../errors';
import type { CaliEntry } from '../../model/CaliTable';
import { onnx } from '../onnx/protobuf';
import type { FlatModel } from './flatModel';
import { isQuantized } from './flatTensors';
import { Lowering, type ConvertMode } from './lowering';
import { OPERATORS } from './operators';

/** Metadata of a converted model: the file's format, and each node's origin (the file's operator, by the tensor it writes). */
export const SOURCE_FORMAT_KEY = 'qbench.source_format';
export const ORIGINS_KEY = 'qbench.source_operators';

/** The ai.onnx opset the converted models import (QuantizeLinear to int16 needs 21). */
export const CONVERTED_OPSET = 21;

export interface ConvertedGraph {
  readonly proto: onnx.ModelProto;
  /** Each quantized activation's range as the file stores it, by ONNX tensor name. */
  readonly ranges: ReadonlyMap<string, CaliEntry>;
}

/** Whether the file computes on integers: any activation carries a scale (a QUANTIZE, an int8 input...). */
export function isQuantizedModel(model: FlatModel): boolean {
  return model.tensors.some((t) => t.data === null && isQuantized(t));
}

/**
 * Converts the main subgraph of a TFLite/Circle model to an ONNX model computing the same
 * (docs/tflite.md): operators in the file's order, each tensor under its file name and each
 * operator's node under the name of the tensor it writes, NHWC kept except inside the operators
 * ONNX defines on NCHW (with the Transposes between two of them left out).
 */
export function convertFlatModel(model: FlatModel, mode: ConvertMode): ConvertedGraph {
  if (model.subgraphCount > 1 && model.operators.some((op) => /^(WHILE|IF|CALL|CALL_ONCE)$/.test(op.opcode))) {
    const op = model.operators.find((o) => /^(WHILE|IF|CALL|CALL_ONCE)$/.test(o.opcode))!;
    throw new QbenchError(`operator ${op.opcode} (#${op.index}) calls another subgraph; qbench converts models of one subgraph only`, model.fileName);
  }
  const l = new Lowering(model, mode);
  l.declareInputs();
  for (const op of model.operators) {
    l.current = op;
    const lower = OPERATORS[op.opcode];
    if (!lower) {
      throw l.error(`is not supported by qbench's ${model.format === 'circle' ? 'Circle' : 'TensorFlow Lite'} conversion (docs/tflite.md lists what is); nothing was converted`);
    }
    lower(l, op);
  }
  l.current = null;
  l.declareOutputs();
  const proto = onnx.ModelProto.create({
    irVersion: 10,
    producerName: `qbench (from ${model.format === 'circle' ? 'Circle' : 'TensorFlow Lite'}${mode === 'quantized' ? ', as quantized in the file' : ''})`,
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: CONVERTED_OPSET })],
    // Where each node comes from, for the exports that must name the file's operators (flatbufferOrigins).
    metadataProps: [
      onnx.StringStringEntryProto.create({ key: SOURCE_FORMAT_KEY, value: model.format }),
      onnx.StringStringEntryProto.create({ key: ORIGINS_KEY, value: JSON.stringify(Object.fromEntries(l.origins)) }),
    ],
    graph: onnx.GraphProto.create({
      name: model.fileName,
      node: l.nodes,
      initializer: l.initializers,
      input: l.inputs,
      output: l.outputs,
    }),
  });
  return { proto, ranges: l.ranges };
}
