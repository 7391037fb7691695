import type { StateCreator } from 'zustand';
import type { AppState } from '../store';
import type { ModelGraph } from '../../core/model/ModelGraph';
import { qtableFromData, qtableToData, type QTable, type QTableData } from '../../core/model/QTable';

/** How many models' QTables are remembered (the oldest goes first). */
const MAX_SAVED_MODELS = 20;

/**
 * QTable edits survive a reload (the one slice that persists, store.ts): kept per model (file name,
 * size and layer count identify it) and offered back when the same model is opened again.
 */
export interface SavedSlice {
  savedQTables: Record<string, QTableData>;
  /** Remembers a model's QTable (an empty one forgets it). */
  saveQTable: (graph: ModelGraph, qtable: QTable) => void;
  /**
   * The saved QTable of this model, with the saved layers it no longer has left out and named in
   * `missing` (said to the user, never dropped in silence); null when nothing was saved.
   */
  savedQTable: (graph: ModelGraph) => { readonly qtable: QTable; readonly missing: readonly string[] } | null;
}

export function savedQTableKey(graph: ModelGraph): string {
  return `${graph.fileName}:${graph.sizeBytes}:${graph.nodes.length}`;
}

export const createSavedSlice: StateCreator<AppState, [], [], SavedSlice> = (set, get) => ({
  savedQTables: {},
  saveQTable: (graph, qtable) =>
    set((s) => {
      const key = savedQTableKey(graph);
      const { [key]: _previous, ...others } = s.savedQTables;
      if (qtable.layers.size === 0) return { savedQTables: others };
      const kept = Object.entries(others).slice(-(MAX_SAVED_MODELS - 1));
      return { savedQTables: { ...Object.fromEntries(kept), [key]: qtableToData(qtable) } };
    }),
  savedQTable: (graph) => {
    const data = get().savedQTables[savedQTableKey(graph)];
    if (!data || !Array.isArray(data.layers)) return null;
    const names = new Set(graph.nodes.map((n) => n.name));
    const missing = data.layers.filter(([layer]) => !names.has(layer)).map(([layer]) => layer);
    const kept = data.layers.filter(([layer]) => names.has(layer));
    return kept.length || missing.length ? { qtable: qtableFromData({ ...data, layers: kept }), missing } : null;
  },
});
