import { FormatError } from '../errors';
import type { GraphNode, LayerName } from '../model/ModelGraph';
import type { Precision, QTable } from '../model/QTable';
import { naturalCompare } from '../naturalSort';

/**
 * TPU-MLIR quantize table (docs/formats.md): `#` comments, one `<op_name> <mode>` per line, modes
 * F32, F16, BF16, INT8 (and our INT16, INT4, UINT8, which TPU-MLIR's newer versions spell W4INT8
 * for int4 weights). Layers not listed keep the default precision (INT8).
 */
const MODE_TO_PRECISION: Record<string, Precision> = {
  F32: 'FP32', FP32: 'FP32', F16: 'FP16', FP16: 'FP16', BF16: 'BF16',
  INT8: 'INT8', UINT8: 'UINT8', INT16: 'INT16', INT4: 'INT4', W4INT8: 'INT4',
};

const PRECISION_TO_MODE: Record<Precision, string> = {
  FP32: 'F32', FP16: 'F16', BF16: 'BF16', INT8: 'INT8', UINT8: 'UINT8', INT16: 'INT16', INT4: 'INT4',
};

export interface QTableHeader {
  readonly sampleCount?: number;
  readonly generatedAt?: Date;
}

/**
 * @example formatQTable({defaultPrecision:'INT8', layers:new Map([['conv1_Conv','FP16']])})
 * // "# genetated time: ...\n# ...\n###\n# op_name   quantize_mode\nconv1_Conv F16\n"
 */
export function formatQTable(table: QTable, header: QTableHeader = {}): string {
  // natural order (Add.9 before Add.10): the same list reads the same in every export
  const rows = [...table.layers].filter(([, p]) => p !== table.defaultPrecision).sort(([a], [b]) => naturalCompare(a, b));
  const floatCount = (mode: string) => rows.filter(([, p]) => PRECISION_TO_MODE[p] === mode).length;
  const time = (header.generatedAt ?? new Date()).toISOString().replace('T', ' ').slice(0, 19);
  const lines = [
    // TPU-MLIR's own header spells "genetated"; kept so diffs against its files stay quiet.
    `# genetated time: ${time}`,
    ...(header.sampleCount !== undefined ? [`# sample number: ${header.sampleCount}`] : []),
    `# number of F16 layer: ${floatCount('F16')}`,
    `# number of F32 layer: ${floatCount('F32')}`,
    `# default precision: ${PRECISION_TO_MODE[table.defaultPrecision]} (qbench)`,
    '###',
    '# op_name   quantize_mode',
    ...rows.map(([layer, p]) => `${layer} ${PRECISION_TO_MODE[p]}`),
  ];
  return lines.join('\n') + '\n';
}

export interface ParsedQTable {
  readonly table: QTable;
  /** Lines naming layers the model does not have, kept to tell the user. */
  readonly unknownLayers: readonly string[];
}

/**
 * Parses a qtable. With `nodes`, names are resolved against the model: a node's name, or
 * TPU-MLIR's `<output>_<OpType>` op name, or an output tensor name; unknown names are reported.
 */
export function parseQTable(text: string, fileName: string, nodes?: readonly GraphNode[]): ParsedQTable {
  const resolve = nodes ? layerResolver(nodes) : (name: string) => name;
  const layers = new Map<LayerName, Precision>();
  const unknownLayers: string[] = [];
  let defaultPrecision: Precision = 'INT8';
  text.split(/\r?\n/).forEach((line, index) => {
    const defaultMatch = /^#\s*default precision:\s*(\S+)/i.exec(line);
    if (defaultMatch && MODE_TO_PRECISION[defaultMatch[1].toUpperCase()]) defaultPrecision = MODE_TO_PRECISION[defaultMatch[1].toUpperCase()];
    const content = line.replace(/#.*/, '').trim();
    if (!content) return;
    const fields = content.split(/\s+/);
    if (fields.length !== 2) {
      throw new FormatError(fileName, `line ${index + 1}: expected "<op_name> <quantize_mode>", found "${content}"`);
    }
    const [name, mode] = fields;
    const precision = MODE_TO_PRECISION[mode.toUpperCase()];
    if (!precision) {
      throw new FormatError(fileName, `line ${index + 1}: unknown quantize mode "${mode}" for ${name} (expected one of F32, F16, BF16, INT8, INT16, INT4)`);
    }
    const layer = resolve(name);
    if (layer === undefined) unknownLayers.push(name);
    else layers.set(layer, precision);
  });
  return { table: { defaultPrecision, layers }, unknownLayers };
}

function layerResolver(nodes: readonly GraphNode[]): (name: string) => LayerName | undefined {
  const aliases = new Map<string, LayerName>();
  for (const node of nodes) {
    for (const output of node.outputs) {
      if (!output) continue;
      if (!aliases.has(`${output}_${node.opType}`)) aliases.set(`${output}_${node.opType}`, node.name);
      if (!aliases.has(output)) aliases.set(output, node.name);
    }
  }
  for (const node of nodes) aliases.set(node.name, node.name); // a node's own name wins
  return (name) => aliases.get(name);
}
