import { describe, expect, it } from 'vitest';
import { bestMethodOverrides, measuredBest, rankedMethods, withBestMethods } from './bestMethods';
import type { MethodScore, UnitSensitivity } from './scoring/sensitivity';

const score = (method: MethodScore['method'], loss: number): MethodScore => ({ method, score: 1 - loss, loss, sqnr: 0 });
const unit = (layers: string[], best: MethodScore, perMethod: MethodScore[] = [best]): UnitSensitivity => ({ head: layers[0], layers, position: 0, perMethod, best });

const layers = new Map([
  ['conv', { floatOutputs: ['conv_out'] }],
  ['relu', { floatOutputs: ['relu_out'] }],
  ['split', { floatOutputs: ['a', 'b'] }],
  ['shape', { floatOutputs: [] }],
  ['other', { floatOutputs: ['other_out'] }],
]);

describe('bestMethodOverrides', () => {
  it("each unit's last layer's float outputs take its best method; units without outputs add nothing", () => {
    const ranking = [unit(['conv', 'relu'], score('kl', 0.1)), unit(['split'], score('percentile9999', 0.01)), unit(['shape'], score('max', 0))];
    expect(bestMethodOverrides(ranking, layers)).toEqual([['relu_out', { method: 'kl' }], ['a', { method: 'percentile9999' }], ['b', { method: 'percentile9999' }]]);
  });

  it('the method applied is the least loss the ranking measured for the unit (first measured on a tie), whatever `best` says', () => {
    const measured = [score('max', 0.2), score('kl', 0.05), score('mse', 0.05)];
    expect(measuredBest(unit(['conv'], score('max', 0.2), measured)).method).toBe('kl');
    expect(bestMethodOverrides([unit(['conv'], score('max', 0.2), measured)], layers)).toEqual([['conv_out', { method: 'kl' }]]);
  });
});

/** Issue #11: "use each layer's best method" applies exactly what the ranking measured, nothing else. */
describe('withBestMethods', () => {
  it('sets the measured method on the ranked outputs only: every other override stays as it was, and so does every tensor without one', () => {
    const current = [['other_out', { threshold: 3 }], ['relu_out', { threshold: 1 }]] as const;
    const ranking = [unit(['conv', 'relu'], score('kl', 0.1), [score('max', 0.3), score('kl', 0.1)])];
    expect(new Map(withBestMethods(current, ranking, layers))).toEqual(new Map([['other_out', { threshold: 3 }], ['relu_out', { method: 'kl' }]]));
    // the list it was given is untouched (the page keeps it for Undo)
    expect(current).toEqual([['other_out', { threshold: 3 }], ['relu_out', { threshold: 1 }]]);
  });

  it('after a one-method ranking every ranked output takes that method (there was nothing to compare it with), and only those', () => {
    const ranking = [unit(['conv'], score('max', 0.4)), unit(['split'], score('max', 0.1))];
    expect(rankedMethods(ranking)).toEqual(['max']);
    expect(withBestMethods([], ranking, layers)).toEqual([['conv_out', { method: 'max' }], ['a', { method: 'max' }], ['b', { method: 'max' }]]);
  });

  it('a subset ranking (search_qtable ranks the sensitive op types) leaves the units it did not rank alone', () => {
    const ranking = [unit(['split'], score('mse', 0.1))];
    expect(withBestMethods([['conv_out', { method: 'kl' }]], ranking, layers)).toEqual([['conv_out', { method: 'kl' }], ['a', { method: 'mse' }], ['b', { method: 'mse' }]]);
  });

  it('rankedMethods lists each method once, in the order measured; nothing ranked, nothing measured', () => {
    expect(rankedMethods([unit(['conv'], score('kl', 0), [score('max', 1), score('kl', 0)]), unit(['split'], score('max', 0), [score('max', 0), score('kl', 1)])])).toEqual(['max', 'kl']);
    expect(rankedMethods([])).toEqual([]);
    expect(withBestMethods([['x', { method: 'kl' }]], [], layers)).toEqual([['x', { method: 'kl' }]]);
  });
});
