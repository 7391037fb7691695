/*
 * Layered (Sugiyama) layout of a model graph, top to bottom, with @dagrejs/dagre 3.1.3.
 *
 * Library choice, measured on this machine (2 cores, Node 20, syntheticGraph(n, 1) from
 * test/support/bigGraph.ts, plain dagre.layout on the whole graph, warm):
 *
 *   nodes | dagre network-simplex | dagre longest-path | dagre tight-tree | elkjs 0.12 layered
 *     500 |   318-350 ms          |   200-280 ms       |   270 ms         |  650 ms
 *   1,000 |   611-803 ms          |   405-453 ms       |   466 ms         |  670 ms
 *   2,000 |   933-1,383 ms        |   755-1,199 ms     |   885 ms         |  650-1,530 ms
 *
 * Speed is not what decides: every one of them is recursive along the depth of the graph and
 * overflows the stack on deep models. A plain chain overflows dagre at about 1,800 nodes in Node
 * and at about 1,190 in a Chromium 156 dedicated worker (whose stack is half the main thread's:
 * 6,363 vs 12,464 trivial frames); elkjs lasts to about 4,000 in Node and 3,500 in the worker, and
 * fails on syntheticGraph(10000). A 2,000-node model can be 1,500 ranks deep.
 *
 * So this module owns ranking and cuts deep graphs into bands of at most 200 ranks at the
 * narrowest places (fewest tensors crossing, typically the residual stream between blocks).
 * dagre lays out each band with our ranks (a ranker function, which dagre's types export as
 * RankerFunction, so none of its recursive rankers run) and with stub nodes on the band's first
 * and last rows for tensors that cross the cut. The bands are stacked and shifted sideways so
 * crossing tensors continue straight down, and crossing edges are stitched from their pieces.
 * Recursion depth is bounded by the band (about 2 x 200 dagre ranks); a band that still
 * overflows is split in two and retried. elkjs was installed for the comparison and removed again.
 *
 * layoutGraph itself (syntheticGraph(n, 1), warm, median of 5; the machine was shared with
 * another job, hence ranges over runs):
 *
 *   nodes  | Node 20         | Chromium 156 worker (layoutInWorker; dev server / production build)
 *     500  | 226-251 ms      | 189-231 ms / 308-421 ms
 *   1,000  | 472-566 ms      | 371-503 ms / 531-952 ms
 *   2,000  | 875-1,171 ms    | 727-793 ms / 960-1,175 ms   (drawing 1,278 x 112,003)
 *   5,000  | 2.5 s           | 1.6-1.7 s  / 2.1-2.4 s
 *  10,000  | 4.9 s           | -
 * A 5,000-node chain takes 1.2-1.4 s in Node.
 */
import { Graph, layout as dagreLayout, type GraphLabel, type NodeLabel, type EdgeLabel } from '@dagrejs/dagre';
import type { ModelGraph } from '../model/ModelGraph';
import { inputNodeId, outputNodeId, type GraphLayout, type LayoutEdge, type LayoutNode } from './GraphLayout';
import { labelWidth, layerLabel, NODE_HEIGHT, terminalLabel } from './nodeLabel';

export type { GraphLayout, LayoutEdge, LayoutNode } from './GraphLayout';
export { inputNodeId, outputNodeId } from './GraphLayout';

/** Knobs for tests and benchmarks; the defaults are what the view uses. */
export interface LayoutTuning {
  /** Deepest band handed to dagre in one piece, in ranks (default 200). */
  readonly maxBandRanks: number;
  /** Shallowest band when a cut is chosen (default maxBandRanks / 2). */
  readonly minBandRanks: number;
  /** Vertical distance between ranks (default 36). */
  readonly rankSep: number;
  /** Horizontal distance between boxes (default 24). */
  readonly nodeSep: number;
}

const MARGIN = 16;
/** How far a band's centre may sit from the first band's, in layout units. */
const MAX_DRIFT = 160;
const STUB_SIZE = 2;

interface Vertex {
  readonly id: string;
  readonly kind: LayoutNode['kind'];
  readonly width: number;
}

interface FlowEdge {
  readonly from: number;
  readonly to: number;
  readonly tensor: string;
}

type Point = { x: number; y: number };

