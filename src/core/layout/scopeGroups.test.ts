import { describe, expect, it } from 'vitest';
import { syntheticGraph } from '../../../test/support/bigGraph';
import type { GraphNode, ModelGraph } from '../model/ModelGraph';
import { layoutGraph } from './layoutGraph';
import { collapseGroups, findScopeGroups, topScope } from './scopeGroups';

const node = (name: string, inputs: string[], outputs: string[]): GraphNode => ({ name, opType: 'Relu', domain: '', inputs, outputs, attributes: {} });
const graphOf = (nodes: GraphNode[], output: string): ModelGraph => ({
  fileName: 't.onnx', format: 'onnx', opset: 13, producer: '', nodes, weights: [], sizeBytes: 0,
  inputs: [{ name: 'x', dtype: 'float32', dims: [1] }], outputs: [{ name: output, dtype: 'float32', dims: [1] }],
});

describe('scope groups', () => {
  it('takes the first segment of a path-like name, else nothing', () => {
    expect(topScope({ name: '/model.22/cv2/conv/Conv' })).toBe('/model.22');
    expect(topScope({ name: 'p2o.Conv.17' })).toBeNull();
    expect(topScope({ name: '/Conv' })).toBeNull();
    expect(topScope({ name: 'Relu_3', scope: 'If_0/then_branch' })).toBe('If_0');
  });

  it('groups runs of one scope, taking in unscoped nodes between members, and collapses them to one node', () => {
    const g = graphOf([
      node('/a/r1', ['x'], ['t1']), node('t1_Relu', ['t1'], ['t2']), node('/a/r2', ['t2'], ['t3']),
      node('/b/r1', ['t3'], ['t4']), node('/b/r2', ['t4', 't1'], ['t5']), node('/b/r3', ['t5'], ['y']),
    ], 'y');
    const groups = findScopeGroups(g, 3);
    expect(groups.map((x) => [x.id, x.members.length])).toEqual([['group:/a', 3], ['group:/b', 3]]);
    const collapsed = collapseGroups(g, groups, new Set(['group:/b']));
    expect(collapsed.nodes.map((n) => n.name)).toEqual(['/a/r1', 't1_Relu', '/a/r2', 'group:/b']);
    expect(collapsed.nodes[3]).toEqual(expect.objectContaining({ inputs: ['t3', 't1'], outputs: ['y'] }));
  });

  it('a 10,000-node model collapses to a few hundred boxes that lay out', () => {
    const graph = syntheticGraph(10_000, 1);
    const groups = findScopeGroups(graph);
    const collapsed = collapseGroups(graph, groups, new Set(groups.map((g) => g.id)));
    expect(collapsed.nodes.length).toBeLessThan(2000);
    const layout = layoutGraph(collapsed);
    expect(layout.nodes.filter((n) => n.kind === 'layer')).toHaveLength(collapsed.nodes.length);
  });
});
