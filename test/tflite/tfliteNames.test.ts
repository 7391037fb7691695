import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { exportTable } from '../../src/core/export/tables';
import { formatQTable, parseQTable } from '../../src/core/io/qtable';
import { readFlatModel } from '../../src/core/io/tflite/flatModel';
import { withPrecision, type QTable } from '../../src/core/model/QTable';
import { entriesOnOperators, qtableLayer } from '../../src/core/quant/layerInfo';
import { effectivePrecision } from '../../src/core/quant/schemes';
import { withUnits } from '../../src/core/search/SearchSession';
import { quantUnits } from '../../src/core/search/scoring/units';
import { Workbench } from '../../src/core/Workbench';
import { tfliteToCircle } from './flatbufferFixtures';

const CORPUS = new URL('../../../shared/corpus/tflite/', import.meta.url).pathname;
const present = existsSync(CORPUS);

/**
 * Issue 14: every layer name in the QTable and in the exported ONE configuration exists in the
 * original file, read back from it. A converted model has nodes of its own (a fused activation, the
 * Transposes NHWC needs, an LSTM's unrolled steps, an SVDF's parts); the QTable addresses only the
 * file's operators (LayerInfo.operator), so every way a QTable is made must come out in those names.
 */
const FILES: readonly (readonly [string, (bytes: Uint8Array) => Uint8Array])[] = [
  ['keras_mobilenetv2_035_96_float.tflite', (b) => b],
  ['micro_speech_quantized.tflite', (b) => b],
  ['keyword_scrambled.tflite', (b) => b],
  ['trained_lstm.circle', (b) => tfliteToCircle(b)],
];

/** The names an operator of the file goes by in ONE and LiteRT: the tensors the operators write. */
function operatorNames(bytes: Uint8Array, file: string): Set<string> {
  const model = readFlatModel(bytes, file);
  return new Set(model.operators.flatMap((op) => op.outputs.map((t) => model.tensors[t].name)));
}

describe.skipIf(!present)('a converted model\'s QTable names the file\'s operators only', () => {
  it.each(FILES)('%s', async (file, make) => {
    const bytes = make(new Uint8Array(readFileSync(CORPUS + file.replace(/\.circle$/, '.tflite'))));
    const names = operatorNames(bytes, file);
    const bench = await Workbench.open(ortNodeEngine(1), bytes, file);
    const added = [...bench.layers.values()].filter((l) => l.operator);
    expect(added.length, 'the conversion added nodes to some operator').toBeGreaterThan(0);
    const allIn = (table: QTable, what: string) => {
      expect(table.layers.size, what).toBeGreaterThan(0);
      for (const layer of table.layers.keys()) expect(names.has(layer), `${file} ${what}: ${layer}`).toBe(true);
    };

    // The page's edits: every quantizable node set through its QTable entry, as the qtable slice does.
    let edited: QTable = { defaultPrecision: 'INT8', layers: new Map() };
    for (const layer of bench.layers.values()) if (layer.quantizable) edited = withPrecision(edited, qtableLayer(layer), 'INT16');
    allIn(edited, 'every layer edited');
    // ...and each node then runs at its operator's precision.
    for (const layer of bench.layers.values()) if (layer.quantizable) expect(effectivePrecision(layer, edited, bench.scheme)).toBe('INT16');

    // A search's tables: units hold an operator's nodes together and write its entry.
    const units = quantUnits(bench.graph, bench.layers);
    for (const layer of added.filter((l) => l.quantizable)) {
      const unit = units.find((u) => u.layers.includes(layer.name));
      expect(unit?.layers, `${file}: ${layer.name} is in its operator's unit`).toContain(layer.operator);
    }
    const searched = withUnits({ defaultPrecision: 'INT8', layers: new Map() }, units, 'FP32');
    allIn(searched, 'all units FP32');

    // The exported qtable, read back; a qtable naming a converted node imports onto its operator.
    allIn(parseQTable(formatQTable(searched), 'm.qtable', bench.graph.nodes).table, 'exported qtable');
    const byNode: QTable = { defaultPrecision: 'INT8', layers: new Map(added.map((l) => [l.name, 'FP16'])) };
    const imported = entriesOnOperators(parseQTable(formatQTable(byNode), 'm.qtable', bench.graph.nodes).table, bench.layers);
    allIn(imported, 'imported qtable naming converted nodes');
    for (const layer of added) if (layer.quantizable) expect(effectivePrecision(layer, imported, bench.scheme)).toBe('FP16');

    // ONE's configuration and the AI Edge Quantizer recipe of the same table.
    const source = { model: bench.model, graph: bench.graph, caliTable: { entries: new Map() } };
    const config = JSON.parse(exportTable('one_config', source, edited, null).text) as { layers: { name?: string; names?: string[] }[] };
    const configNames = config.layers.flatMap((l) => [...(l.name ? [l.name] : []), ...(l.names ?? [])]);
    expect(configNames.length).toBeGreaterThan(0);
    for (const name of configNames) expect(names.has(name), `${file} ONE config: ${name}`).toBe(true);
    const recipe = JSON.parse(exportTable('ai_edge_recipe', source, searched, null).text) as { regex: string }[];
    for (const entry of recipe.slice(1)) expect([...names].filter((n) => new RegExp(entry.regex).test(n)), `${file}: ${entry.regex}`).toHaveLength(1);
  }, 120_000);
});
