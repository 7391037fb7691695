import type { Engine, ValueInfo } from '../engine/Engine';
import { sessionError } from '../engine/engineErrors';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { onnx } from '../io/onnx/protobuf';

/**
 * Element type and static shape of every tensor in the graph, as the engine infers them when it
 * loads the model with every node output exposed. Loading is enough: nothing runs, so this costs
 * one session creation and no activation memory. It also proves the engine can run every node.
 */
export async function inferTensorTypes(model: OnnxModel, engine: Engine): Promise<Map<string, ValueInfo>> {
  const exposed = exposeAllTensors(model.proto);
  let session;
  try {
    session = await engine.createSession(onnx.ModelProto.encode(exposed).finish(), { modelName: model.fileName });
  } catch (error) {
    throw sessionError(error, model.fileName);
  }
  const types = new Map<string, ValueInfo>();
  for (const info of [...session.inputInfo, ...session.outputInfo]) types.set(info.name, info);
  await session.dispose();
  return types;
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
