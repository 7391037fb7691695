import { indexGraph, type GraphIndex, type GraphNode, type LayerName, type ModelGraph } from '../model/ModelGraph';
import { fusesIntoProducer } from './inputRoles';
import { isIntegerPrecision, type Precision } from '../model/QTable';

/**
 * Tensors left float between a layer and the activation that fuses into it (Relu, Clip, or a
 * BatchNormalization after a convolution) when both run at the same integer precision: no quantizer
 * sits there, so such a tensor needs no calibrated range.
 */
export function fusedTensors(graph: ModelGraph, precisions: ReadonlyMap<LayerName, Precision>): Set<string> {
  const index = indexGraph(graph.nodes);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const fused = new Set<string>();
  for (const node of graph.nodes) {
    for (const output of node.outputs) if (fusedActivation(index, graphOutputs, node, output, precisions)) fused.add(output);
  }
  return fused;
}

/**
 * Why no quantizer sits on `tensor` under `precisions`, if none does: fused into its activation
 * (fusedInto), or produced and read only by layers that run in float (FP32, FP16, BF16).
 */
export function quantizerAbsence(graph: ModelGraph, tensor: string, precisions: ReadonlyMap<LayerName, Precision>): { readonly fusedInto: GraphNode } | { readonly float: true } | undefined {
  const index = indexGraph(graph.nodes);
  const producer = index.producer.get(tensor);
  const activation = producer && fusedActivation(index, new Set(graph.outputs.map((o) => o.name)), producer, tensor, precisions);
  if (activation) return { fusedInto: activation };
  const integer = (node: GraphNode | undefined) => {
    const precision = node && precisions.get(node.name);
    return precision !== undefined && isIntegerPrecision(precision);
  };
  if (integer(producer) || (index.consumers.get(tensor) ?? []).some(integer)) return undefined;
  return { float: true };
}

function fusedActivation(index: GraphIndex, graphOutputs: ReadonlySet<string>, node: GraphNode, output: string, precisions: ReadonlyMap<LayerName, Precision>): GraphNode | undefined {
  const precision = precisions.get(node.name);
  if (!output || !precision || !isIntegerPrecision(precision)) return undefined;
  const users = index.consumers.get(output) ?? [];
  if (users.length !== 1 || graphOutputs.has(output)) return undefined;
  const user = users[0];
  const fuses = user.inputs[0] === output && user.inputs.indexOf(output) === user.inputs.lastIndexOf(output)
    && fusesIntoProducer(user.opType, node.opType) && precisions.get(user.name) === precision;
  return fuses ? user : undefined;
}
