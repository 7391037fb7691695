import type { LayerName } from '../model/ModelGraph';
import { precisionOf, qtableFromData, type Precision } from '../model/QTable';
import { naturalCompare } from '../naturalSort';
import type { VisitedConfiguration } from './SearchSession';

/**
 * The configurations on the Pareto front of output cosine against weight bytes: those that no other
 * configuration beats on both (at most as large and more accurate). Ids, smallest first.
 * @example paretoFront([{ id: 1, weightBytes: 10, outputCos: 0.9 }, { id: 2, weightBytes: 20, outputCos: 0.8 }]) // Set {1}
 */
export function paretoFront(points: readonly Pick<VisitedConfiguration, 'id' | 'weightBytes' | 'outputCos'>[]): Set<number> {
  const sorted = [...points].sort((a, b) => a.weightBytes - b.weightBytes || b.outputCos - a.outputCos);
  const front = new Set<number>();
  let best = -Infinity;
  for (const p of sorted) {
    if (p.outputCos > best) {
      front.add(p.id);
      best = p.outputCos;
    }
  }
  return front;
}

/** A row of the list under the Pareto chart: one configuration, what it sets and whether it is on the front. */
export interface ConfigurationRow {
  /** The configuration itself: a row applies this, never whatever sits at its index elsewhere. */
  readonly configuration: VisitedConfiguration;
  /** Layers at FP32, FP16 or BF16. */
  readonly floatLayers: number;
  readonly int16Layers: number;
  readonly onFront: boolean;
}

const FLOAT: ReadonlySet<Precision> = new Set(['FP32', 'FP16', 'BF16']);

/**
 * The configurations as the list under the Pareto chart shows them: smallest first, then the more
 * accurate, then by label in natural order (step 9 before step 10), then the first scored, so nearly
 * equal sizes sit side by side in a stable order. Layer
 * counts are over `layers` (the model's quantizable layers), so a default of FP32 counts every
 * layer it leaves float.
 * @example configurationRows([{ id: 1, weightBytes: 10, outputCos: 0.9, qtable: { defaultPrecision: 'INT8', layers: [['a', 'FP32']] }, … }], ['a', 'b'])
 * // [{ configuration: { id: 1, … }, floatLayers: 1, int16Layers: 0, onFront: true }]
 */
export function configurationRows(points: readonly VisitedConfiguration[], layers: readonly LayerName[]): ConfigurationRow[] {
  const front = paretoFront(points);
  return points
    .map((configuration, order) => {
      const qtable = qtableFromData(configuration.qtable);
      const names = layers.length ? layers : [...qtable.layers.keys()];
      let floatLayers = 0;
      let int16Layers = 0;
      for (const layer of names) {
        const precision = precisionOf(qtable, layer);
        if (FLOAT.has(precision)) floatLayers++;
        else if (precision === 'INT16') int16Layers++;
      }
      return { row: { configuration, floatLayers, int16Layers, onFront: front.has(configuration.id) }, order };
    })
    .sort((a, b) => a.row.configuration.weightBytes - b.row.configuration.weightBytes || b.row.configuration.outputCos - a.row.configuration.outputCos || naturalCompare(a.row.configuration.label, b.row.configuration.label) || a.order - b.order)
    .map(({ row }) => row);
}
