import type { StateCreator } from 'zustand';
import type { AppState } from '../store';
import type { LayerName } from '../../core/model/ModelGraph';
import { ALL_INT8, withPrecision, type Precision, type QTable } from '../../core/model/QTable';

/** The current QTable with undo and redo (every edit is kept; nothing is lost on a failed evaluation). */
export interface QTableSlice {
  qtable: QTable;
  past: QTable[];
  future: QTable[];
  setPrecision: (layer: LayerName, precision: Precision) => void;
  replaceQTable: (qtable: QTable) => void;
  undo: () => void;
  redo: () => void;
}

/**
 * Every QTable edit of an open model is remembered for the next visit (slices/saved.ts), under the
 * graph as read from the file (also while BN folding shows another). Opening a model resets the
 * QTable without an edit, so that reset never erases what was saved.
 */
function remember(get: () => AppState): void {
  const { openedGraph, model, qtable, saveQTable } = get();
  if (model && openedGraph) saveQTable(openedGraph, qtable);
}

export const createQTableSlice: StateCreator<AppState, [], [], QTableSlice> = (set, get) => {
  /** An edit: the new QTable, the old one onto the undo list, and remembered. */
  const edit = (change: (s: AppState) => Partial<QTableSlice>) => {
    const before = get().qtable;
    set(change);
    if (get().qtable !== before) remember(get);
  };
  return {
    qtable: ALL_INT8,
    past: [],
    future: [],
    setPrecision: (layer, precision) =>
      edit((s) => {
        const next = withPrecision(s.qtable, layer, precision);
        return next === s.qtable ? {} : { qtable: next, past: [...s.past, s.qtable], future: [] };
      }),
    replaceQTable: (qtable) => edit((s) => ({ qtable, past: [...s.past, s.qtable], future: [] })),
    undo: () => edit((s) => (s.past.length ? { qtable: s.past[s.past.length - 1], past: s.past.slice(0, -1), future: [s.qtable, ...s.future] } : {})),
    redo: () => edit((s) => (s.future.length ? { qtable: s.future[0], future: s.future.slice(1), past: [...s.past, s.qtable] } : {})),
  };
};
