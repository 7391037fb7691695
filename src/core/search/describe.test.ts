import { describe, expect, it } from 'vitest';
import type { Precision, QTable } from '../model/QTable';
import { diffQTables, resultConfiguration, resultOutputCos } from './describe';
import type { VisitedConfiguration } from './SearchSession';

const table = (defaultPrecision: Precision, layers: Record<string, Precision> = {}): QTable => ({ defaultPrecision, layers: new Map(Object.entries(layers)) });

describe('diffQTables', () => {
  it('same default: the layers either table names and sets differently, from then to', () => {
    const from = table('INT8', { conv1: 'FP32', conv2: 'INT16', fc: 'FP16' });
    const to = table('INT8', { conv1: 'FP32', conv2: 'FP16', relu3: 'FP32' });
    expect(diffQTables(from, to)).toEqual([
      { layer: 'conv2', from: 'INT16', to: 'FP16' },
      { layer: 'fc', from: 'FP16', to: 'INT8' },
      { layer: 'relu3', from: 'INT8', to: 'FP32' },
    ]);
  });

  it('identical tables, or a layer set to the default in one and left out of the other: no change', () => {
    expect(diffQTables(table('INT8', { a: 'FP32' }), table('INT8', { a: 'FP32' }))).toEqual([]);
    expect(diffQTables(table('INT8', { a: 'INT8' }), table('INT8'))).toEqual([]);
  });

  it('different defaults without the layer list: only the layers the tables name are compared', () => {
    const from = table('INT8', { a: 'FP32' });
    const to = table('FP32', { b: 'INT8' });
    // a is FP32 in both, b INT8 in both; c (named by neither) is missed
    expect(diffQTables(from, to)).toEqual([]);
  });

  it('different defaults with the layer list: every layer, in the order of the list', () => {
    const from = table('INT8', { a: 'FP32' });
    const to = table('FP32', { b: 'INT8' });
    expect(diffQTables(from, to, ['c', 'b', 'a', 'd'])).toEqual([
      { layer: 'c', from: 'INT8', to: 'FP32' },
      { layer: 'd', from: 'INT8', to: 'FP32' },
    ]);
    expect(diffQTables(to, from, new Set(['a', 'b', 'c']))).toEqual([{ layer: 'c', from: 'FP32', to: 'INT8' }]);
  });

  it('with the layer list, layers outside it are not reported even when they differ', () => {
    expect(diffQTables(table('INT8', { a: 'FP32', b: 'FP16' }), table('INT8'), ['b'])).toEqual([{ layer: 'b', from: 'FP16', to: 'INT8' }]);
  });
});

describe('resultConfiguration', () => {
  const v = (id: number, layers: [string, Precision][], outputCos: number, method?: 'mse'): VisitedConfiguration => ({
    id, search: 'qtable', label: `c${id}`, qtable: { defaultPrecision: 'INT8', layers }, score: outputCos, outputCos, weightBytes: 1, ...(method ? { method } : {}),
  });

  it("is the visited configuration of the result's QTable scored with the table in use, not one scored with a method's whole table", () => {
    const visited = [v(1, [['a', 'FP32']], 0.8, 'mse'), v(2, [], 0.9), v(3, [['a', 'FP32']], 0.95)];
    expect(resultConfiguration({ qtable: { defaultPrecision: 'INT8', layers: [['a', 'FP32']] }, visited })?.id).toBe(3);
    expect(resultOutputCos({ qtable: { defaultPrecision: 'INT8', layers: [['a', 'FP32']] }, visited })).toBe(0.95);
    expect(resultConfiguration({ qtable: { defaultPrecision: 'INT8', layers: [['b', 'FP32']] }, visited })).toBeNull();
  });
});
