import { describe, expect, it } from 'vitest';
import type { GraphNode, ModelGraph } from '../model/ModelGraph';
import { syntheticGraph } from '../../../test/support/bigGraph';
import { layoutGraph, type GraphLayout, type LayoutNode } from './layoutGraph';
import { labelWidth, layerLabel, NODE_HEIGHT, truncateStart } from './nodeLabel';

function node(name: string, opType: string, inputs: string[], outputs: string[]): GraphNode {
  return { name, opType, domain: '', inputs, outputs, attributes: {} };
}

function model(parts: Partial<ModelGraph> & Pick<ModelGraph, 'nodes'>): ModelGraph {
  return { fileName: 'test.onnx', format: 'onnx', opset: 17, producer: 'test', inputs: [], outputs: [], weights: [], sizeBytes: 0, ...parts };
}

/** x -> conv1 -> relu1 -> add1(relu1, x) -> y, with conv weights and an IR 3 style weight listed as a graph input. */
const residual = model({
  inputs: [
    { name: 'x', dtype: 'float32', dims: [1, 8, 4, 4] },
    { name: 'conv1.weight', dtype: 'float32', dims: [8, 8, 3, 3] },
  ],
  outputs: [{ name: 'y', dtype: 'float32', dims: [1, 8, 4, 4] }],
  nodes: [
    node('conv1', 'Conv', ['x', 'conv1.weight', 'conv1.bias'], ['c']),
    node('relu1', 'Relu', ['c'], ['r']),
    node('add1', 'Add', ['r', 'x'], ['y']),
  ],
  weights: [
    { name: 'conv1.weight', dtype: 'float32', dims: [8, 8, 3, 3] },
    { name: 'conv1.bias', dtype: 'float32', dims: [8] },
  ],
});

function byId(layout: GraphLayout): Map<string, LayoutNode> {
  return new Map(layout.nodes.map((n) => [n.id, n]));
}

function edgeList(layout: GraphLayout): string[] {
  return layout.edges.map((e) => `${e.from} -[${e.tensor}]-> ${e.to}`).sort();
}

/** The invariants every layout keeps: boxes inside the drawing, no overlaps, edges downwards from box to box. */
function expectWellFormed(layout: GraphLayout): void {
  const nodes = byId(layout);
  for (const n of layout.nodes) {
    expect(Number.isFinite(n.x) && Number.isFinite(n.y), n.id).toBe(true);
    expect(n.x - n.width / 2, n.id).toBeGreaterThanOrEqual(0);
    expect(n.y - n.height / 2, n.id).toBeGreaterThanOrEqual(0);
    expect(n.x + n.width / 2, n.id).toBeLessThanOrEqual(layout.width);
    expect(n.y + n.height / 2, n.id).toBeLessThanOrEqual(layout.height);
  }
  // No two boxes overlap: sweep by top edge.
  const sorted = [...layout.nodes].sort((a, b) => a.y - a.height / 2 - (b.y - b.height / 2));
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i];
    for (let j = i + 1; j < sorted.length && sorted[j].y - sorted[j].height / 2 < a.y + a.height / 2; j++) {
      const b = sorted[j];
      const apart = Math.abs(a.x - b.x) >= (a.width + b.width) / 2;
      expect(apart, `${a.id} overlaps ${b.id}`).toBe(true);
    }
  }
  for (const e of layout.edges) {
    const from = nodes.get(e.from)!;
    const to = nodes.get(e.to)!;
    expect(from.y, `${e.from} above ${e.to}`).toBeLessThan(to.y);
    expect(e.points.length).toBeGreaterThanOrEqual(2);
    const first = e.points[0];
    const last = e.points[e.points.length - 1];
    // Leaves through the producer's bottom and enters through the consumer's top.
    expect(first.y).toBeCloseTo(from.y + from.height / 2, 6);
    expect(Math.abs(first.x - from.x)).toBeLessThanOrEqual(from.width / 2);
    expect(last.y).toBeCloseTo(to.y - to.height / 2, 6);
    expect(Math.abs(last.x - to.x)).toBeLessThanOrEqual(to.width / 2);
    for (let k = 1; k < e.points.length; k++) expect(e.points[k].y, `${e.from} -> ${e.to} goes down`).toBeGreaterThanOrEqual(e.points[k - 1].y - 0.01);
  }
}

