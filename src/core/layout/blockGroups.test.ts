import { describe, expect, it } from 'vitest';
import { syntheticGraph } from '../../../test/support/bigGraph';
import type { GraphNode, ModelGraph } from '../model/ModelGraph';
import { findBlockGroups, findGroups, liveTensors } from './blockGroups';
import { layoutGraph } from './layoutGraph';
import { collapseGroups } from './scopeGroups';

const graphOf = (nodes: GraphNode[], output: string): ModelGraph => ({
  fileName: 't.onnx', format: 'onnx', opset: 13, producer: '', nodes, weights: [{ name: 'w', dtype: 'float32', dims: [1] }], sizeBytes: 0,
  inputs: [{ name: 'x', dtype: 'float32', dims: [1] }], outputs: [{ name: output, dtype: 'float32', dims: [1] }],
});

/** A stem (Conv Relu) and `blocks` residual blocks (Conv Relu Conv Add Relu), names without scopes. */
function residual(blocks: number, namer = (i: number, op: string) => `${op}_${i}`): ModelGraph {
  const nodes: GraphNode[] = [];
  let k = 0;
  const add = (op: string, inputs: string[]) => {
    const name = namer(k++, op);
    nodes.push({ name, opType: op, domain: '', inputs, outputs: [`${name}:0`], attributes: {} });
    return `${name}:0`;
  };
  let x = add('Relu', [add('Conv', ['x', 'w'])]);
  for (let b = 0; b < blocks; b++) {
    const y = add('Conv', [add('Relu', [add('Conv', [x, 'w'])]), 'w']);
    x = add('Relu', [add('Add', [x, y])]);
  }
  return graphOf(nodes, x);
}

describe('block groups', () => {
  it('counts the tensors crossing each boundary of the order, weights left out', () => {
    const g = residual(1);
    // x | Conv | Relu | Conv (x live) | Relu | Conv | Add | Relu | (output)
    expect([...liveTensors(g)]).toEqual([1, 1, 1, 2, 2, 2, 1, 1]);
  });

  it('finds repeated residual blocks, aligned to whole blocks, the stem left as it is', () => {
    const g = residual(20);
    const groups = findBlockGroups(g, { target: 10 });
    expect(groups).toHaveLength(10);
    for (const group of groups) {
      expect(group.kind).toBe('block');
      expect(group.members).toHaveLength(10);
      expect(group.scope).toBe('Conv…Relu ×2');
      expect(group.pattern).toBe('Conv Relu Conv Add Relu');
    }
    expect(groups[0].members[0]).toBe('Conv_2'); // after the stem's Conv_0, Relu_1
    expect(groups.map((x) => x.id)).toEqual(Array.from({ length: 10 }, (_, i) => `group:@${i + 1}`));
  });

  it('shares the repeats out evenly and groups a plain chain by its repeating pair', () => {
    const groups = findBlockGroups(residual(7), { target: 10 });
    expect(groups.map((x) => x.members.length)).toEqual([10, 10, 10, 5]);
    const chain: GraphNode[] = [];
    let t = 'x';
    for (let i = 0; i < 24; i++) {
      const op = i % 2 ? 'Relu' : 'Conv';
      chain.push({ name: `n${i}`, opType: op, domain: '', inputs: [t], outputs: [`t${i}`], attributes: {} });
      t = `t${i}`;
    }
    const pairs = findBlockGroups(graphOf(chain, t), { target: 8 });
    expect(pairs.map((x) => [x.scope, x.members.length])).toEqual([['Conv…Relu ×4', 8], ['Conv…Relu ×4', 8], ['Conv…Relu ×4', 8]]);
  });

  it('falls back to chunks of the order where nothing repeats', () => {
    const nodes: GraphNode[] = [];
    let t = 'x';
    for (let i = 0; i < 25; i++) {
      nodes.push({ name: `n${i}`, opType: `Op${i}`, domain: '', inputs: [t], outputs: [`t${i}`], attributes: {} });
      t = `t${i}`;
    }
    const groups = findBlockGroups(graphOf(nodes, t), { target: 10 });
    expect(groups.map((x) => [x.kind, x.scope, x.members.length])).toEqual([['chunk', 'Op0…Op9', 10], ['chunk', 'Op10…Op19', 10], ['chunk', 'Op20…Op24', 5]]);
  });

  it('keeps usable name scopes, and uses blocks for a big model without them', () => {
    const scoped = residual(200, (i, op) => `/block${Math.floor((i + 3) / 5)}/${op}_${i}`);
    expect(findGroups(scoped).every((g) => g.kind === undefined)).toBe(true);
    const plain = residual(200);
    expect(findGroups(plain).every((g) => g.kind === 'block')).toBe(true);
    expect(findGroups(residual(20))).toEqual([]); // small: drawn as it is
    // One scope over everything is no use as a box: it is cut into blocks of its own.
    const one = residual(400, (i, op) => `/model/${op}_${i}`);
    const groups = findGroups(one);
    expect(groups.length).toBeGreaterThan(10);
    expect(groups[0].id).toBe('group:/model@1');
    expect(groups[0].scope).toBe('/model Conv…Relu ×2');
  });

  it('a 10,000-node model collapses to a few hundred boxes, contiguous and disjoint, that lay out', () => {
    const graph = residual(2000);
    const groups = findGroups(graph);
    expect(groups.length).toBeGreaterThan(100);
    expect(groups.length).toBeLessThan(400);
    const order = new Map(graph.nodes.map((n, i) => [n.name, i]));
    const seen = new Set<string>();
    for (const g of groups) {
      const first = order.get(g.members[0])!;
      g.members.forEach((m, k) => expect(order.get(m)).toBe(first + k));
      for (const m of g.members) {
        expect(seen.has(m)).toBe(false);
        seen.add(m);
      }
    }
    const collapsed = collapseGroups(graph, groups, new Set(groups.map((g) => g.id)));
    expect(collapsed.nodes.length).toBeLessThan(400);
    const layout = layoutGraph(collapsed);
    expect(layout.nodes.filter((n) => n.kind === 'layer')).toHaveLength(collapsed.nodes.length);
  });

  it('groups a graph with branches and scattered scopes (syntheticGraph) without overlap', () => {
    const graph = syntheticGraph(3000, 2);
    const groups = findBlockGroups(graph);
    const members = groups.flatMap((g) => g.members);
    expect(new Set(members).size).toBe(members.length);
    expect(members.length).toBeGreaterThan(2500);
  });
});

describe('many name scopes', () => {
  it('merges runs of consecutive scopes into about 250 boxes above 500 scopes', () => {
    const graph = residual(2000, (i, op) => `/block${Math.floor((i + 3) / 5)}/${op}_${i}`);
    const groups = findGroups(graph);
    expect(groups.length).toBeGreaterThan(200);
    expect(groups.length).toBeLessThanOrEqual(260);
    expect(groups[0]).toEqual(expect.objectContaining({ id: 'group:/block1+8', scope: '/block1 … /block8', kind: 'scopes' }));
    expect(groups[0].members).toHaveLength(40);
    const fewer = residual(300, (i, op) => `/block${Math.floor((i + 3) / 5)}/${op}_${i}`);
    expect(findGroups(fewer).every((g) => g.kind === undefined)).toBe(true);
  });
});
