import type { OnnxModel } from '../io/onnx/OnnxModel';
import { bodies, isControlFlow } from '../io/onnx/ifBodies';
import { upgradeNode } from '../io/onnx/opsetUpgrade';
import { onnx } from '../io/onnx/protobuf';
import type { LayerName } from '../model/ModelGraph';
import { QdqBuilder, type QdqBuildInput } from '../quant/buildQdqModel';
import { addReduction } from './reductions';

/**
 * Adds the float model next to the quantized one: every node output renamed `float/<name>`, graph
 * inputs and weights shared. `model` may be another version of the builder's model (bias
 * correction's reference, with the original biases): initializers of its own get float names too.
 * Returns the float name of a tensor.
 */
export function addFloatHalf(builder: QdqBuilder, model: OnnxModel): (tensor: string) => string {
  const { writer, input } = builder;
  const graph = model.proto.graph!;
  // a reference model's own initializers (the original biases) under names of their own
  const own = new Map<string, string>();
  for (const init of graph.initializer) {
    if (input.model.initializerProto(init.name) === init) continue;
    const name = writer.uniqueName(`float/${init.name}`);
    own.set(init.name, name);
    writer.addInitializer(onnx.TensorProto.create({ ...init, name }));
  }
  const floatName = new Map<string, string>();
  const nameOutputs = (nodes: readonly onnx.INodeProto[]) => {
    for (const node of nodes) {
      for (const output of node.output ?? []) if (output) floatName.set(output, writer.uniqueName(`float/${output}`));
      // Bodies make tensors of their own (and a Loop body has inputs), and read the float copies of the outer ones.
      for (const { graph: body } of bodies(node)) {
        for (const input of body.input ?? []) if (input.name) floatName.set(input.name, writer.uniqueName(`float/${input.name}`));
        nameOutputs(body.node ?? []);
      }
    }
  };
  nameOutputs(graph.node);
  const asFloat = (tensor: string) => floatName.get(tensor) ?? own.get(tensor) ?? tensor;
  const floatBranches = (node: onnx.INodeProto): onnx.IAttributeProto[] => (node.attribute ?? []).map((a) => {
    if (!a.g || !isControlFlow(node)) return a;
    const body = a.g;
    return onnx.AttributeProto.create({
      ...a,
      g: onnx.GraphProto.create({
        ...body,
        node: (body.node ?? []).map((n) => onnx.NodeProto.create({ ...n, name: writer.uniqueName(`float/${n.name}`), input: (n.input ?? []).map((t) => (t ? asFloat(t) : t)), output: (n.output ?? []).map((t) => (t ? asFloat(t) : t)), attribute: floatBranches(n) })),
        input: (body.input ?? []).map((i) => onnx.ValueInfoProto.create({ ...i, name: asFloat(i.name ?? '') })),
        output: (body.output ?? []).map((o) => onnx.ValueInfoProto.create({ ...o, name: asFloat(o.name ?? '') })),
        valueInfo: [],
      }),
    });
  });
  for (const node of graph.node) {
    const renamed = onnx.NodeProto.create({
      ...node,
      name: writer.uniqueName(`float/${node.name}`),
      input: node.input.map((t) => (t ? asFloat(t) : t)),
      output: node.output.map((t) => (t ? asFloat(t) : t)),
      attribute: floatBranches(node),
    });
    const original = new Map(renamed.input.map((t, k) => [t, node.input[k]]));
    const upgraded = upgradeNode(renamed, model.opset, builder.opset, {
      rank: (t) => input.types.get(original.get(t) ?? t)?.dims?.length,
      uniqueName: (base) => writer.uniqueName(base),
    });
    for (const init of upgraded.initializers) writer.addInitializer(init);
    writer.nodes.push(...upgraded.nodes);
  }
  return asFloat;
}

/** A layer output whose error the probe measures. */
export interface ProbedTensor {
  readonly layer: LayerName;
  readonly tensor: string;
}

export interface ProbeModel {
  readonly proto: onnx.ModelProto;
  /** Per probed tensor: outputs holding sum (f-q)^2, sum q^2, sum f^2 and the element count. */
  readonly outputs: readonly { readonly dd: string; readonly qq: string; readonly ff: string; readonly count: string }[];
}

/**
 * The QDQ model of a QTable run side by side with the float model, plus, for every probed layer
 * output, sum (f-q)^2, sum q^2, sum f^2 and the element count as one-element outputs. One run gives
 * every layer's accumulated error exactly, over whole tensors, while only four numbers per layer
 * leave the engine (fetching every activation of the 320x320 PP-OCR
 * detector costs 170 MB and 110 ms per sample). The quantized half is the exported model, node
 * for node; the float half shares its weights and inputs.
 */
export function buildProbeModel(input: QdqBuildInput, probed: readonly ProbedTensor[]): ProbeModel {
  const builder = new QdqBuilder(input);
  builder.emitAllLayers();
  const { writer } = builder;
  const asFloat = addFloatHalf(builder, input.model);

  const outputs = probed.map(({ tensor }) => {
    const quantized = builder.floatValue(tensor);
    const difference = writer.uniqueName(`${tensor}/qbench_error`);
    writer.addNode('Sub', [asFloat(tensor), quantized], [difference], `${tensor}/qbench_error`);
    return {
      dd: addReduction(writer, 'ReduceSumSquare', difference),
      qq: addReduction(writer, 'ReduceSumSquare', quantized),
      ff: addReduction(writer, 'ReduceSumSquare', asFloat(tensor)),
      count: addReduction(writer, 'Size', asFloat(tensor)),
    };
  });
  return { proto: builder.finish(outputs.flatMap((o) => [{ name: o.dd }, { name: o.qq }, { name: o.ff }, { name: o.count }])), outputs };
}
