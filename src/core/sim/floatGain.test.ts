import { describe, expect, it } from 'vitest';
import type { Evaluation } from '../model/Evaluation';
import type { TaskFigures } from '../metrics/taskMetrics';
import { ALL_INT8, precisionOf, qtableToData, type QTable } from '../model/QTable';
import { measureFloatGain } from './floatGain';

const classifier = (top1: number): TaskFigures => ({ task: 'classifier', values: { top1, top5: 1 } });
const evaluation = (qtable: QTable, cos: number, tasks?: Record<string, TaskFigures>): Evaluation => ({
  qtable: qtableToData(qtable), output: { cos, sqnr: 20, mse: 0.01 }, perOutput: {}, layers: [], sampleCount: 4, elapsedMs: 1, opset: 13, ...(tasks ? { tasks } : {}),
});

describe('measureFloatGain', () => {
  it('carries the header\'s task figure (the worst task output\'s) now and with the layer at FP32, from the same two evaluations', async () => {
    let runs = 0;
    // the layer at FP32 lifts the logits' top-1 from 92 % to 97 %, while output aux falls to 90 % (the header's worst after the edit)
    const evaluate = async (qtable: QTable) => {
      runs++;
      return precisionOf(qtable, 'fc') === 'FP32'
        ? evaluation(qtable, 0.99, { logits: classifier(0.97), aux: classifier(0.9) })
        : evaluation(qtable, 0.98, { logits: classifier(0.92), aux: classifier(0.95) });
    };
    const gain = await measureFloatGain(evaluate, ALL_INT8, 'fc', 'INT8');
    expect(runs).toBe(2); // no inference beyond the two evaluations the cosine gain needs
    expect(gain.gain).toBeCloseTo(0.01, 12);
    expect(gain.task).toEqual({ output: 'logits', task: 'classifier', before: 0.92, after: 0.9 });
  });

  it('without a task output there is no task figure; a layer already at FP32 gains nothing in one evaluation', async () => {
    expect((await measureFloatGain(async (q) => evaluation(q, 0.98), ALL_INT8, 'fc', 'INT8')).task).toBeUndefined();
    let runs = 0;
    const gain = await measureFloatGain(async (q) => (runs++, evaluation(q, 0.98, { logits: classifier(0.92) })), ALL_INT8, 'fc', 'FP32');
    expect(runs).toBe(1);
    expect(gain.task).toEqual({ output: 'logits', task: 'classifier', before: 0.92, after: 0.92 });
  });
});
