import type { LayerName } from './ModelGraph';

/** docs/architecture.md glossary. INT8 activations are uint8 or int8 as the target scheme says. */
export type Precision = 'INT4' | 'INT8' | 'UINT8' | 'INT16' | 'FP16' | 'BF16' | 'FP32';

export const PRECISIONS: readonly Precision[] = ['INT4', 'INT8', 'UINT8', 'INT16', 'FP16', 'BF16', 'FP32'];

/** The precisions a user can set on a layer in the workbench today. */
export const EDITABLE_PRECISIONS: readonly Precision[] = ['INT8', 'INT16', 'FP16', 'FP32'];

export function isIntegerPrecision(p: Precision): boolean {
  return p === 'INT4' || p === 'INT8' || p === 'UINT8' || p === 'INT16';
}

/** layer -> precision; layers not listed take `defaultPrecision`. */
export interface QTable {
  readonly defaultPrecision: Precision;
  readonly layers: ReadonlyMap<LayerName, Precision>;
}

export const ALL_INT8: QTable = { defaultPrecision: 'INT8', layers: new Map() };

export function precisionOf(table: QTable, layer: LayerName): Precision {
  return table.layers.get(layer) ?? table.defaultPrecision;
}

/** A QTable with one layer set (setting it to the default removes the entry); the same table when nothing changes. */
export function withPrecision(table: QTable, layer: LayerName, precision: Precision): QTable {
  // The same table when nothing changes: the page's undo list and re-evaluation key on identity.
  if ((table.layers.get(layer) ?? table.defaultPrecision) === precision) return table;
  const layers = new Map(table.layers);
  if (precision === table.defaultPrecision) layers.delete(layer);
  else layers.set(layer, precision);
  return { defaultPrecision: table.defaultPrecision, layers };
}

/** Plain form for structured clone, JSON and the project file. */
export interface QTableData {
  readonly defaultPrecision: Precision;
  readonly layers: readonly (readonly [LayerName, Precision])[];
}

export function qtableToData(table: QTable): QTableData {
  return { defaultPrecision: table.defaultPrecision, layers: [...table.layers] };
}

export function qtableFromData(data: QTableData): QTable {
  return { defaultPrecision: data.defaultPrecision, layers: new Map(data.layers) };
}

export function sameQTable(a: QTable, b: QTable): boolean {
  if (a.defaultPrecision !== b.defaultPrecision || a.layers.size !== b.layers.size) return false;
  for (const [layer, p] of a.layers) if (b.layers.get(layer) !== p) return false;
  return true;
}
