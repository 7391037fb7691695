import { describe, expect, it } from 'vitest';
import { graphSelection, nextSelection } from './tableSelection';

const order = ['a', 'b', 'c', 'd', 'e'];

describe('multi-select in the layer table and the graph', () => {
  it('plain click selects one; Ctrl toggles; Shift selects the range from the anchor in the shown order', () => {
    let state = { selection: [] as readonly string[], anchor: null as string | null, order };
    const click = (name: string, keys: { range?: boolean; toggle?: boolean } = {}) => {
      const next = nextSelection(state, name, { range: !!keys.range, toggle: !!keys.toggle });
      state = { ...state, selection: next.selection, anchor: next.anchor };
      return next;
    };
    expect(click('b').selection).toEqual(['b']);
    expect(click('d', { range: true })).toEqual({ selection: ['b', 'c', 'd'], primary: 'd', anchor: 'b' });
    expect(click('a', { range: true }).selection).toEqual(['a', 'b']);
    expect(click('e', { toggle: true }).selection).toEqual(['a', 'b', 'e']);
    expect(click('a', { toggle: true })).toEqual({ selection: ['b', 'e'], primary: 'e', anchor: 'a' });
    expect(click('c', { range: true, toggle: true }).selection).toEqual(['b', 'e', 'a', 'c']);
  });

  it('the graph: Shift adds, Ctrl toggles, a plain click or the background selects one or none', () => {
    expect(graphSelection(['a'], 'b', { toggle: false, add: true })).toEqual({ selection: ['a', 'b'], primary: 'b' });
    expect(graphSelection(['a', 'b'], 'a', { toggle: true, add: false })).toEqual({ selection: ['b'], primary: 'b' });
    expect(graphSelection(['a', 'b'], 'c', undefined)).toEqual({ selection: ['c'], primary: 'c' });
    expect(graphSelection(['a', 'b'], null, undefined)).toEqual({ selection: [], primary: null });
  });
});
