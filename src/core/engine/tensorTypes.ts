import type { Engine, ValueInfo } from './Engine';
import { sessionError } from './engineErrors';
import { bodies, isControlFlow, outerReferences } from '../io/onnx/ifBodies';
import { onnx } from '../io/onnx/protobuf';
import { typedValueInfo } from '../search/scoring/subgraphs';
import { OnnxModel } from '../io/onnx/OnnxModel';

/**
 * Element type and static shape of every tensor in the graph, as the engine infers them when it
 * loads the model with every node output exposed. Loading is enough: nothing runs, so this costs
 * one session creation and no activation memory. It also proves the engine can run every node.
 */
export async function inferTensorTypes(model: OnnxModel, engine: Engine): Promise<Map<string, ValueInfo>> {
  const exposed = exposeAllTensors(model.proto);
  let session;
  try {
    // Without graph optimizations: types and shapes come from loading alone (the same on every corpus
    // model), and optimizing a graph with every tensor exposed costs 4-5x the load (10,000 layers:
    // 17 s against 3.5 s under load; the demo 250 ms against 50 ms).
    session = await engine.createSession(onnx.ModelProto.encode(exposed).finish(), { modelName: model.fileName, graphOptimization: 'disabled' });
  } catch (error) {
    throw sessionError(error, model.fileName);
  }
  const types = new Map<string, ValueInfo>();
  for (const info of [...session.inputInfo, ...session.outputInfo]) types.set(info.name, info);
  await session.dispose();
  // Tensors inside If branches: the engine infers them on each branch loaded as a model of its own.
  for (const node of model.proto.graph!.node) {
    if (!isControlFlow(node)) continue;
    for (const { graph } of bodies(node)) {
      let inner: Map<string, ValueInfo>;
      try {
        inner = await inferTensorTypes(branchModel(model, graph, types), engine);
      } catch {
        continue; // a branch the engine cannot load on its own keeps no types: its layers stay float
      }
      for (const [name, info] of inner) if (!types.has(name)) types.set(name, info);
    }
  }
  return types;
}

/**
 * An If branch as a model of its own: the tensors it reads from the graphs around it become its
 * inputs (initializers stay initializers), its nodes and outputs are its own. What branch types are
 * inferred on and what calibration runs to observe the branch's tensors.
 */
export function branchModel(model: OnnxModel, branch: onnx.IGraphProto, types: ReadonlyMap<string, ValueInfo>): OnnxModel {
  const graph = model.proto.graph!;
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const refs = outerReferences(branch);
  const proto = onnx.ModelProto.create({
    ...model.proto,
    graph: onnx.GraphProto.create({
      name: `${graph.name}_branch`,
      node: (branch.node ?? []).map((n) => onnx.NodeProto.create(n)),
      // a Loop body's own inputs (iteration, condition, carried values) come first, declared as they are
      input: [...(branch.input ?? []).map((i) => onnx.ValueInfoProto.create(i)), ...refs.filter((r) => !initializers.has(r)).map((r) => typedValueInfo(r, types.get(r)))],
      initializer: refs.filter((r) => initializers.has(r)).map((r) => initializers.get(r)!),
      output: (branch.output ?? []).map((o) => onnx.ValueInfoProto.create(o)),
    }),
  });
  return new OnnxModel(proto, model.fileName, 0);
}

/** A copy of the model whose graph outputs are its own plus every node output (untyped). */
export function exposeAllTensors(proto: onnx.ModelProto): onnx.ModelProto {
  const graph = proto.graph!;
  const present = new Set(graph.output.map((o) => o.name));
  const extra: onnx.ValueInfoProto[] = [];
  for (const node of graph.node) {
    for (const output of node.output) {
      if (output && !present.has(output)) {
        present.add(output);
        extra.push(onnx.ValueInfoProto.create({ name: output }));
      }
    }
  }
  return withGraph(proto, { ...graph, output: [...graph.output, ...extra] });
}

/** A shallow copy of the model with some graph fields replaced (the big tensors are shared). */
export function withGraph(proto: onnx.ModelProto, graph: onnx.IGraphProto): onnx.ModelProto {
  return onnx.ModelProto.create({ ...proto, graph: onnx.GraphProto.create(graph) });
}