interface Band {
  readonly first: number;
  readonly last: number;
  readonly width: number;
  readonly height: number;
  readonly centres: Map<number, Point>;
  /** Stub positions per producer vertex, for tensors entering through the top / leaving through the bottom. */
  readonly topStubs: Map<number, Point>;
  readonly bottomStubs: Map<number, Point>;
  /** Points of band-local pieces, keyed by pieceKey(). */
  readonly pieces: Map<string, Point[]>;
}

/**
 * Lays out a model graph as a layered DAG, top to bottom: one box per layer (id = layer name),
 * one per graph input that is not a weight (`input:<name>`) and one per graph output
 * (`output:<name>`); one edge per (producer, consumer, tensor). Weights make neither nodes nor
 * edges, nor do tensors that nothing produces. Pure and DOM-free: runs in a worker or in Node.
 *
 * @example
 * const layout = layoutGraph(graph); // graph: input x -> Conv 'conv1' -> output y
 * layout.nodes.map((n) => n.id);     // ['input:x', 'conv1', 'output:y']
 * layout.edges.map((e) => `${e.from}->${e.to}`); // ['input:x->conv1', 'conv1->output:y']
 */
export function layoutGraph(graph: ModelGraph, tuning: Partial<LayoutTuning> = {}): GraphLayout {
  const started = performance.now();
  const maxBandRanks = Math.max(2, tuning.maxBandRanks ?? 200);
  const options = {
    maxBandRanks,
    minBandRanks: Math.max(1, Math.min(maxBandRanks, tuning.minBandRanks ?? Math.ceil(maxBandRanks / 2))),
    rankSep: tuning.rankSep ?? 36,
    nodeSep: tuning.nodeSep ?? 24,
  };

  const { vertices, edges } = flowGraph(graph);
  const { rank, forward } = assignRanks(vertices.length, edges);
  let rankCount = 0;
  for (const r of rank) rankCount = Math.max(rankCount, r + 1);
  const crossing = crossingCounts(rankCount, edges, forward, rank);

  const bands: Band[] = [];
  for (const [first, last] of chooseBands(rankCount, crossing, options)) bands.push(...layoutBandOrSplit(first, last));

  function layoutBandOrSplit(first: number, last: number): Band[] {
    try {
      return [layoutBand(first, last, vertices, edges, forward, rank, options)];
    } catch (error) {
      if (!(error instanceof RangeError) || last - first < 2) {
        throw new Error(`layoutGraph: ${graph.fileName}: dagre failed on ranks ${first}..${last}: ${(error as Error).message}`);
      }
      const quarter = Math.max(1, Math.floor((last - first) / 4));
      const cut = narrowestCut(crossing, first + quarter, last - quarter);
      return [...layoutBandOrSplit(first, cut), ...layoutBandOrSplit(cut + 1, last)];
    }
  }

  // Stack the bands; shift each sideways so the tensors crossing into it continue straight down,
  // unless that drifts the band more than MAX_DRIFT from the first band's centre line: dagre's
  // placement wanders sideways over hundreds of ranks (a 2,000-node model laid out in one piece
  // is 3,600 px wide for 1,000 px of boxes), and the drift would add up band after band into a
  // staircase. Where a band is pulled back, its crossing edges jog; the gap grows with the jog.
  const offsets: Point[] = [];
  const centre = (band: Band) => median([...band.centres.values()].map((p) => p.x));
  let y = MARGIN;
  bands.forEach((band, b) => {
    let x = 0;
    if (b > 0) {
      const previous = bands[b - 1];
      const shifts: number[] = [];
      for (const [producer, top] of band.topStubs) {
        const bottom = previous.bottomStubs.get(producer);
        if (bottom) shifts.push(bottom.x + offsets[b - 1].x - top.x);
      }
      const line = centre(bands[0]);
      const own = centre(band);
      x = shifts.length ? median(shifts) : line - own;
      x = Math.min(line + MAX_DRIFT - own, Math.max(line - MAX_DRIFT - own, x));
      const jog = Math.max(0, ...shifts.map((shift) => Math.abs(shift - x)));
      y += options.rankSep / 2 + Math.min(0.5 * jog, 3 * options.rankSep);
    }
    offsets.push({ x, y });
    y += band.height;
  });
  const minX = Math.min(0, ...offsets.map((o) => o.x));
  for (const o of offsets) o.x += MARGIN - minX;
  const width = bands.length ? Math.max(...bands.map((band, b) => offsets[b].x + band.width)) + MARGIN : 0;
  const height = bands.length ? y + MARGIN : 0;

  const bandOf = (r: number): number => {
    let lo = 0;
    let hi = bands.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (bands[mid].first <= r) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const move = (p: Point, b: number): Point => ({ x: p.x + offsets[b].x, y: p.y + offsets[b].y });

  const nodes: LayoutNode[] = vertices.map((v, i) => {
    const b = bandOf(rank[i]);
    const centre = move(bands[b].centres.get(i)!, b);
    return { id: v.id, kind: v.kind, x: centre.x, y: centre.y, width: v.width, height: NODE_HEIGHT };
  });

  const layoutEdges: LayoutEdge[] = edges.map((edge, i) => {
    const from = vertices[edge.from].id;
    const to = vertices[edge.to].id;
    if (!forward[i]) {
      // Only in cyclic (invalid) graphs: a straight line from the bottom of the producer to the top of the consumer.
      const a = nodes[edge.from];
      const c = nodes[edge.to];
      return { from, to, tensor: edge.tensor, points: [{ x: a.x, y: a.y + a.height / 2 }, { x: c.x, y: c.y - c.height / 2 }] };
    }
    const bu = bandOf(rank[edge.from]);
    const bv = bandOf(rank[edge.to]);
    if (bu === bv) return { from, to, tensor: edge.tensor, points: attach(bands[bu].pieces.get(pieceKey('edge', i))!.map((p) => move(p, bu)), nodes[edge.from], nodes[edge.to]) };
    const points: Point[] = [];
    for (let b = bu; b <= bv; b++) {
      const key = b === bu ? pieceKey('out', edge.from) : b === bv ? pieceKey('edge', i) : pieceKey('through', edge.from);
      for (const p of bands[b].pieces.get(key)!) {
        const q = move(p, b);
        const last = points[points.length - 1];
        if (!last || Math.abs(last.x - q.x) > 0.01 || Math.abs(last.y - q.y) > 0.01) points.push(q);
      }
    }
    return { from, to, tensor: edge.tensor, points: attach(points, nodes[edge.from], nodes[edge.to]) };
  });

  return { nodes, edges: layoutEdges, width, height, elapsedMs: performance.now() - started };
}

/** Vertices (terminals and layers) and the tensor edges between them, deduplicated. */
function flowGraph(graph: ModelGraph): { vertices: Vertex[]; edges: FlowEdge[] } {
  const weights = new Set(graph.weights.map((w) => w.name));
  const vertices: Vertex[] = [];
  const ids = new Set<string>();
  const producer = new Map<string, number>();
  const consumers: { vertex: number; tensors: readonly string[] }[] = [];
  const add = (vertex: Vertex): number | null => {
    if (ids.has(vertex.id)) return null;
    ids.add(vertex.id);
    vertices.push(vertex);
    return vertices.length - 1;
  };

  for (const input of graph.inputs) {
    if (weights.has(input.name)) continue;
    const v = add({ id: inputNodeId(input.name), kind: 'input', width: labelWidth(terminalLabel(input)) });
    if (v !== null) producer.set(input.name, v);
  }
  for (const node of graph.nodes) {
    const v = add({ id: node.name, kind: 'layer', width: labelWidth(layerLabel(node)) });
    if (v === null) continue; // a duplicate name breaks the ModelGraph contract; the first one wins
    for (const output of node.outputs) if (output) producer.set(output, v);
    consumers.push({ vertex: v, tensors: node.inputs });
  }
  for (const output of graph.outputs) {
    const v = add({ id: outputNodeId(output.name), kind: 'output', width: labelWidth(terminalLabel(output)) });
    if (v !== null) consumers.push({ vertex: v, tensors: [output.name] });
  }

  const edges: FlowEdge[] = [];
  const seen = new Set<string>();
  for (const { vertex, tensors } of consumers) {
    for (const tensor of tensors) {
      if (!tensor || weights.has(tensor)) continue;
      const from = producer.get(tensor);
      if (from === undefined || from === vertex) continue;
      const key = `${from}\u0000${vertex}\u0000${tensor}`;
      if (seen.has(key)) continue;
      seen.add(key);
      edges.push({ from, to: vertex, tensor });
    }
  }
  return { vertices, edges };
}

/**
 * Longest-path ranks from the sources, then every source pulled down to just above its first
 * consumer (an `attention_mask` input or a Constant sits by its use, not at the top). Iterative,
 * so any depth works. Edges that close a cycle (never in a valid ONNX graph) are marked
 * non-forward and left out of ranking and banding.
 */
function assignRanks(vertexCount: number, edges: readonly FlowEdge[]): { rank: number[]; forward: boolean[] } {
  const outgoing: number[][] = Array.from({ length: vertexCount }, () => []);
  const indegree = new Array<number>(vertexCount).fill(0);
  edges.forEach((e, i) => {
    outgoing[e.from].push(i);
    indegree[e.to]++;
  });
  const order: number[] = [];
  for (let v = 0; v < vertexCount; v++) if (indegree[v] === 0) order.push(v);
  for (let head = 0; head < order.length; head++) {
    for (const i of outgoing[order[head]]) if (--indegree[edges[i].to] === 0) order.push(edges[i].to);
  }
  if (order.length < vertexCount) {
    const placed = new Set(order);
    for (let v = 0; v < vertexCount; v++) if (!placed.has(v)) order.push(v);
  }
  const position = new Array<number>(vertexCount);
  order.forEach((v, i) => (position[v] = i));
  const forward = edges.map((e) => position[e.from] < position[e.to]);

  const rank = new Array<number>(vertexCount).fill(0);
  const hasPredecessor = new Array<boolean>(vertexCount).fill(false);
  for (const v of order) {
    for (const i of outgoing[v]) {
      if (!forward[i]) continue;
      const w = edges[i].to;
      hasPredecessor[w] = true;
      rank[w] = Math.max(rank[w], rank[v] + 1);
    }
  }
  for (let k = order.length - 1; k >= 0; k--) {
    const v = order[k];
    if (hasPredecessor[v]) continue;
    let lowest = Infinity;
    for (const i of outgoing[v]) if (forward[i]) lowest = Math.min(lowest, rank[edges[i].to]);
    if (lowest !== Infinity) rank[v] = lowest - 1;
  }
  return { rank, forward };
}

/** crossing[r] = how many edges cross the gap between rank r and rank r + 1. */
function crossingCounts(rankCount: number, edges: readonly FlowEdge[], forward: readonly boolean[], rank: readonly number[]): number[] {
  const delta = new Array<number>(rankCount + 1).fill(0);
  edges.forEach((e, i) => {
    if (!forward[i]) return;
    delta[rank[e.from]]++;
    delta[rank[e.to]]--;
  });
  const crossing: number[] = [];
  let running = 0;
  for (let r = 0; r < rankCount; r++) crossing.push((running += delta[r]));
  return crossing;
}

/** The cut in [from, to] with the fewest crossing edges; the deepest of equals. */
function narrowestCut(crossing: readonly number[], from: number, to: number): number {
  let best = to;
  for (let r = to; r >= from; r--) if (crossing[r] < crossing[best]) best = r;
  return best;
}

/** Bands of consecutive ranks [first, last], each at most maxBandRanks deep, cut where fewest edges cross. */
function chooseBands(rankCount: number, crossing: readonly number[], options: { maxBandRanks: number; minBandRanks: number }): [number, number][] {
  const bands: [number, number][] = [];
  let first = 0;
  while (rankCount - first > options.maxBandRanks) {
    const cut = narrowestCut(crossing, first + options.minBandRanks - 1, Math.min(first + options.maxBandRanks - 1, rankCount - 2));
    bands.push([first, cut]);
    first = cut + 1;
  }
  if (rankCount > 0) bands.push([first, rankCount - 1]);
  return bands;
}

function pieceKey(kind: 'edge' | 'out' | 'through', index: number): string {
  return `${kind}:${index}`;
}

/**
 * One band through dagre. Vertices become `n<index>`; a tensor entering from above comes from a
 * stub `t<producer>` on the band's first row, one leaving downwards goes to a stub `b<producer>`
 * on its last row (one stub per producer, shared by its tensors). Ranks are ours: dagre doubles
 * every edge's minlen before ranking (room for edge labels), so a rank r sits on dagre rank
 * 2 (r - first + 1) and the stub rows on 0 and 2 (last - first + 2).
 */
function layoutBand(
  first: number,
  last: number,
  vertices: readonly Vertex[],
  edges: readonly FlowEdge[],
  forward: readonly boolean[],
  rank: readonly number[],
  options: { rankSep: number; nodeSep: number },
): Band {
  const g = new Graph<GraphLabel, NodeLabel, EdgeLabel>({ multigraph: true });
  const ranks = new Map<string, number>();
  const inBand = (v: number) => rank[v] >= first && rank[v] <= last;
  const bottomRank = 2 * (last - first + 2);
  const node = (id: string, width: number, height: number, r: number) => {
    if (ranks.has(id)) return;
    g.setNode(id, { width, height });
    ranks.set(id, r);
  };
  const stub = (kind: 't' | 'b', producer: number) => {
    const id = `${kind}${producer}`;
    node(id, STUB_SIZE, STUB_SIZE, kind === 't' ? 0 : bottomRank);
    return id;
  };

  vertices.forEach((v, i) => {
    if (inBand(i)) node(`n${i}`, v.width, NODE_HEIGHT, 2 * (rank[i] - first + 1));
  });
  const topStubs = new Set<number>();
  const bottomStubs = new Set<number>();
  edges.forEach((e, i) => {
    if (!forward[i]) return;
    const fromRank = rank[e.from];
    const toRank = rank[e.to];
    if (toRank < first || fromRank > last) return;
    const above = fromRank < first;
    const below = toRank > last;
    if (above) topStubs.add(e.from);
    if (below) bottomStubs.add(e.from);
    if (above && below) g.setEdge(stub('t', e.from), stub('b', e.from), {}, pieceKey('through', e.from));
    else if (below) g.setEdge(`n${e.from}`, stub('b', e.from), {}, pieceKey('out', e.from));
    else g.setEdge(above ? stub('t', e.from) : `n${e.from}`, `n${e.to}`, {}, pieceKey('edge', i));
  });

  g.setGraph({
    rankdir: 'TB',
    nodesep: options.nodeSep,
    ranksep: options.rankSep,
    edgesep: 10,
    marginx: 0,
    marginy: 0,
    // dagre calls a function ranker with its internal graph, which also holds the nesting root
    // (above everything, edges of minlen 1): it gets rank -1.
    ranker: ((internal: Graph<GraphLabel, NodeLabel, EdgeLabel>) => {
      for (const v of internal.nodes()) internal.node(v).rank = ranks.get(v) ?? -1;
    }) as unknown as 'longest-path',
  });
  g.setDefaultEdgeLabel(() => ({}));
  dagreLayout(g);

  const centres = new Map<number, Point>();
  vertices.forEach((_, i) => {
    if (!inBand(i)) return;
    const label = g.node(`n${i}`);
    centres.set(i, { x: label.x!, y: label.y! });
  });
  const stubPoints = (kind: 't' | 'b', producers: Set<number>) => {
    const points = new Map<number, Point>();
    for (const p of producers) {
      const label = g.node(`${kind}${p}`);
      points.set(p, { x: label.x!, y: label.y! });
    }
    return points;
  };
  const pieces = new Map<string, Point[]>();
  for (const e of g.edges()) pieces.set(e.name!, (g.edge(e).points ?? []).map((p: Point) => ({ x: p.x, y: p.y })));
  const size = g.graph();
  return { first, last, width: size.width ?? 0, height: size.height ?? 0, centres, topStubs: stubPoints('t', topStubs), bottomStubs: stubPoints('b', bottomStubs), pieces };
}

/**
 * dagre clips an edge where the line to its next bend leaves the box, sometimes through a side;
 * top-to-bottom drawings read better when every edge leaves through the bottom and enters through
 * the top, so the end points move there (keeping their x, inside the box's corners).
 */
function attach(points: Point[], from: LayoutNode, to: LayoutNode): Point[] {
  const clampX = (x: number, box: LayoutNode) => Math.min(box.x + box.width / 2 - 4, Math.max(box.x - box.width / 2 + 4, x));
  if (points.length < 2) return [{ x: from.x, y: from.y + from.height / 2 }, { x: to.x, y: to.y - to.height / 2 }];
  const first = points[0];
  const last = points[points.length - 1];
  points[0] = { x: clampX(first.x, from), y: from.y + from.height / 2 };
  points[points.length - 1] = { x: clampX(last.x, to), y: to.y - to.height / 2 };
  return points;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
