import type { LayerName } from '../core/model/ModelGraph';

/** Where a multi-selection stands: what is selected, where a Shift-click range starts, and the rows in their shown order. */
export interface SelectionState {
  readonly selection: readonly LayerName[];
  readonly anchor: LayerName | null;
  /** The rows as shown (sorted, filtered): a range runs over these. */
  readonly order: readonly LayerName[];
}

export interface SelectionChange {
  readonly selection: readonly LayerName[];
  /** The layer the inspector shows. */
  readonly primary: LayerName | null;
  readonly anchor: LayerName | null;
}

/**
 * A click on `name` with the usual list conventions: plain selects it alone; Ctrl/Cmd toggles it;
 * Shift selects the range from the anchor (the last plain or Ctrl click) to it, added to the
 * selection when Ctrl is held too. The anchor stays put over Shift-clicks so ranges can be redrawn.
 * @example nextSelection({ selection: ['a'], anchor: 'a', order: ['a', 'b', 'c'] }, 'c', { range: true, toggle: false }).selection // ['a', 'b', 'c']
 */
export function nextSelection(state: SelectionState, name: LayerName, keys: { readonly range: boolean; readonly toggle: boolean }): SelectionChange {
  if (keys.range && state.anchor !== null) {
    const from = state.order.indexOf(state.anchor);
    const to = state.order.indexOf(name);
    if (from >= 0 && to >= 0) {
      const range = state.order.slice(Math.min(from, to), Math.max(from, to) + 1);
      const selection = keys.toggle ? [...new Set([...state.selection, ...range])] : range;
      return { selection, primary: name, anchor: state.anchor };
    }
  }
  if (keys.toggle) {
    const has = state.selection.includes(name);
    const selection = has ? state.selection.filter((l) => l !== name) : [...state.selection, name];
    return { selection, primary: has ? selection[selection.length - 1] ?? null : name, anchor: name };
  }
  return { selection: [name], primary: name, anchor: name };
}

/**
 * A click on a graph node: plain selects it alone; Shift adds it; Ctrl/Cmd toggles it (the graph
 * has no row order, so there is no range). A click on the background with a key held keeps the
 * selection (it is a missed node more often than a wish to clear it).
 */
export function graphSelection(selection: readonly LayerName[], layer: LayerName | null, keys: { readonly toggle: boolean; readonly add: boolean } | undefined): { readonly selection: readonly LayerName[]; readonly primary: LayerName | null } {
  if (layer === null) return { selection: [], primary: null };
  if (keys?.toggle && selection.includes(layer)) {
    const rest = selection.filter((l) => l !== layer);
    return { selection: rest, primary: rest[rest.length - 1] ?? null };
  }
  if (keys?.toggle || keys?.add) return { selection: selection.includes(layer) ? selection : [...selection, layer], primary: layer };
  return { selection: [layer], primary: layer };
}
