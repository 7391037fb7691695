import type { LayerName } from '../model/ModelGraph';
import { precisionOf, type Precision, type QTable } from '../model/QTable';
import type { SearchKind, SearchResult, VisitedConfiguration } from './SearchSession';

/** How each search is named in the page and the CLI (the toolchains' own names in brackets). */
export const SEARCH_LABEL: Record<SearchKind, string> = {
  sensitive: 'Sensitive layers (run_sensitive_layer)',
  qtable: 'search_qtable',
  run_qtable: 'run_qtable',
  bisection: 'Bisection (ONE mpqsolver)',
  fp_forward: 'fp_forward',
  pattern: 'Pattern match (TPU-MLIR)',
  pattern_resolver: 'Pattern resolver (ONE)',
};

/** The CLI's names: `qbench search <name>`. */
export const SEARCH_CLI_NAME: Record<SearchKind, string> = {
  sensitive: 'sensitive', qtable: 'qtable', run_qtable: 'run_qtable', bisection: 'bisection', fp_forward: 'fp_forward', pattern: 'pattern', pattern_resolver: 'pattern_resolver',
};

/** A layer whose precision differs between two QTables. */
export interface QTableChange {
  readonly layer: LayerName;
  readonly from: Precision;
  readonly to: Precision;
}

/**
 * The layers two QTables set differently: among `layers` (the model's quantizable layers), or, without
 * them, among the layers either QTable names (enough when both have the same default).
 */
export function diffQTables(from: QTable, to: QTable, layers: Iterable<LayerName> = new Set([...from.layers.keys(), ...to.layers.keys()])): QTableChange[] {
  const changes: QTableChange[] = [];
  for (const layer of layers) {
    const a = precisionOf(from, layer);
    const b = precisionOf(to, layer);
    if (a !== b) changes.push({ layer, from: a, to: b });
  }
  return changes;
}

/**
 * The configuration a search answered with: the visited one that is its QTable, scored with the
 * table in use (a configuration scored with one method's whole table may share its QTable).
 */
export function resultConfiguration(result: Pick<SearchResult, 'qtable' | 'visited'>): VisitedConfiguration | null {
  const key = JSON.stringify(result.qtable);
  const same = result.visited.filter((v) => JSON.stringify(v.qtable) === key);
  return same.find((v) => v.method === undefined) ?? same[0] ?? null;
}

/** The output cosine of a search's resulting QTable: the visited configuration that is that QTable. */
export function resultOutputCos(result: Pick<SearchResult, 'qtable' | 'visited'>): number | null {
  return resultConfiguration(result)?.outputCos ?? null;
}
