import { onnx } from './protobuf';

/**
 * If nodes hold their two branches as graph attributes (then_branch, else_branch). qbench lists,
 * calibrates and quantizes the layers inside them (issue #9); Loop and Scan bodies, which run many
 * times with carried state, stay float. A branch reads tensors of the enclosing graphs by name
 * (its "outer references").
 */
export const IF_BRANCHES = ['then_branch', 'else_branch'] as const;

export interface ScopedNode {
  readonly node: onnx.NodeProto;
  /** `<If node>/<branch>` for each If it sits in, outermost first; '' in the main graph. */
  readonly scope: string;
  /** The If node whose branch holds it (undefined in the main graph). */
  readonly holder?: string;
  readonly branch?: (typeof IF_BRANCHES)[number];
}

export function isIf(node: onnx.INodeProto): boolean {
  return node.opType === 'If' && (!node.domain || node.domain === 'ai.onnx');
}

/** The branch graphs of an If node. */
export function ifBranches(node: onnx.INodeProto): { branch: (typeof IF_BRANCHES)[number]; graph: onnx.IGraphProto }[] {
  const out: { branch: (typeof IF_BRANCHES)[number]; graph: onnx.IGraphProto }[] = [];
  for (const branch of IF_BRANCHES) {
    const g = node.attribute?.find((a) => a.name === branch)?.g;
    if (g) out.push({ branch, graph: g });
  }
  return out;
}

/** Every node inside If branches (recursively, nested Ifs included), in the order they appear. */
export function ifBodyNodes(graph: onnx.IGraphProto, scope = ''): ScopedNode[] {
  const out: ScopedNode[] = [];
  for (const node of graph.node ?? []) {
    if (!isIf(node)) continue;
    for (const { branch, graph: body } of ifBranches(node)) {
      const inner = `${scope ? `${scope}/` : ''}${node.name}/${branch}`;
      for (const child of body.node ?? []) out.push({ node: child as onnx.NodeProto, scope: inner, holder: node.name ?? '', branch });
      out.push(...ifBodyNodes(body, inner));
    }
  }
  return out;
}

/** Tensors a graph's nodes read that it neither produces nor declares (inputs, initializers): what it takes from outside. */
export function outerReferences(graph: onnx.IGraphProto): string[] {
  const defined = new Set<string>([...(graph.input ?? []).map((i) => i.name ?? ''), ...(graph.initializer ?? []).map((t) => t.name ?? '')]);
  for (const node of graph.node ?? []) for (const o of node.output ?? []) if (o) defined.add(o);
  const refs = new Set<string>();
  for (const node of graph.node ?? []) {
    for (const i of node.input ?? []) if (i && !defined.has(i)) refs.add(i);
    for (const a of node.attribute ?? []) for (const g of [a.g, ...(a.graphs ?? [])]) if (g) for (const r of outerReferences(g)) if (!defined.has(r)) refs.add(r);
  }
  return [...refs];
}
