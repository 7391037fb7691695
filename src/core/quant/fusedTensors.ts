import { indexGraph, type LayerName, type ModelGraph } from '../model/ModelGraph';
import { fusesIntoProducer } from './inputRoles';
import { isIntegerPrecision, type Precision } from '../model/QTable';

/**
 * Tensors left float between a layer and the activation that fuses into it (Relu, Clip, or a
 * BatchNormalization after a convolution) when both run at the same integer precision: no quantizer
 * sits there, so such a tensor needs no calibrated range.
 */
export function fusedTensors(graph: ModelGraph, precisions: ReadonlyMap<LayerName, Precision>): Set<string> {
  const { consumers } = indexGraph(graph.nodes);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const fused = new Set<string>();
  for (const node of graph.nodes) {
    const precision = precisions.get(node.name)!;
    if (!isIntegerPrecision(precision)) continue;
    for (const output of node.outputs) {
      const users = consumers.get(output) ?? [];
      if (users.length !== 1 || graphOutputs.has(output)) continue;
      const user = users[0];
      if (user.inputs[0] === output && user.inputs.indexOf(output) === user.inputs.lastIndexOf(output)
        && fusesIntoProducer(user.opType, node.opType) && precisions.get(user.name) === precision) {
        fused.add(output);
      }
    }
  }
  return fused;
}
