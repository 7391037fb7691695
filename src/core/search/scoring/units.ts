import { indexGraph, type LayerName, type ModelGraph } from '../../model/ModelGraph';
import { fusesIntoProducer } from '../../quant/inputRoles';
import type { LayerInfo } from '../../quant/layerInfo';

/**
 * Layers that change precision together in a search: a quantizable layer and the activations fused
 * into it (Relu, Clip, a BatchNormalization after a convolution), as TPU-MLIR moves "Conv and its
 * following Scale/BatchNorm" together. Setting a Conv float while its Relu stays integer would only
 * move the quantizer behind the Relu.
 */
export interface QuantUnit {
  /** The first layer: the unit's name in rankings. */
  readonly head: LayerName;
  /** Every layer of the unit, head first, in graph order. */
  readonly layers: readonly LayerName[];
  /** Position of the head in the graph's topological order. */
  readonly position: number;
}

/** The quantization units of a graph, in topological order; non-quantizable layers belong to none. */
export function quantUnits(graph: ModelGraph, layers: ReadonlyMap<LayerName, LayerInfo>): QuantUnit[] {
  const { consumers } = indexGraph(graph.nodes);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const taken = new Set<LayerName>();
  const units: QuantUnit[] = [];
  graph.nodes.forEach((node, position) => {
    if (taken.has(node.name) || !layers.get(node.name)?.quantizable) return;
    const members = [node.name];
    taken.add(node.name);
    let tail = node;
    // Follow the chain of fused activations: a single consumer, reading the tail's only output.
    for (;;) {
      const out = tail.outputs[0];
      const users = consumers.get(out) ?? [];
      if (tail.outputs.length !== 1 || graphOutputs.has(out) || users.length !== 1) break;
      const next = users[0];
      if (next.inputs[0] !== out || !fusesIntoProducer(next.opType, tail.opType) || !layers.get(next.name)?.quantizable || taken.has(next.name)) break;
      members.push(next.name);
      taken.add(next.name);
      tail = next;
    }
    units.push({ head: node.name, layers: members, position });
  });
  return units;
}
