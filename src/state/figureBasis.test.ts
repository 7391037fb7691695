import { describe, expect, it } from 'vitest';
import { ALL_INT8, qtableToData, withPrecision } from '../core/model/QTable';
import { appliedOverrides, configurationNote, isCurrentConfiguration, type FigureBasis } from './figureBasis';

const basis = (overrides: FigureBasis['overrides'], settings = 's'): FigureBasis => ({ overrides, settings });
const table = withPrecision(ALL_INT8, 'conv', 'FP32');

/** Issue #11: applying a configuration a search scored gives the figure it was scored with. */
describe('figure basis of a scored configuration', () => {
  it('applying it puts back the overrides it was scored with; one scored with a whole method table sets that method everywhere', () => {
    const now = basis([['t1', { method: 'max' }]]);
    const scored = basis([['t1', { method: 'kl' }]]);
    expect(appliedOverrides({}, scored, now, ['t1', 't2'])).toBe(scored.overrides);
    expect(appliedOverrides({}, undefined, now, ['t1', 't2'])).toBe(now.overrides);
    expect(appliedOverrides({ method: 'mse' }, scored, now, ['t1', 't2'])).toEqual([['t1', { method: 'mse' }], ['t2', { method: 'mse' }]]);
  });

  it('says what applying involves, and marks a figure whose settings no edit can put back', () => {
    const now = basis([['t1', { method: 'max' }]]);
    expect(configurationNote({}, basis([['t1', { method: 'max' }]]), now)).toBeNull();
    expect(configurationNote({}, basis([['t1', { method: 'kl' }], ['t2', { threshold: 1 }]]), now)).toEqual({ text: 'Scored with other per-tensor methods: applying it puts them back (2 tensors; Undo goes back).', stale: false });
    expect(configurationNote({ method: 'mse' }, basis([]), now)?.text).toBe('Scored with every tensor at mse: applying it sets that method on every tensor (Undo goes back).');
    expect(configurationNote({}, basis([], 'other'), now)?.stale).toBe(true);
  });

  it('is the current configuration when both its QTable and the overrides applying it sets are in force', () => {
    const now = basis([['t1', { method: 'kl' }]]);
    const c = { qtable: qtableToData(table) };
    expect(isCurrentConfiguration(c, basis([['t1', { method: 'kl' }]]), now, table, ['t1'])).toBe(true);
    expect(isCurrentConfiguration(c, basis([]), now, table, ['t1'])).toBe(false);
    expect(isCurrentConfiguration(c, basis([['t1', { method: 'kl' }]]), now, ALL_INT8, ['t1'])).toBe(false);
    expect(isCurrentConfiguration({ ...c, method: 'kl' }, basis([]), now, table, ['t1'])).toBe(true);
  });
});
