import { beforeEach, describe, expect, it } from 'vitest';
import type { ModelGraph } from '../core/model/ModelGraph';
import { ALL_INT8 } from '../core/model/QTable';
import { NO_OVERRIDES } from '../core/calib/overrideList';
import type { ModelSummary } from '../../workers/client';
import { useApp } from './store';

const app = () => useApp.getState();

function open(): void {
  const graph = { fileName: 'm.onnx', format: 'onnx', opset: 13, producer: 't', inputs: [], outputs: [], weights: [], sizeBytes: 100, nodes: [] } as unknown as ModelGraph;
  useApp.setState({ openedGraph: graph, savedQTables: {} });
  app().modelOpened({ graph, layers: [], findings: { notes: [], nothingToQuantize: null }, dequantized: false, engine: 'test', openMs: 1 } as unknown as ModelSummary);
}

beforeEach(open);

/** Issue #11: an edit of the per-tensor overrides (best methods, a Pareto point, reset) is one step of Undo, overrides and all. */
describe('the undo list holds the QTable and the per-tensor overrides', () => {
  it('one edit of both is one step: Undo restores both exactly, Redo both again', () => {
    app().setPrecision('conv1', 'INT16');
    const before = { qtable: app().qtable, overrides: app().tensorOverrides };
    const best = [['a', { method: 'kl' }], ['b', { method: 'kl' }]] as const;
    const table = { defaultPrecision: 'INT8' as const, layers: new Map([['conv2', 'FP32' as const]]) };
    app().applyEdit({ qtable: table, overrides: best });
    expect(app().past).toHaveLength(2);
    app().undo();
    expect(app().qtable).toBe(before.qtable);
    expect(app().tensorOverrides).toBe(before.overrides);
    app().redo();
    expect(app().qtable).toBe(table);
    expect(app().tensorOverrides).toBe(best);
  });

  it('an overrides-only edit leaves the QTable and is undone alone; edits around it keep their own overrides', () => {
    app().applyEdit({ overrides: [['a', { threshold: 2 }]] });
    app().setPrecision('conv1', 'FP32');
    app().applyEdit({ overrides: NO_OVERRIDES }); // reset every override
    expect(app().tensorOverrides).toEqual([]);
    app().undo();
    expect(app().tensorOverrides).toEqual([['a', { threshold: 2 }]]);
    expect(app().qtable.layers.get('conv1')).toBe('FP32');
    app().undo();
    expect(app().tensorOverrides).toEqual([['a', { threshold: 2 }]]);
    expect(app().qtable.layers.size).toBe(0);
    app().undo();
    expect(app().tensorOverrides).toBe(NO_OVERRIDES);
    expect(app().past).toHaveLength(0);
  });

  it('an edit that changes nothing (the same overrides in another order, the same QTable) is no step', () => {
    app().applyEdit({ overrides: [['a', { method: 'kl' }], ['b', { threshold: 1 }]] });
    app().applyEdit({ overrides: [['b', { threshold: 1 }], ['a', { method: 'kl' }]], qtable: ALL_INT8 });
    expect(app().past).toHaveLength(1);
  });

  it('opening a model starts with no override and no history', () => {
    app().applyEdit({ overrides: [['a', { method: 'kl' }]] });
    open();
    expect(app().tensorOverrides).toBe(NO_OVERRIDES);
    expect(app().past).toHaveLength(0);
  });
});

/** Issue #13: a rule change or a bulk precision edit is one step of Undo, rules and QTable together. */
describe('the undo list holds the rules too', () => {
  it('a rules edit and a bulk edit are one step each; Undo restores the rules with their QTable', () => {
    const rules = [{ kind: 'op', value: 'Conv', precision: 'FP32' }] as const;
    const byRules = { defaultPrecision: 'INT8' as const, layers: new Map([['conv1', 'FP32' as const], ['conv2', 'FP32' as const]]) };
    app().applyEdit({ rules, qtable: byRules });
    const bulk = { defaultPrecision: 'INT8' as const, layers: new Map([['conv1', 'FP32' as const], ['conv2', 'FP32' as const], ['a', 'INT16' as const], ['b', 'INT16' as const]]) };
    app().applyEdit({ qtable: bulk });
    expect(app().past).toHaveLength(2);
    app().undo();
    expect(app().qtable).toBe(byRules);
    expect(app().rules).toBe(rules);
    app().undo();
    expect(app().qtable).toBe(ALL_INT8);
    expect(app().rules).toEqual([]);
    app().redo();
    expect(app().rules).toBe(rules);
  });
});
