import type { ModelGraph } from '../model/ModelGraph';
import { findScopeGroups, GROUP_PREFIX, type ScopeGroup } from './scopeGroups';

/**
 * Groups for models without usable name scopes (issue 13): repeated blocks, found between the
 * places where one tensor alone crosses the topological order (the residual stream between two
 * ResNet blocks, the activation between two layers of a plain chain), and fixed-size chunks of the
 * layer order where nothing repeats. Every group is a contiguous run of the graph's node order, so
 * collapsing any set of them cannot make a cycle (see findScopeGroups).
 */

/** Below this many layers a model without name scopes gets no block groups (the demo's 330 layers draw as they are). */
export const BLOCKS_FROM = 500;

export interface BlockOptions {
  /** Layers per group aimed at (default: n / 250, from 8 to 64: a 10,000-layer model collapses to about 250 boxes). */
  readonly target: number;
  /** Longest repeating unit looked for, in cut-to-cut segments (default 8). */
  readonly maxPeriod: number;
  /** Shorter runs stay single layers (default 3). */
  readonly minSize: number;
}

/**
 * More groups than this (a 10,000-layer model with a scope per 5-layer block has 2,000) are merged,
 * a few consecutive ones to a box, down to about TARGET_GROUPS: 2,000 boxes take seconds to lay
 * out and draw, 250 a few hundred milliseconds.
 */
export const MAX_GROUPS = 500;
const TARGET_GROUPS = 250;

/**
 * Runs of `per` consecutive groups as one (`/block0 … /block7`), with any layers between them:
 * still a contiguous stretch of the order. Ids are the first group's with `+<count>`.
 */
function mergeRuns(graph: ModelGraph, groups: readonly ScopeGroup[], index: ReadonlyMap<string, number>, per: number): ScopeGroup[] {
  const merged: ScopeGroup[] = [];
  for (let k = 0; k < groups.length; k += per) {
    const run = groups.slice(k, k + per);
    if (run.length === 1) {
      merged.push(run[0]);
      continue;
    }
    const first = run[0];
    const last = run[run.length - 1];
    const start = index.get(first.members[0])!;
    const end = index.get(last.members[last.members.length - 1])! + 1;
    merged.push({
      id: `${first.id}+${run.length}`, scope: `${first.scope} … ${last.scope}`, kind: 'scopes',
      members: graph.nodes.slice(start, end).map((node) => node.name),
    });
  }
  return merged;
}

export function defaultTarget(layers: number): number {
  return Math.min(64, Math.max(8, Math.round(layers / 250)));
}

/**
 * The groups a graph collapses into: its name scopes when they cover at least half of its layers
 * (a scope bigger than 4 x target is split into blocks of its own; above MAX_GROUPS scopes, runs of
 * a few make one box), else, from BLOCKS_FROM layers, repeated blocks and chunks over the whole order.
 */
export function findGroups(graph: ModelGraph, options: Partial<BlockOptions> = {}): ScopeGroup[] {
  const n = graph.nodes.length;
  const scoped = findScopeGroups(graph);
  const covered = scoped.reduce((sum, g) => sum + g.members.length, 0);
  if (n < BLOCKS_FROM && !options.target) return scoped;
  const partition = blockPartitioner(graph, options);
  if (covered >= n / 2) {
    const index = new Map(graph.nodes.map((node, i) => [node.name, i]));
    const groups = scoped.flatMap((g) => {
      if (g.members.length <= 4 * partition.target) return [g];
      const start = index.get(g.members[0])!;
      return partition.run(start, start + g.members.length, `${g.id}@`, `${g.scope} `);
    });
    return groups.length > MAX_GROUPS ? mergeRuns(graph, groups, index, Math.ceil(groups.length / TARGET_GROUPS)) : groups;
  }
  return partition.run(0, n, `${GROUP_PREFIX}@`, '');
}

/** Repeated blocks and chunks over the whole node order (what findGroups uses for a model without name scopes). */
export function findBlockGroups(graph: ModelGraph, options: Partial<BlockOptions> = {}): ScopeGroup[] {
  return blockPartitioner(graph, options).run(0, graph.nodes.length, `${GROUP_PREFIX}@`, '');
}

/**
 * live[i] = how many tensors cross the boundary before node i (produced before it or a graph
 * input, read at or after it, or a graph output). Weights and tensors nothing produces do not count.
 */
export function liveTensors(graph: ModelGraph): Int32Array {
  const n = graph.nodes.length;
  const weights = new Set(graph.weights.map((w) => w.name));
  const produced = new Map<string, number>();
  for (const input of graph.inputs) if (!weights.has(input.name)) produced.set(input.name, -1);
  graph.nodes.forEach((node, i) => {
    for (const t of node.outputs) if (t && !produced.has(t)) produced.set(t, i);
  });
  const lastUse = new Map<string, number>();
  graph.nodes.forEach((node, i) => {
    for (const t of node.inputs) if (t && produced.has(t) && (produced.get(t)! < i)) lastUse.set(t, i);
  });
  for (const output of graph.outputs) if (produced.has(output.name)) lastUse.set(output.name, n);
  // Tensor t crosses boundaries produced(t) + 1 .. lastUse(t).
  const delta = new Int32Array(n + 2);
  for (const [t, last] of lastUse) {
    delta[produced.get(t)! + 1]++;
    delta[last + 1]--;
  }
  const live = new Int32Array(n + 1);
  let running = 0;
  for (let i = 0; i <= n; i++) live[i] = running += delta[i];
  return live;
}

