import type { ModelGraph } from '../core/model/ModelGraph';
import { qtableFromData, qtableToData, type QTable, type QTableData } from '../core/quant/QTable';

/**
 * QTable edits survive a reload: they are kept in localStorage per model (file name, size and layer
 * count identify it) and offered back when the same model is opened again.
 */
function key(graph: ModelGraph): string {
  return `qbench.qtable:${graph.fileName}:${graph.sizeBytes}:${graph.nodes.length}`;
}

export function saveQTable(graph: ModelGraph, qtable: QTable): void {
  try {
    if (qtable.layers.size === 0) localStorage.removeItem(key(graph));
    else localStorage.setItem(key(graph), JSON.stringify(qtableToData(qtable)));
  } catch {
    // storage full or disabled: the session still works, it just is not remembered
  }
}

/** The saved QTable of this model, if every layer it names is still in the model. */
export function restoreQTable(graph: ModelGraph): QTable | null {
  try {
    const text = localStorage.getItem(key(graph));
    if (!text) return null;
    const data = JSON.parse(text) as QTableData;
    const names = new Set(graph.nodes.map((n) => n.name));
    if (!Array.isArray(data.layers) || !data.layers.every(([layer]) => names.has(layer))) return null;
    return qtableFromData(data);
  } catch {
    return null;
  }
}
