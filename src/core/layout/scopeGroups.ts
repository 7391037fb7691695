import type { GraphNode, LayerName, ModelGraph } from '../model/ModelGraph';

/**
 * A run of consecutive layers (graph order) drawn as one box when collapsed: one name scope, or
 * repeats of one block, or a chunk of layers that repeat nothing (blockGroups.ts).
 */
export interface ScopeGroup {
  /**
   * The box's id in a collapsed graph's layout: `group:<scope>`, `#2` on for a scope's later runs;
   * `group:@<k>` for blocks and chunks (`group:<scope>@<k>` inside a scope too big for one box),
   * `<first group's id>+<count>` for a run of scopes.
   */
  readonly id: string;
  /** The box's title: the top-level name scope, `/model.22` for `/model.22/cv2/conv/Conv`; for blocks `Conv…Relu ×8`. */
  readonly scope: string;
  /** Its layers, in graph order. */
  readonly members: readonly LayerName[];
  /** What grouped them: a name scope (the default), a run of scopes, repeats of a block, or a chunk of the order. */
  readonly kind?: 'scope' | 'scopes' | 'block' | 'chunk';
  /** A block's op types, once (`Conv Relu Conv Add Relu`). */
  readonly pattern?: string;
}

/** The id prefix of a group box (no layer name starts with it: they are layers' names or `<tensor>_<Op>`). */
export const GROUP_PREFIX = 'group:';
export const isGroupId = (id: string): boolean => id.startsWith(GROUP_PREFIX);

/**
 * A layer's top-level name scope: the first segment of a path-like name (`/model.22/cv2/Conv` ->
 * `/model.22`, exporters from PyTorch and TF write these), else the If/Loop body it sits in; null
 * for names that are no path (`p2o.Conv.17`, `Conv_3`, TPU-MLIR's `<tensor>_<Op>`).
 */
export function topScope(node: Pick<GraphNode, 'name' | 'scope'>): string | null {
  if (node.name.startsWith('/')) {
    const cut = node.name.indexOf('/', 1);
    if (cut > 1) return node.name.slice(0, cut);
  }
  if (node.scope) return node.scope.split('/')[0];
  return null;
}

/**
 * The groups a graph can collapse into: maximal runs of consecutive nodes (in the graph's
 * topological order) of one top-level scope, with unscoped nodes between two of its members taken
 * in. Runs, not whole scopes: contracting a contiguous stretch of a topological order can never
 * make a cycle (a path out of the run and back would need a node ordered inside it), whereas a
 * scope whose nodes interleave with others' could. Runs shorter than `minSize` are not groups.
 */
export function findScopeGroups(graph: ModelGraph, minSize = 3): ScopeGroup[] {
  const scopes = graph.nodes.map(topScope);
  const groups: ScopeGroup[] = [];
  const runs = new Map<string, number>();
  let i = 0;
  while (i < scopes.length) {
    const scope = scopes[i];
    if (scope === null) {
      i++;
      continue;
    }
    let end = i + 1; // exclusive
    let j = i + 1;
    while (j < scopes.length) {
      if (scopes[j] === scope) end = j + 1;
      else if (scopes[j] !== null) break;
      j++;
    }
    if (end - i >= minSize) {
      const n = (runs.get(scope) ?? 0) + 1;
      runs.set(scope, n);
      groups.push({ id: `${GROUP_PREFIX}${scope}${n > 1 ? `#${n}` : ''}`, scope, members: graph.nodes.slice(i, end).map((node) => node.name) });
    }
    i = end;
  }
  return groups;
}

/**
 * The graph with each collapsed group as one node (id = the group's id, op type `<scope> (<size>)`): it reads
 * the tensors its members read from outside and writes those read outside it (or graph outputs).
 * Weights are dropped from the inputs (they are no edges); the node sits where its first member was.
 */
export function collapseGroups(graph: ModelGraph, groups: readonly ScopeGroup[], collapsed: ReadonlySet<string>): ModelGraph {
  const groupOf = new Map<LayerName, ScopeGroup>();
  for (const g of groups) if (collapsed.has(g.id)) for (const m of g.members) groupOf.set(m, g);
  if (groupOf.size === 0) return graph;
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const weights = new Set(graph.weights.map((w) => w.name));
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  // Who reads each tensor, as the collapsed graph sees it (a group's id for its members).
  const readers = new Map<string, Set<string>>();
  for (const n of graph.nodes) {
    const reader = groupOf.get(n.name)?.id ?? n.name;
    for (const t of n.inputs) if (t) (readers.get(t) ?? readers.set(t, new Set()).get(t)!).add(reader);
  }
  const nodes: GraphNode[] = [];
  const emitted = new Set<string>();
  for (const n of graph.nodes) {
    const g = groupOf.get(n.name);
    if (!g) {
      nodes.push(n);
      continue;
    }
    if (emitted.has(g.id)) continue;
    emitted.add(g.id);
    const members = g.members.map((m) => byName.get(m)!);
    const produced = new Set(members.flatMap((m) => m.outputs.filter(Boolean)));
    const inputs = [...new Set(members.flatMap((m) => m.inputs.filter((t) => t && !produced.has(t) && !weights.has(t))))];
    const outputs = [...produced].filter((t) => graphOutputs.has(t) || [...(readers.get(t) ?? [])].some((r) => r !== g.id));
    // The op type is the box's title, the scope and its size: the layout sizes the box to it.
    nodes.push({ name: g.id, opType: `${g.scope} (${g.members.length})`, domain: '', inputs, outputs, attributes: {} });
  }
  return { ...graph, nodes };
}
