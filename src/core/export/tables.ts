import { QbenchError } from '../errors';
import { boltClipTable, formatBoltClip } from '../io/boltClip';
import { formatCaliTable } from '../io/caliTable';
import { formatModelExplorerNodeData, modelExplorerNodeData } from '../io/modelExplorer';
import { formatOneConfig } from '../io/oneConfig';
import { writeRecordMinmax } from '../io/recordMinmax';
import { formatVisq } from '../io/visq';
import { flatbufferOrigins, formatAiEdgeRecipe, oneConfigLayers } from './flatbufferExports';
import { inputRole } from '../quant/inputRoles';
import type { QTable } from '../model/QTable';
import type { Evaluation } from '../model/Evaluation';
import type { CaliTable } from '../model/CaliTable';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import type { ModelGraph } from '../model/ModelGraph';

/** Every table qbench writes besides the qtable and the QDQ model (docs/formats.md "Outputs"). */
export type TableKind = 'cali_table' | 'one_config' | 'visq' | 'bolt' | 'model_explorer' | 'ai_edge_recipe' | 'record_minmax';

export interface ExportedTable {
  readonly fileName: string;
  /** The table's text; '' for a binary file (`bytes`). */
  readonly text: string;
  /** A binary file's bytes (record-minmax's .circle), else absent. */
  readonly bytes?: Uint8Array;
  /** What the file could not say (e.g. float layers in ONE's config), for the user to read. */
  readonly warnings: string[];
}

/** What the tables are written from: the model, its graph and the cali table in force. */
export interface TableSource {
  readonly model: OnnxModel;
  readonly graph: ModelGraph;
  readonly caliTable: CaliTable;
  /** The .tflite/.circle the model was converted from, as opened (record-minmax's .circle is written from it). */
  readonly sourceFile?: { readonly bytes: Uint8Array; readonly fileName: string } | null;
}

function base(source: TableSource): string {
  return source.graph.fileName.replace(/\.(onnx|tflite|circle)$/i, '');
}

function requireLayers(evaluation: Evaluation | null, what: string): Evaluation {
  if (!evaluation || evaluation.layers.length === 0) throw new QbenchError(`${what} needs per-layer errors: wait for the evaluation of every layer to finish`);
  return evaluation;
}

/** Writes one table of a model's current state. */
export function exportTable(kind: TableKind, source: TableSource, qtable: QTable, evaluation: Evaluation | null): ExportedTable {
  const name = base(source);
  switch (kind) {
    case 'cali_table': {
      const table = source.caliTable;
      return { fileName: `${name}_cali_table`, text: formatCaliTable(table, { nodes: source.graph.nodes }), warnings: [] };
    }
    case 'one_config': {
      // A model converted from a .circle/.tflite names the file's operators (docs/tflite.md).
      const layers = oneConfigLayers(qtable, source.graph.nodes, source.model.proto);
      const { text, notRepresentable } = formatOneConfig(layers.qtable, { nodes: layers.nodes, modelPath: source.graph.fileName });
      const warnings = notRepresentable.length
        ? [`ONE's layer configuration has no float types: ${notRepresentable.length} layer${notRepresentable.length === 1 ? '' : 's'} (${notRepresentable.slice(0, 3).map((l) => `${l.layer} ${l.precision}`).join(', ')}${notRepresentable.length > 3 ? ', …' : ''}) will get the default dtype.`]
        : [];
      return { fileName: `${name}.one_config.json`, text, warnings };
    }
    case 'visq': {
      const { text, skippedTensors } = formatVisq(requireLayers(evaluation, 'The visq error map').layers, { metric: 'MSE', model: source.graph.fileName });
      return { fileName: `${name}.visq.json`, text, warnings: skippedTensors.length ? [`visq: ${skippedTensors.length} tensors without a finite error were left out.`] : [] };
    }
    case 'bolt': {
      const weightClips = new Map<string, number>();
      for (const node of source.graph.nodes) {
        node.inputs.forEach((tensor, k) => {
          if (!tensor || !source.model.isInitializer(tensor) || inputRole(node.opType, k, true) !== 'weight') return;
          const data = source.model.weight(tensor).data as Float32Array;
          let max = 0;
          for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(data[i]));
          weightClips.set(tensor, max);
        });
      }
      const { table, skipped } = boltClipTable({ graph: source.graph, caliTable: source.caliTable, weightClips, qtable });
      return { fileName: `${name}.bolt_clip.json`, text: formatBoltClip(table), warnings: skipped.length ? [`Bolt: ${skipped.length} clip values left out (${skipped[0].layer}: ${skipped[0].reason}).`] : [] };
    }
    case 'ai_edge_recipe': {
      const origins = flatbufferOrigins(source.model.proto);
      if (!origins) throw new QbenchError('An AI Edge Quantizer recipe names the operators of a .tflite: open the .tflite itself (this model was not converted from one)');
      return { fileName: `${name}.recipe.json`, text: formatAiEdgeRecipe(qtable, source.graph.nodes, origins), warnings: [] };
    }
    case 'record_minmax': {
      // ONE's record-minmax output: the .circle with each float activation's quantization.min/max (docs/formats.md).
      if (!source.sourceFile || !flatbufferOrigins(source.model.proto)) throw new QbenchError('record-minmax\'s min/max are written into a .circle: open the .circle or the .tflite itself (this model was not converted from one)');
      const written = writeRecordMinmax(source.sourceFile.bytes, source.sourceFile.fileName, source.caliTable.entries);
      const warnings = written.missing.length
        ? [`record-minmax: ${written.missing.length} float activation${written.missing.length === 1 ? ' has' : 's have'} no calibrated range and no min/max (${written.missing.slice(0, 3).join(', ')}${written.missing.length > 3 ? ', …' : ''}); circle-quantizer leaves ${written.missing.length === 1 ? 'it' : 'them'} float.`]
        : [];
      return { fileName: `${name}.minmax.circle`, text: '', bytes: written.bytes, warnings };
    }
    case 'model_explorer': {
      const { data, skippedLayers } = modelExplorerNodeData(requireLayers(evaluation, 'The Model Explorer node data').layers, { metric: 'cos' });
      return { fileName: `${name}.model_explorer.json`, text: formatModelExplorerNodeData(data), warnings: skippedLayers.length ? [`Model Explorer: ${skippedLayers.length} layers without a finite value were left out.`] : [] };
    }
  }
}
