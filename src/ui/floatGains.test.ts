import { describe, expect, it } from 'vitest';
import type { FloatGain } from '../core/model/Evaluation';
import { ALL_INT8, qtableToData, withPrecision } from '../core/model/QTable';
import type { UnitSensitivity } from '../core/search/scoring/sensitivity';
import { floatGains, formatTaskGain, taskGainText } from './floatGains';

const unit = (layers: string[], loss: number): UnitSensitivity => {
  const best = { method: 'max' as const, score: 1 - loss, loss, sqnr: 30 };
  return { head: layers[0], layers, position: 0, perMethod: [best], best };
};
const measured = (layer: string, qtable = ALL_INT8, gain = 2.6e-5): FloatGain => ({
  layer, qtable: qtableToData(qtable), precision: 'INT8', before: { cos: 0.9, sqnr: 10, mse: 1 }, after: { cos: 0.9 + gain, sqnr: 10, mse: 1 }, gain,
});

describe('float gains on the page', () => {
  const ranking = [unit(['conv', 'relu'], 0.01), unit(['pool'], 0.002)];

  it('a ranking in rescaled cosine estimates 1 - cos (twice its loss) for the layers the QTable keeps integer', () => {
    const gains = floatGains([], () => true, withPrecision(ALL_INT8, 'pool', 'FP32'), ranking, 'rescaled_cos');
    expect(gains.get('conv')).toEqual({ gain: 0.02, source: 'ranking' });
    expect(gains.get('relu')?.gain).toBe(0.02);
    expect(gains.has('pool')).toBe(false); // already float: nothing to gain
    expect(floatGains([], () => true, ALL_INT8, ranking, 'cos').get('pool')?.gain).toBe(0.002);
  });

  it('a ranking in another metric gives no estimate; a measured gain counts for its QTable only, and only while valid', () => {
    expect(floatGains([], () => true, ALL_INT8, ranking, 'sqnr').size).toBe(0);
    const gains = floatGains([measured('pool')], () => true, ALL_INT8, ranking, 'cos');
    expect(gains.get('pool')).toMatchObject({ gain: 2.6e-5, source: 'measured', cos: { before: 0.9, after: 0.9 + 2.6e-5 } });
    expect(floatGains([measured('pool')], () => true, withPrecision(ALL_INT8, 'conv', 'FP32'), [], undefined).size).toBe(0);
    expect(floatGains([measured('pool')], () => false, ALL_INT8, [], undefined).size).toBe(0);
  });

  it('a measured gain brings its task figure, shown in the task\'s words', () => {
    const task = { output: 'logits', task: 'classifier' as const, before: 0.92, after: 0.97 };
    const gains = floatGains([{ ...measured('fc'), task }], () => true, ALL_INT8, ranking, 'cos');
    expect(gains.get('fc')?.task).toEqual(task);
    expect(floatGains([measured('fc')], () => true, ALL_INT8, [], undefined).get('fc')?.task).toBeUndefined();
    expect(formatTaskGain(task)).toBe('97.0 % (+5.0)');
    expect(formatTaskGain({ ...task, after: 0.9 })).toBe('90.0 % (−2.0)');
    expect(formatTaskGain(undefined)).toBe('—');
    expect(taskGainText(task)).toBe('top-1 agreement 92.0 % now, 97.0 % with this layer alone at FP32');
  });
});
