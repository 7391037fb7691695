import { onnx } from './protobuf';

/** Names from `taken` on: `base` itself if free, else `base_2`, `base_3`, ...; each name given is taken. */
export function nameAllocator(taken: Set<string>): (base: string) => string {
  return (base) => {
    let name = base;
    for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
}

/** Every name a graph uses at its top level: node names and outputs, initializers, inputs. */
export function graphNames(graph: onnx.IGraphProto): Set<string> {
  return new Set<string>([...(graph.node ?? []).flatMap((n) => [n.name ?? '', ...(n.output ?? [])]), ...(graph.initializer ?? []).map((t) => t.name ?? ''), ...(graph.input ?? []).map((i) => i.name ?? '')]);
}

/** Collects the nodes and initializers of a graph being written, with graph-unique names. */
export class GraphWriter {
  /** Where addNode writes: the main graph's list, or an If branch's while that branch is written. */
  nodes: onnx.NodeProto[] = [];
  readonly initializers: onnx.TensorProto[] = [];
  private readonly taken: Set<string>;

  constructor(takenNames: Iterable<string>) {
    this.taken = new Set(takenNames);
  }

  /** `base` itself if free, else `base_2`, `base_3`, ... */
  uniqueName(base: string): string {
    let name = base;
    for (let k = 2; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }

  reserve(name: string): void {
    this.taken.add(name);
  }

  addNode(opType: string, inputs: readonly string[], outputs: readonly string[], name: string, attributes: onnx.IAttributeProto[] = []): onnx.NodeProto {
    const node = onnx.NodeProto.create({ opType, input: [...inputs], output: [...outputs], name: this.uniqueName(name), attribute: attributes.map((a) => onnx.AttributeProto.create(a)) });
    this.nodes.push(node);
    return node;
  }

  addInitializer(tensor: onnx.TensorProto): string {
    this.initializers.push(tensor);
    return tensor.name;
  }
}

/** Every tensor name a graph's nodes read, subgraphs included (to prune unused initializers). */
export function referencedNames(nodes: readonly onnx.INodeProto[], out = new Set<string>()): Set<string> {
  for (const node of nodes) {
    for (const input of node.input ?? []) if (input) out.add(input);
    for (const attr of node.attribute ?? []) {
      for (const g of [attr.g, ...(attr.graphs ?? [])]) if (g) referencedNames(g.node ?? [], out);
    }
  }
  return out;
}
