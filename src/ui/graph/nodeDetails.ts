import { inputNodeId, outputNodeId } from '../../core/layout/GraphLayout';
import type { LayerError, LocalErrors } from '../../core/model/Evaluation';
import type { LayerName, ModelGraph, ValueDesc } from '../../core/model/ModelGraph';
import type { QTable } from '../../core/model/QTable';
import { layerPrecision, type LayerInfo } from '../../core/quant/layerInfo';
import { formatGain, type GainView } from '../floatGains';
import { formatMetric } from '../format';
import type { NodeDetails } from './GraphTooltip';

export interface NodeFigures {
  readonly graph: ModelGraph;
  readonly info: ReadonlyMap<LayerName, LayerInfo>;
  readonly qtable: QTable;
  readonly errors: ReadonlyMap<LayerName, LayerError>;
  readonly local: LocalErrors;
  readonly gains: ReadonlyMap<LayerName, GainView>;
}

const shapeOf = (v: ValueDesc) => v.dims?.map((d, i) => d ?? v.dimNames?.[i] ?? '?').join('×') ?? 'shape unknown';

/**
 * The tooltip of a graph node: a layer's precision and the figures the table shows for it (cos,
 * local cos, SQNR, MSE, float gain), or a graph input's or output's shape.
 */
export function describeNode(id: string, f: NodeFigures): NodeDetails | null {
  const input = f.graph.inputs.find((v) => inputNodeId(v.name) === id);
  if (input) return { title: input.name, subtitle: `graph input · ${shapeOf(input)}`, rows: [] };
  const output = f.graph.outputs.find((v) => outputNodeId(v.name) === id);
  if (output) return { title: output.name, subtitle: `graph output · ${shapeOf(output)}`, rows: [] };
  const info = f.info.get(id);
  if (!info) return null;
  const e = f.errors.get(id);
  const rows: [string, string][] = [['Precision', info.quantizable ? layerPrecision(f.qtable, info) : 'runs as in the model']];
  if (e) {
    rows.push(['Cosine', formatMetric('cos', e.cos)], ['SQNR', formatMetric('sqnr', e.sqnr)], ['MSE', formatMetric('mse', e.mse)]);
  }
  if (f.local[id]) rows.push(['Local cos', formatMetric('local', f.local[id].cos)]);
  const gain = f.gains.get(id);
  if (gain) rows.push(['Float gain', formatGain(gain)]);
  return { title: id, subtitle: info.opType, rows };
}
