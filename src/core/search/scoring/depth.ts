import type { LayerName, ModelGraph } from '../../model/ModelGraph';

/**
 * ONE circle-mpqsolver's depth of every node: the longest path from a graph input (inputs are at
 * depth 0, a node is one deeper than its deepest input). Weights do not count.
 * @example a chain x -> Conv -> Relu -> Conv: depths 1, 2, 3
 */
export function nodeDepths(graph: ModelGraph): Map<LayerName, number> {
  const tensorDepth = new Map<string, number>(graph.inputs.map((i) => [i.name, 0]));
  const depths = new Map<LayerName, number>();
  for (const node of graph.nodes) {
    let deepest = 0;
    for (const input of node.inputs) deepest = Math.max(deepest, tensorDepth.get(input) ?? 0);
    const depth = deepest + 1;
    depths.set(node.name, depth);
    for (const output of node.outputs) if (output) tensorDepth.set(output, depth);
  }
  return depths;
}
