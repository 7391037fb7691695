import { onnx } from './protobuf';

/**
 * Control flow whose bodies qbench walks (issue #9): an If's two branches (then_branch,
 * else_branch) and the body of a Loop or a Scan are graphs whose nodes are layers like any other:
 * listed, calibrated on the runs the samples make, quantized inside the body. A body reads tensors
 * of the graphs around it by name (its "outer references"); a Loop or Scan body also has inputs of
 * its own (iteration number, condition, carried state, scanned slices).
 */
export const BODY_ATTRIBUTES = ['then_branch', 'else_branch', 'body'] as const;
export type BodyAttribute = (typeof BODY_ATTRIBUTES)[number];

export interface ScopedNode {
  readonly node: onnx.NodeProto;
  /** `<node>/<then_branch|else_branch|body>` for each body it sits in, outermost first. */
  readonly scope: string;
  /** The If or Loop whose body holds it. */
  readonly holder: string;
  readonly branch: BodyAttribute;
}

const standard = (node: onnx.INodeProto) => !node.domain || node.domain === 'ai.onnx';

export function isIf(node: onnx.INodeProto): boolean {
  return node.opType === 'If' && standard(node);
}

export function isLoop(node: onnx.INodeProto): boolean {
  return node.opType === 'Loop' && standard(node);
}

export function isScan(node: onnx.INodeProto): boolean {
  return node.opType === 'Scan' && standard(node);
}

/** If, Loop or Scan: a node whose bodies are walked. */
export function isControlFlow(node: onnx.INodeProto): boolean {
  return isIf(node) || isLoop(node) || isScan(node);
}

/** The bodies of an If (its branches), a Loop or a Scan (its body); none for anything else. */
export function bodies(node: onnx.INodeProto): { branch: BodyAttribute; graph: onnx.IGraphProto }[] {
  if (!isControlFlow(node)) return [];
  const out: { branch: BodyAttribute; graph: onnx.IGraphProto }[] = [];
  for (const branch of isIf(node) ? (['then_branch', 'else_branch'] as const) : (['body'] as const)) {
    const g = node.attribute?.find((a) => a.name === branch)?.g;
    if (g) out.push({ branch, graph: g });
  }
  return out;
}

/** Every node inside walked bodies (recursively), in the order they appear. */
export function bodyNodes(graph: onnx.IGraphProto, scope = ''): ScopedNode[] {
  const out: ScopedNode[] = [];
  for (const node of graph.node ?? []) {
    for (const { branch, graph: body } of bodies(node)) {
      const inner = `${scope ? `${scope}/` : ''}${node.name}/${branch}`;
      for (const child of body.node ?? []) out.push({ node: child as onnx.NodeProto, scope: inner, holder: node.name ?? '', branch });
      out.push(...bodyNodes(body, inner));
    }
  }
  return out;
}

/** Inputs of walked Loop and Scan bodies (iteration, condition, state, slices), recursively. */
export function bodyInputs(graph: onnx.IGraphProto): onnx.IValueInfoProto[] {
  const out: onnx.IValueInfoProto[] = [];
  for (const node of graph.node ?? []) {
    for (const { graph: body } of bodies(node)) {
      out.push(...(body.input ?? []));
      out.push(...bodyInputs(body));
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
