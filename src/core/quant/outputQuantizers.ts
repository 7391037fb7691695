import type { CaliEntry } from '../model/CaliTable';
import type { LayerName, ModelGraph } from '../model/ModelGraph';
import type { QTable } from '../model/QTable';
import type { OutputQuantizer } from '../metrics/collapseWarnings';
import type { LayerInfo } from './layerInfo';
import { activationQParams, effectivePrecision, type TargetScheme } from './schemes';

/**
 * The 8-bit quantizer each graph output goes through under a QTable: its producer's layer and the
 * step (scale) its calibrated range gives. A step larger than everything an output (or a part of
 * it) holds rounds it to a constant: the collapse warnings say so before any cosine does.
 */
export function outputQuantizers(graph: ModelGraph, layers: ReadonlyMap<LayerName, LayerInfo>, qtable: QTable, cali: ReadonlyMap<string, CaliEntry>, scheme: TargetScheme): Record<string, OutputQuantizer> {
  const producer = new Map(graph.nodes.filter((n) => !n.scope).flatMap((n) => n.outputs.map((o) => [o, n.name] as const)));
  const quantizers: Record<string, OutputQuantizer> = {};
  for (const { name: output } of graph.outputs) {
    const layer = producer.get(output);
    const entry = cali.get(output);
    if (!layer || !entry) continue;
    const precision = effectivePrecision(layers.get(layer), qtable, scheme);
    if (precision !== 'INT8' && precision !== 'UINT8') continue;
    const { scale } = activationQParams(entry, precision, scheme);
    if (scale > 0) quantizers[output] = { layer, step: scale };
  }
  return quantizers;
}
