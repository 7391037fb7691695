import { intAttr, intsAttr } from './attributes';
import { GraphWriter } from './GraphWriter';
import type { OnnxModel } from './OnnxModel';
import { onnx } from './protobuf';
import { int64VectorProto } from './tensorProto';

// Reading more out of one run of a model: nodes added after its own (reductions, flattened
// concatenations) and exposed as extra outputs. Calibration, corrections and benchmarks use it.

/**
 * A Reduce* node over `axes` in either spelling: an attribute up to opset 17, an int64 input from
 * opset 18 (ReduceMax, ReduceMean, ReduceL1, ReduceSumSquare moved their axes then).
 */
export function addReduce(writer: GraphWriter, opset: number, op: 'ReduceMax' | 'ReduceMean', input: string, axes: readonly number[], keepdims: 0 | 1, base: string): string {
  const out = writer.uniqueName(base);
  if (opset >= 18) {
    const axesName = writer.addInitializer(int64VectorProto(writer.uniqueName(`${base}_axes`), axes));
    writer.addNode(op, [input, axesName], [out], base, [intAttr('keepdims', keepdims)]);
  } else {
    writer.addNode(op, [input], [out], base, [intsAttr('axes', axes), intAttr('keepdims', keepdims)]);
  }
  return out;
}

/**
 * A writer that adds nodes to `model`'s graph: every name the model uses is taken, and `nodes` (by
 * default all of the model's) come first. extendedModel() turns it into the model to run.
 */
export function writerOver(model: OnnxModel, nodes: readonly onnx.INodeProto[] = model.proto.graph!.node): GraphWriter {
  const graph = model.proto.graph!;
  const writer = new GraphWriter([...graph.node.flatMap((n) => [n.name, ...n.output]), ...graph.input.map((i) => i.name), ...graph.initializer.map((t) => t.name)]);
  writer.nodes.push(...(nodes as onnx.NodeProto[]));
  return writer;
}

/**
 * Flattens each part to 1-D and concatenates them into one output vector, so that one fetch brings
 * every reduction of a run.
 */
export function concatFlat(writer: GraphWriter, parts: readonly string[], name: string): string {
  const flat = writer.addInitializer(int64VectorProto(writer.uniqueName(`${name}_flat_shape`), [-1]));
  const flattened = parts.map((part) => {
    const out = writer.uniqueName(`${part}/flat`);
    writer.addNode('Reshape', [part, flat], [out], `${part}/flat`);
    return out;
  });
  const output = writer.uniqueName(name);
  writer.addNode('Concat', flattened, [output], `${name}/Concat`, [intAttr('axis', 0)]);
  return output;
}

/** A copy of `proto` whose graph holds `nodes` and `initializers` in addition and exposes `outputs`. */
export function extendedModel(proto: onnx.ModelProto, writer: GraphWriter, outputs: readonly string[]): Uint8Array {
  const graph = proto.graph!;
  const extended = onnx.ModelProto.create({
    ...proto,
    graph: onnx.GraphProto.create({
      ...graph,
      node: writer.nodes,
      initializer: [...graph.initializer, ...writer.initializers],
      output: [...graph.output, ...outputs.map((name) => onnx.ValueInfoProto.create({ name }))],
    }),
  });
  return onnx.ModelProto.encode(extended).finish();
}
