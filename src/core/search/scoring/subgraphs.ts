import type { ValueInfo } from '../../engine/Engine';
import { referencedNames } from '../../io/onnx/GraphWriter';
import { bodyNodes } from '../../io/onnx/ifBodies';
import { OnnxModel } from '../../io/onnx/OnnxModel';
import { onnx } from '../../io/onnx/protobuf';
import { ONNX_DATA_TYPE } from '../../io/onnx/tensorProto';
import type { LayerName } from '../../model/ModelGraph';
import type { DType } from '../../model/tensor';

/**
 * The parts of a model a search runs instead of the whole (docs/architecture.md: "evaluate only the part
 * of the graph a change can affect"). Quantizing a layer changes only its descendants; everything
 * else is the float model, whose activations are computed once and fed in.
 */

/** Every top-level tensor a node reads, including names its subgraphs take from the outer scope. */
function readsOf(node: onnx.INodeProto): Set<string> {
  return referencedNames([node]);
}

/** The layers a change at `seeds` can affect and the float tensors that feed them. */
export interface Cone {
  /** The seeds and every node downstream of them. */
  readonly nodes: ReadonlySet<LayerName>;
  /** Float activations the cone reads but does not compute: graph inputs or outputs of nodes outside it. */
  readonly boundary: readonly string[];
  /** Graph outputs the cone computes (the others keep their float values). */
  readonly outputs: readonly string[];
}

export function descendantCone(model: OnnxModel, seeds: Iterable<LayerName>): Cone {
  const graph = model.proto.graph!;
  // A layer inside an If or Loop body changes what its main-graph holder computes: the cone starts there.
  const holderOf = topLevelHolders(model);
  const nodes = new Set<LayerName>([...seeds].map((s) => holderOf.get(s) ?? s));
  const produced = new Set<string>();
  const producedAnywhere = new Set<string>(graph.input.map((i) => i.name));
  for (const node of graph.node) for (const o of node.output) if (o) producedAnywhere.add(o);
  for (const node of graph.node) {
    if (!nodes.has(node.name) && ![...readsOf(node)].some((t) => produced.has(t))) continue;
    nodes.add(node.name);
    for (const o of node.output) if (o) produced.add(o);
  }
  const boundary = new Set<string>();
  for (const node of graph.node) {
    if (!nodes.has(node.name)) continue;
    for (const t of readsOf(node)) if (!produced.has(t) && producedAnywhere.has(t) && !model.isInitializer(t)) boundary.add(t);
  }
  return { nodes, boundary: [...boundary], outputs: graph.output.map((o) => o.name).filter((o) => produced.has(o)) };
}

/** Each node inside a walked body (If, Loop), by name -> the main-graph node that holds it. */
function topLevelHolders(model: OnnxModel): Map<LayerName, LayerName> {
  const holders = new Map<LayerName, LayerName>();
  for (const node of model.proto.graph!.node) {
    for (const inner of bodyNodes({ node: [node] })) holders.set(inner.node.name, node.name);
  }
  return holders;
}

/**
 * ValueInfo for a graph input: its element type and shape (unknown dimensions named). A shape the
 * engine reported as `[]` is left out: onnxruntime reports a tensor whose rank it could not infer
 * (a Reshape to a run-time shape) exactly as it reports a scalar, and declaring such an input
 * rank 0 makes every consumer fail shape inference. Without a shape the engine takes the rank
 * from the value fed.
 */
export function typedValueInfo(name: string, info: ValueInfo | undefined): onnx.ValueInfoProto {
  if (!info || info.dtype === 'other') return onnx.ValueInfoProto.create({ name });
  const known = info.dims && info.dims.length > 0 ? info.dims : null;
  const dims = (known ?? []).map((d, i) => (d === null ? { dimParam: `${name}_dim${i}` } : { dimValue: d }));
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: ONNX_DATA_TYPE[info.dtype as DType], shape: known ? { dim: dims } : undefined } },
  });
}

/**
 * A model of some of `model`'s nodes (kept in order), reading `inputs` as graph inputs and computing
 * `outputs`; initializers are shared, not copied.
 */
export function subModel(model: OnnxModel, keep: ReadonlySet<LayerName>, inputs: readonly string[], outputs: readonly string[], types: ReadonlyMap<string, ValueInfo>): OnnxModel {
  const graph = model.proto.graph!;
  const node = graph.node.filter((n) => keep.has(n.name));
  const used = referencedNames(node);
  const originalInputs = new Map(graph.input.map((i) => [i.name, i]));
  const originalOutputs = new Map(graph.output.map((o) => [o.name, o]));
  const proto = onnx.ModelProto.create({
    ...model.proto,
    graph: onnx.GraphProto.create({
      ...graph,
      node,
      input: inputs.map((name) => originalInputs.get(name) ?? typedValueInfo(name, types.get(name))),
      output: outputs.map((name) => originalOutputs.get(name) ?? onnx.ValueInfoProto.create({ name })),
      initializer: graph.initializer.filter((t) => used.has(t.name)),
      valueInfo: [],
    }),
  });
  return new OnnxModel(proto, model.fileName, 0);
}

/** The float model cut down to what computes `tensors` (its outputs), to fetch activations from. */
export function prefixModel(model: OnnxModel, tensors: readonly string[]): OnnxModel {
  const graph = model.proto.graph!;
  const needed = new Set(tensors);
  const keep = new Set<LayerName>();
  for (let i = graph.node.length - 1; i >= 0; i--) {
    const node = graph.node[i];
    if (!node.output.some((o) => needed.has(o))) continue;
    keep.add(node.name);
    for (const t of readsOf(node)) needed.add(t);
  }
  const inputs = graph.input.map((i) => i.name).filter((name) => needed.has(name));
  return subModel(model, keep, inputs, tensors, new Map());
}