describe('layoutGraph', () => {
  it('places every layer and every graph terminal, and no weight', () => {
    const layout = layoutGraph(residual);
    expect(layout.nodes.map((n) => `${n.kind} ${n.id}`).sort()).toEqual(['input input:x', 'layer add1', 'layer conv1', 'layer relu1', 'output output:y']);
    for (const n of layout.nodes) expect(n.height).toBe(NODE_HEIGHT);
    expect(byId(layout).get('conv1')!.width).toBe(labelWidth(layerLabel({ opType: 'Conv', name: 'conv1' })));
    expect(layout.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it('follows tensors from producer to every consumer, including the residual skip and the output', () => {
    expect(edgeList(layoutGraph(residual))).toEqual([
      'add1 -[y]-> output:y',
      'conv1 -[c]-> relu1',
      'input:x -[x]-> add1',
      'input:x -[x]-> conv1',
      'relu1 -[r]-> add1',
    ]);
  });

  it('orders layers top to bottom along every edge', () => {
    const layout = layoutGraph(residual);
    expectWellFormed(layout);
    const y = (id: string) => byId(layout).get(id)!.y;
    expect(y('input:x')).toBeLessThan(y('conv1'));
    expect(y('conv1')).toBeLessThan(y('relu1'));
    expect(y('relu1')).toBeLessThan(y('add1'));
    expect(y('add1')).toBeLessThan(y('output:y'));
  });

  it('makes no nodes or edges for weights, omitted optional inputs or tensors nothing produces', () => {
    const graph = model({
      inputs: [{ name: 'x', dtype: 'float32', dims: [4] }],
      outputs: [{ name: 'z', dtype: 'float32', dims: [4] }],
      nodes: [
        // Unnamed in the file: the reader names them `<first output>_<op type>`.
        node('a_Clip', 'Clip', ['x', '', 'max'], ['a']),
        node('z_Mul', 'Mul', ['a', 'scale', 'dangling'], ['z']),
      ],
      weights: [{ name: 'max', dtype: 'float32', dims: [] }, { name: 'scale', dtype: 'float32', dims: [] }],
    });
    const layout = layoutGraph(graph);
    expect(layout.nodes.map((n) => n.id).sort()).toEqual(['a_Clip', 'input:x', 'output:z', 'z_Mul']);
    expect(edgeList(layout)).toEqual(['a_Clip -[a]-> z_Mul', 'input:x -[x]-> a_Clip', 'z_Mul -[z]-> output:z']);
  });

  it('keeps one edge per tensor when a layer reads it twice, and one per tensor between the same pair', () => {
    const graph = model({
      inputs: [{ name: 'x', dtype: 'float32', dims: [4] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [8] }],
      nodes: [node('square', 'Mul', ['x', 'x'], ['s']), node('split', 'Split', ['s'], ['s0', 's1']), node('cat', 'Concat', ['s0', 's1'], ['y'])],
    });
    const layout = layoutGraph(graph);
    expect(edgeList(layout)).toEqual(['cat -[y]-> output:y', 'input:x -[x]-> square', 'split -[s0]-> cat', 'split -[s1]-> cat', 'square -[s]-> split']);
    expectWellFormed(layout);
  });

  it('draws a graph output that is a graph input as an edge between the terminals', () => {
    const graph = model({ inputs: [{ name: 'x', dtype: 'float32', dims: [2] }], outputs: [{ name: 'x', dtype: 'float32', dims: [2] }], nodes: [] });
    expect(edgeList(layoutGraph(graph))).toEqual(['input:x -[x]-> output:x']);
  });

  it('lays out an empty graph as an empty drawing', () => {
    const layout = layoutGraph(model({ nodes: [] }));
    expect(layout).toMatchObject({ nodes: [], edges: [], width: 0, height: 0 });
  });

  it('places a source (a Constant, a mask input) just above its first consumer, not at the top', () => {
    const graph = model({
      inputs: [{ name: 'x', dtype: 'float32', dims: [4] }, { name: 'mask', dtype: 'float32', dims: [4] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: [4] }],
      nodes: [
        node('r1', 'Relu', ['x'], ['a']),
        node('r2', 'Relu', ['a'], ['b']),
        node('r3', 'Relu', ['b'], ['c']),
        node('k', 'Constant', [], ['kc']),
        node('m', 'Mul', ['c', 'mask', 'kc'], ['y']),
      ],
    });
    const nodes = byId(layoutGraph(graph));
    expect(nodes.get('input:mask')!.y).toBeCloseTo(nodes.get('r3')!.y, 6);
    expect(nodes.get('k')!.y).toBeCloseTo(nodes.get('r3')!.y, 6);
  });

  it('survives a cycle (an invalid model) and still returns every edge', () => {
    const graph = model({
      inputs: [{ name: 'x', dtype: 'float32', dims: [4] }],
      nodes: [node('a', 'Add', ['x', 'c'], ['a']), node('b', 'Relu', ['a'], ['b']), node('c', 'Relu', ['b'], ['c'])],
    });
    const layout = layoutGraph(graph);
    expect(edgeList(layout)).toEqual(['a -[a]-> b', 'b -[b]-> c', 'c -[c]-> a', 'input:x -[x]-> a']);
    for (const e of layout.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
  });

  it('stitches deep graphs from bands: the same invariants hold across every cut', () => {
    const graph = syntheticGraph(600, 3);
    const layout = layoutGraph(graph, { maxBandRanks: 12 });
    expect(layout.nodes).toHaveLength(600 + 2);
    expectWellFormed(layout);
  });

  it('lays out a 5,000-deep chain, deeper than dagre alone can recurse', () => {
    const nodes = Array.from({ length: 5000 }, (_, i) => node(`relu${i}`, 'Relu', [i ? `t${i - 1}` : 'x'], [`t${i}`]));
    const layout = layoutGraph(model({ inputs: [{ name: 'x', dtype: 'float32', dims: [1] }], outputs: [{ name: 't4999', dtype: 'float32', dims: [1] }], nodes }));
    expect(layout.nodes).toHaveLength(5002);
    const xs = new Set(layout.nodes.map((n) => Math.round(n.x)));
    expect(xs.size).toBe(1); // bands line up: a chain stays one straight column
    console.log(`layoutGraph: 5,000-node chain in ${layout.elapsedMs.toFixed(0)} ms`);
  });

  it('lays out a 2,000-node synthetic model (time printed, not asserted)', () => {
    const graph = syntheticGraph(2000, 1);
    const layout = layoutGraph(graph);
    expect(layout.nodes.filter((n) => n.kind === 'layer')).toHaveLength(2000);
    expect(layout.edges.length).toBeGreaterThan(2000);
    expectWellFormed(layout);
    console.log(`layoutGraph: 2,000-node synthetic model (${layout.edges.length} edges) in ${layout.elapsedMs.toFixed(0)} ms; drawing ${layout.width.toFixed(0)} x ${layout.height.toFixed(0)}`);
  });
});

describe('node labels', () => {
  it('keeps the end of long layer names and bounds the box width', () => {
    expect(truncateStart('/model/layers.11/self_attn/q_proj/MatMul', 20)).toBe('…_attn/q_proj/MatMul');
    const label = layerLabel({ opType: 'MatMul', name: '/model/decoder/layers.11/self_attn/q_proj/MatMul' });
    expect(label.subtitle.length).toBe(32);
    expect(label.subtitle.startsWith('…')).toBe(true);
    expect(labelWidth(label)).toBeLessThanOrEqual(232);
  });
});

describe('syntheticGraph', () => {
  it('has exactly the node count asked for, unique names, and only tensors that exist', () => {
    for (const count of [1, 5, 37, 500]) {
      const graph = syntheticGraph(count, 7);
      expect(graph.nodes).toHaveLength(count);
      expect(new Set(graph.nodes.map((n) => n.name)).size).toBe(count);
      const known = new Set([...graph.inputs.map((i) => i.name), ...graph.weights.map((w) => w.name)]);
      for (const n of graph.nodes) {
        for (const input of n.inputs) if (input) expect(known.has(input), `${n.name} reads ${input}`).toBe(true);
        for (const output of n.outputs) known.add(output);
      }
      expect(known.has(graph.outputs[0].name)).toBe(true);
    }
  });

  it('is the same for the same seed', () => {
    expect(syntheticGraph(300, 5)).toEqual(syntheticGraph(300, 5));
  });
});
