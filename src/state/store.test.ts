import { beforeEach, describe, expect, it } from 'vitest';
import type { ModelGraph } from '../core/model/ModelGraph';
import { ALL_INT8 } from '../core/model/QTable';
import type { ModelSummary } from '../../workers/client';
import { isRunning } from './slices/jobs';
import { useApp } from './store';

/** A model summary with two layers (what the worker's openModel returns, cut to what the slices read). */
function summary(fileName = 'm.onnx', layers = ['conv1', 'conv2']): ModelSummary {
  const graph = { fileName, format: 'onnx', opset: 13, producer: 't', inputs: [], outputs: [], weights: [], sizeBytes: 100, nodes: layers.map((name) => ({ name, opType: 'Conv', inputs: [], outputs: [name], attributes: {} })) } as unknown as ModelGraph;
  return { graph, layers: [], findings: { notes: [], nothingToQuantize: null } as unknown as ModelSummary['findings'], dequantized: false, engine: 'test', openMs: 1 };
}

const app = () => useApp.getState();

function open(model: ModelSummary): void {
  useApp.setState({ openedGraph: model.graph });
  app().modelOpened(model);
}

beforeEach(() => {
  useApp.setState({ savedQTables: {}, jobs: {}, messages: [] });
  open(summary());
});

/** Issue #10: the store's slices, each a small state machine of its own. */
describe('the store slices', () => {
  it('qtable: an edit goes on the undo list, a no-op edit does not, undo and redo walk it', () => {
    app().setPrecision('conv1', 'INT16');
    app().setPrecision('conv1', 'INT16');
    expect(app().past).toHaveLength(1);
    app().setPrecision('conv2', 'FP32');
    app().undo();
    expect([...app().qtable.layers]).toEqual([['conv1', 'INT16']]);
    app().redo();
    expect(app().qtable.layers.get('conv2')).toBe('FP32');
  });

  it('saved: every edit is remembered per model and offered back on the next open; opening does not erase it', () => {
    app().setPrecision('conv2', 'FP16');
    open(summary());
    expect(app().qtable).toBe(ALL_INT8); // opening resets the QTable without an edit...
    expect([...app().savedQTable(summary().graph)!.qtable.layers]).toEqual([['conv2', 'FP16']]); // ...and the saved one stays
    // a saved layer the model no longer has is left out and named, never dropped in silence with the rest
    const partial = app().savedQTable(summary('m.onnx', ['conv1', 'other']).graph)!;
    expect([...partial.qtable.layers]).toEqual([]);
    expect(partial.missing).toEqual(['conv2']);
    // undoing to an empty QTable forgets it
    app().setPrecision('conv1', 'INT16');
    app().undo();
    expect(app().savedQTable(summary().graph)).toBeNull();
  });

  it('jobs: ids are unique, a job is found by its kind (data, not its label), and leaves when it ends', () => {
    const a = app().jobStarted('evaluate:layers', 'Evaluating every layer');
    const b = app().jobStarted('calibrate', 'Calibrating (kl)');
    expect(a).not.toBe(b);
    expect(isRunning(app().jobs, 'evaluate:layers')).toBe(true);
    app().jobProgressed(a, { stage: 'evaluating layers', done: 1, total: 4 });
    expect(app().jobs[a].progress?.done).toBe(1);
    app().jobEnded(a);
    expect(isRunning(app().jobs, 'evaluate:layers')).toBe(false);
    expect(Object.keys(app().jobs)).toEqual([b]);
  });

  it('search: results appended in place are counted by the revision; a new model starts a new list', () => {
    const visited = app().visited;
    visited.push({ label: 'x' } as never);
    useApp.setState((s) => ({ visitedRevision: s.visitedRevision + 1 }));
    expect(app().visitedRevision).toBe(1);
    open(summary('other.onnx'));
    expect(app().visited).not.toBe(visited);
    expect(app().visited).toHaveLength(0);
    expect(app().visitedRevision).toBe(0);
  });

  it('ui: the same message is not shown twice; errors stay until dismissed', () => {
    app().notify('error', 'bad file');
    app().notify('error', 'bad file');
    expect(app().messages).toHaveLength(1);
    app().dismiss(app().messages[0].id);
    expect(app().messages).toHaveLength(0);
  });
});