function blockPartitioner(graph: ModelGraph, options: Partial<BlockOptions>) {
  const n = graph.nodes.length;
  const target = Math.max(1, options.target ?? defaultTarget(n));
  const maxPeriod = options.maxPeriod ?? 8;
  const minSize = options.minSize ?? 3;
  const live = liveTensors(graph);
  const ops = graph.nodes.map((node) => node.opType);

  function run(start: number, end: number, idPrefix: string, titlePrefix: string): ScopeGroup[] {
    // Cut where the fewest tensors cross (one, in a chain or a residual stream).
    let least = Infinity;
    for (let i = start + 1; i < end; i++) least = Math.min(least, live[i]);
    const cuts = [start];
    for (let i = start + 1; i < end; i++) if (live[i] <= Math.max(1, least)) cuts.push(i);
    cuts.push(end);
    // Segments between cuts, each with an interned signature (its op types).
    const segStart: number[] = [];
    const segEnd: number[] = [];
    const sig: number[] = [];
    const interned = new Map<string, number>();
    for (let k = 0; k + 1 < cuts.length; k++) {
      const key = ops.slice(cuts[k], cuts[k + 1]).join('\u0000');
      let id = interned.get(key);
      if (id === undefined) interned.set(key, (id = interned.size));
      segStart.push(cuts[k]);
      segEnd.push(cuts[k + 1]);
      sig.push(id);
    }
    const segments = sig.length;
    const same = (a: number, b: number, p: number) => {
      for (let j = 0; j < p; j++) if (sig[a + j] !== sig[b + j]) return false;
      return true;
    };

    const groups: ScopeGroup[] = [];
    const emit = (from: number, to: number, title: string, pattern?: string) => {
      if (to - from < minSize) return;
      groups.push({
        id: `${idPrefix}${groups.length + 1}`, scope: `${titlePrefix}${title}`, kind: pattern ? 'block' : 'chunk',
        members: graph.nodes.slice(from, to).map((node) => node.name), ...(pattern ? { pattern } : {}),
      });
    };
    const span = (from: number, to: number) => (to - from === 1 ? ops[from] : `${ops[from]}…${ops[to - 1]}`);
    // Layers that repeat nothing: chunks of about `target` layers, cut at segment ends where there are some.
    let pending = -1;
    const flush = (to: number) => {
      if (pending < 0) return;
      let from = pending;
      pending = -1;
      while (from < to) {
        let cut = Math.min(to, from + target);
        if (cut < to) {
          // The last cut at or before from + target that leaves at least half a chunk, if any.
          let best = -1;
          for (const c of cuts) if (c > from + target / 2 && c <= from + target) best = c;
          if (best > 0) cut = best;
        }
        if (to - cut < minSize) cut = to;
        emit(from, cut, span(from, cut));
        from = cut;
      }
    };

    let s = 0;
    while (s < segments) {
      let period = 0;
      for (let p = 1; p <= maxPeriod && s + 2 * p <= segments; p++) {
        if (same(s, s + p, p)) {
          period = p;
          break;
        }
      }
      if (period === 0) {
        if (pending < 0) pending = segStart[s];
        s++;
        continue;
      }
      let repeats = 2;
      while (s + (repeats + 1) * period <= segments && same(s, s + repeats * period, period)) repeats++;
      // A run that ends part-way into one more repeat (R B R B ... R B R) is better read from its
      // second segment (B R B R ...): the head joins what precedes it (a stem's Conv Relu).
      let tail = 0;
      while (tail < period - 1 && s + repeats * period + tail < segments && sig[s + repeats * period + tail] === sig[s + tail]) tail++;
      if (tail > 0) {
        if (pending < 0) pending = segStart[s];
        s += tail;
      }
      const blockLayers = segEnd[s + period - 1] - segStart[s];
      if (blockLayers * repeats < minSize) {
        if (pending < 0) pending = segStart[s];
        s += repeats * period;
        continue;
      }
      flush(segStart[s]);
      const pattern = ops.slice(segStart[s], segEnd[s + period - 1]).join(' ');
      const title = span(segStart[s], segEnd[s + period - 1]);
      // Groups of about `target` layers, the repeats shared out evenly.
      const perGroup = Math.max(1, Math.round(target / blockLayers));
      const count = Math.ceil(repeats / perGroup);
      let done = 0;
      for (let g = 0; g < count; g++) {
        const take = Math.floor(repeats / count) + (g < repeats % count ? 1 : 0);
        const from = segStart[s + done * period];
        const to = segEnd[s + (done + take) * period - 1];
        emit(from, to, `${title} ×${take}`, pattern);
        done += take;
      }
      s += repeats * period;
    }
    flush(end);
    return groups;
  }

  return { target, run };
}
