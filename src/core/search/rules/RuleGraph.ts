import { indexGraph, type GraphIndex, type GraphNode, type LayerName, type ModelGraph } from '../../model/ModelGraph';

/**
 * The questions every graph-only rule asks of a ModelGraph: who produces and who reads a tensor,
 * which tensors are constants, what lies before and after a node, and the topological position
 * of each node (ModelGraph.nodes is already in topological order, so position is the index).
 */
export class RuleGraph {
  readonly nodes: readonly GraphNode[];
  private readonly index: GraphIndex;
  private readonly positions = new Map<LayerName, number>();
  /** Tensor name -> element count, for initializers and Constant node outputs. */
  private readonly constantSizes = new Map<string, number>();

  constructor(readonly graph: ModelGraph) {
    this.nodes = graph.nodes;
    this.index = indexGraph(graph.nodes);
    graph.nodes.forEach((node, i) => this.positions.set(node.name, i));
    for (const weight of graph.weights) this.constantSizes.set(weight.name, elementCount(weight.dims));
    // readOnnx turns Constant nodes into initializers; a graph built another way may still hold them.
    for (const node of graph.nodes) {
      const value = node.attributes.value;
      if (node.opType === 'Constant' && node.outputs[0]) {
        const dims = typeof value === 'object' && value !== null && 'tensor' in value ? value.tensor : [];
        this.constantSizes.set(node.outputs[0], elementCount(dims));
      }
    }
  }

  node(name: LayerName): GraphNode | undefined {
    return this.index.byName.get(name);
  }

  producer(tensor: string): GraphNode | undefined {
    return tensor ? this.index.producer.get(tensor) : undefined;
  }

  /** The producer of `tensor` when it is a node of one of `opTypes`. */
  producerOf(tensor: string, ...opTypes: string[]): GraphNode | undefined {
    const node = this.producer(tensor);
    return node && opTypes.includes(node.opType) ? node : undefined;
  }

  consumers(tensor: string): readonly GraphNode[] {
    return this.index.consumers.get(tensor) ?? [];
  }

  /** The consumers of a node's first output that are of one of `opTypes`. */
  consumersOf(node: GraphNode, ...opTypes: string[]): GraphNode[] {
    return this.consumers(node.outputs[0] ?? '').filter((c) => opTypes.includes(c.opType));
  }

  position(node: GraphNode): number {
    return this.positions.get(node.name) ?? -1;
  }

  isConstant(tensor: string): boolean {
    return this.constantSizes.has(tensor);
  }

  isScalarConstant(tensor: string): boolean {
    return this.constantSizes.get(tensor) === 1;
  }

  /** The rank of a graph input or output, when the model declares it; intermediate tensors have none here. */
  rank(tensor: string): number | undefined {
    const desc = this.graph.inputs.find((v) => v.name === tensor) ?? this.graph.outputs.find((v) => v.name === tensor);
    return desc?.dims?.length;
  }

  /** Inputs that carry data: present and not constants. */
  dataInputs(node: GraphNode): string[] {
    return node.inputs.filter((input) => input && !this.isConstant(input));
  }

  /** The input of a two-input node that is not `tensor`, or undefined if neither is. */
  otherInput(node: GraphNode, tensor: string): string | undefined {
    if (node.inputs[0] === tensor) return node.inputs[1];
    if (node.inputs[1] === tensor) return node.inputs[0];
    return undefined;
  }

  /** The seeds and every node they depend on. */
  ancestors(seeds: Iterable<GraphNode>): Set<LayerName> {
    return this.walk(seeds, (node) => node.inputs.map((input) => this.producer(input)));
  }

  /** The seeds and every node that depends on them. */
  descendants(seeds: Iterable<GraphNode>): Set<LayerName> {
    return this.walk(seeds, (node) => node.outputs.flatMap((output) => (output ? this.consumers(output) : [])));
  }

  /** Whether `to` depends on `from` (a path of tensors leads from one to the other). */
  reaches(from: GraphNode, to: GraphNode): boolean {
    const limit = this.position(to);
    if (this.position(from) >= limit) return false;
    let found = false;
    // Nodes after `to` in topological order cannot lead back to it: prune them.
    this.walk([from], (node) => {
      if (node === to) found = true;
      if (found) return [];
      return node.outputs.flatMap((output) => (output ? this.consumers(output) : [])).filter((c) => this.position(c) <= limit);
    });
    return found;
  }

  /** Names in topological order. */
  inOrder(names: Iterable<LayerName>): LayerName[] {
    return [...new Set(names)].sort((a, b) => (this.positions.get(a) ?? 0) - (this.positions.get(b) ?? 0));
  }

  /**
   * Nodes a compiler folds into constants before it lists operators: Shape/Size (input shapes are
   * static for TPU-MLIR) and every node whose inputs are all constants or folded outputs, the
   * integer arithmetic that only computes shapes (TPU-MLIR python/transform/OnnxOpt.py,
   * ConstantFolding.get_constant_nodes; docs/algorithms.md §5 "shape ops").
   */
  foldedNodes(): Set<LayerName> {
    const folded = new Set<LayerName>();
    const foldedTensors = new Set<string>();
    const isFoldedInput = (input: string) => !input || this.isConstant(input) || foldedTensors.has(input);
    for (const node of this.nodes) {
      const foldable = node.opType === 'Constant' || node.opType === 'Shape' || node.opType === 'Size'
        || (node.inputs.some(Boolean) && node.inputs.every(isFoldedInput));
      if (!foldable) continue;
      folded.add(node.name);
      for (const output of node.outputs) if (output) foldedTensors.add(output);
    }
    return folded;
  }

  private walk(seeds: Iterable<GraphNode>, next: (node: GraphNode) => readonly (GraphNode | undefined)[]): Set<LayerName> {
    const seen = new Set<LayerName>();
    const stack = [...seeds];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (seen.has(node.name)) continue;
      seen.add(node.name);
      for (const other of next(node)) if (other && !seen.has(other.name)) stack.push(other);
    }
    return seen;
  }
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
