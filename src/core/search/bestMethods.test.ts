import { describe, expect, it } from 'vitest';
import { bestMethodOverrides } from './bestMethods';
import type { MethodScore, UnitSensitivity } from './scoring/sensitivity';

const score = (method: MethodScore['method'], loss: number): MethodScore => ({ method, score: 1 - loss, loss, sqnr: 0 });
const unit = (layers: string[], best: MethodScore): UnitSensitivity => ({ head: layers[0], layers, position: 0, perMethod: [best], best });

describe('bestMethodOverrides', () => {
  it("each unit's last layer's float outputs take its best method; units without outputs add nothing", () => {
    const layers = new Map([
      ['conv', { floatOutputs: ['conv_out'] }],
      ['relu', { floatOutputs: ['relu_out'] }],
      ['split', { floatOutputs: ['a', 'b'] }],
      ['shape', { floatOutputs: [] }],
    ]);
    const ranking = [unit(['conv', 'relu'], score('kl', 0.1)), unit(['split'], score('percentile9999', 0.01)), unit(['shape'], score('max', 0))];
    expect(bestMethodOverrides(ranking, layers)).toEqual([['relu_out', { method: 'kl' }], ['a', { method: 'percentile9999' }], ['b', { method: 'percentile9999' }]]);
  });
});
