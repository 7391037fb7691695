import type { OnnxModel } from '../io/onnx/OnnxModel';
import { bodies, isControlFlow } from '../io/onnx/ifBodies';
import { upgradeNode } from '../io/onnx/opsetUpgrade';
import { onnx } from '../io/onnx/protobuf';
import type { LayerName } from '../model/ModelGraph';
import type { Precision } from '../model/QTable';
import { QdqBuilder, type QdqBuildInput } from '../export/buildQdqModel';
import type { ErrorSums } from '../metrics/similarity';
import type { TensorMap } from '../model/tensor';
import type { LayerInfo } from '../quant/layerInfo';
import { addReduction, scalarOf } from './reductions';

/**
 * Adds the float model next to the quantized one: every node output renamed `float/<name>`, graph
 * inputs and weights shared. `model` may be another version of the builder's model (bias
 * correction's reference, with the original biases): initializers of its own get float names too.
 * Returns the float name of a tensor.
 */
export function addFloatHalf(builder: QdqBuilder, model: OnnxModel, options: { readonly separateInputs?: boolean } = {}): (tensor: string) => string {
  const { writer, input } = builder;
  const graph = model.proto.graph!;
  // A body run as a model of its own (bodyProbes.ts) gets its float inputs apart: the float half
  // reads the float model's values of what the body reads, the quantized half the quantized ones.
  const floatInputs = new Map<string, string>();
  if (options.separateInputs) {
    const initializers = new Set(graph.initializer.map((t) => t.name));
    for (const i of graph.input) if (!initializers.has(i.name)) floatInputs.set(i.name, writer.uniqueName(`float/${i.name}`));
  }
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
  const asFloat = (tensor: string) => floatName.get(tensor) ?? own.get(tensor) ?? floatInputs.get(tensor) ?? tensor;
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

/**
 * onnxruntime's graph optimization level for probe models. 'extended' keeps every fusion of QDQ
 * groups into int8 kernels (the quantized half computes what the exported model does) and leaves
 * out level 'all''s layout transformations: those put float convolutions in a blocked channel
 * layout and convert back wherever a value is read in the plain one, and in a probe every float
 * activation is read by its error sums. On the demo, one whole probe's run grew onnxruntime-web's
 * heap by 52 MB at 'all' against 15 MB at 'extended', and ran faster (docs/architecture.md).
 */
export const PROBE_GRAPH_OPTIMIZATION = 'extended' as const;

/** A layer output whose error the probe measures. */
export interface ProbedTensor {
  readonly layer: LayerName;
  readonly tensor: string;
}

/**
 * The layer outputs a probe model measures (`main`), and those of layers inside If/Loop/Scan bodies,
 * which cannot be read outside their body and are measured a body at a time (bodyProbes.ts).
 */
export function probedTensors(model: OnnxModel, layers: ReadonlyMap<LayerName, LayerInfo>): { main: ProbedTensor[]; inBodies: (ProbedTensor & { readonly scope: string })[] } {
  const scopeOf = new Map(model.graph.nodes.filter((n) => n.scope).map((n) => [n.name, n.scope!]));
  const main: ProbedTensor[] = [];
  const inBodies: (ProbedTensor & { readonly scope: string })[] = [];
  for (const info of layers.values()) {
    const tensor = info.floatOutputs[0];
    if (!tensor) continue;
    const scope = scopeOf.get(info.name);
    if (scope) inBodies.push({ layer: info.name, tensor, scope });
    else main.push({ layer: info.name, tensor });
  }
  return { main, inBodies };
}

/** Each probed layer's error sums in one run of a probe model (its fetched outputs). */
export function probeSums(probe: Pick<ProbeModel, 'outputs'>, result: TensorMap): ErrorSums[] {
  return probe.outputs.map(({ dd, qq, ff, count }) => ({ ff: scalarOf(result[ff].data), qq: scalarOf(result[qq].data), dd: scalarOf(result[dd].data), count: scalarOf(result[count].data) }));
}

export interface ProbeModel {
  readonly proto: onnx.ModelProto;
  /** The float half's name of a tensor (the tensor itself where both halves share it: weights, shared inputs). */
  readonly floatName: (tensor: string) => string;
  /** The precision each layer runs at in this build (a layer of a body no sample took runs FP32). */
  readonly precisions: ReadonlyMap<LayerName, Precision>;
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
export function buildProbeModel(input: QdqBuildInput, probed: readonly ProbedTensor[], options: {
  readonly separateInputs?: boolean;
  /** More tensors to expose, named with the float half's names once they are known. */
  readonly extraOutputs?: (floatName: (tensor: string) => string) => readonly string[];
} = {}): ProbeModel {
  const builder = new QdqBuilder(input);
  builder.emitAllLayers();
  const { writer } = builder;
  const asFloat = addFloatHalf(builder, input.model, options);
  const floatInputNames = new Set(input.model.proto.graph!.input.map((i) => asFloat(i.name)));
  const isFloatInput = (t: string) => floatInputNames.has(t);

  // The error sums are written last layer first. onnxruntime orders execution by a depth-first walk
  // from the graph's leaves, taken from the last one written: that way it computes each layer's sums
  // as soon as its two values exist, instead of computing every layer of both halves first while
  // each value waits for its sums (the demo's probe held 312 MB in onnxruntime's heap against 29 MB
  // for its QDQ model).
  const outputs = [...probed].reverse().map(({ tensor }) => {
    const quantized = builder.floatValue(tensor);
    const difference = writer.uniqueName(`${tensor}/qbench_error`);
    writer.addNode('Sub', [asFloat(tensor), quantized], [difference], `${tensor}/qbench_error`);
    return {
      dd: addReduction(writer, 'ReduceSumSquare', difference),
      qq: addReduction(writer, 'ReduceSumSquare', quantized),
      ff: addReduction(writer, 'ReduceSumSquare', asFloat(tensor)),
      count: addReduction(writer, 'Size', asFloat(tensor)),
    };
  }).reverse();
  const sums = outputs.flatMap((o) => [{ name: o.dd }, { name: o.qq }, { name: o.ff }, { name: o.count }]);
  // Inputs are not fetched (the caller has them); names already exposed are not exposed twice.
  const declared = new Set([...input.model.proto.graph!.output.map((o) => o.name), ...sums.map((o) => o.name), ...input.model.proto.graph!.input.map((i) => i.name)]);
  const extra = [...new Set(options.extraOutputs?.(asFloat) ?? [])].filter((t) => !declared.has(t) && !(options.separateInputs && isFloatInput(t))).map((name) => ({ name }));
  const proto = builder.finish([...sums, ...extra]);
  if (options.separateInputs) {
    const graph = proto.graph!;
    const initializers = new Set(graph.initializer.map((t) => t.name));
    graph.input = [...graph.input, ...graph.input.filter((i) => !initializers.has(i.name) && asFloat(i.name) !== i.name).map((i) => onnx.ValueInfoProto.create({ ...i, name: asFloat(i.name) }))];
  }
  return { proto, floatName: asFloat, precisions: builder.precisions, outputs };
}

