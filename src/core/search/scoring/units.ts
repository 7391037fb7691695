import { indexGraph, type LayerName, type ModelGraph } from '../../model/ModelGraph';
import { fusesIntoProducer } from '../../quant/inputRoles';
import { qtableLayer, type LayerInfo } from '../../quant/layerInfo';

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
  /**
   * The QTable entries that set the unit's precision, when they are not its layers: a model
   * converted from a .tflite/.circle names the file's operators only (LayerInfo.operator).
   */
  readonly entries?: readonly LayerName[];
}

/** The QTable entries a unit's precision is written under. */
export function unitEntries(unit: QuantUnit): readonly LayerName[] {
  return unit.entries ?? unit.layers;
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
  return [...layers.values()].some((l) => l.operator) ? byOperator(units, graph, layers) : units;
}

/**
 * A converted model's units: the nodes of one file operator share its QTable entry, so they change
 * precision together; units holding nodes of one operator become one (the file's Transpose before a
 * convolution, its fused activation, an LSTM's unrolled steps), headed by the operator's own node.
 */
function byOperator(units: readonly QuantUnit[], graph: ModelGraph, layers: ReadonlyMap<LayerName, LayerInfo>): QuantUnit[] {
  const position = new Map(graph.nodes.map((n, i) => [n.name, i]));
  const entryOf = (layer: LayerName) => qtableLayer(layers.get(layer) ?? { name: layer });
  // Union by entry: a unit joins the group of the first unit that shares one of its entries.
  const groupOf = new Map<LayerName, QuantUnit[]>();
  const groups: QuantUnit[][] = [];
  for (const unit of units) {
    const entries = [...new Set(unit.layers.map(entryOf))];
    const found = [...new Set(entries.map((e) => groupOf.get(e)).filter((g): g is QuantUnit[] => g !== undefined))];
    const group = found[0] ?? [];
    if (found.length === 0) groups.push(group);
    for (const other of found.slice(1)) {
      group.push(...other);
      other.length = 0;
    }
    group.push(unit);
    for (const member of group) for (const layer of member.layers) groupOf.set(entryOf(layer), group);
  }
  return groups.filter((g) => g.length > 0).map((group) => {
    const members = group.flatMap((u) => u.layers).sort((a, b) => position.get(a)! - position.get(b)!);
    const entries = [...new Set(members.map(entryOf))];
    const head = members.find((l) => entries.includes(l)) ?? members[0];
    const unit: QuantUnit = { head, layers: members, position: position.get(head)! };
    return entries.length === members.length && entries.every((e, i) => e === members[i]) ? unit : { ...unit, entries };
  }).sort((a, b) => a.position - b.position);
}
