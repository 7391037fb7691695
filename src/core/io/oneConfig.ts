import { FormatError, QbenchError } from '../errors';
import type { GraphNode, LayerName } from '../model/ModelGraph';
import type { Precision, QTable } from '../model/QTable';
import { naturalCompare } from '../naturalSort';
import { describeJson, expectArray, expectObject, isJsonObject, parseJsonText } from './jsonText';
import { firstOutput, layerResolver } from './tensorNames';

/**
 * ONE circle-quantizer layer-wise configuration (docs/formats.md), read by
 * `circle-quantizer --quantize_with_minmax float32 <dtype> <granularity> --config <file>`.
 *
 * circle-quantizer's reader (Samsung/ONE compiler/circle-quantizer/src/CircleQuantizer.cpp,
 * read_layer_params) reads only `layers`: each entry's `name` and/or every string of `names`, with
 * the entry's `dtype` and `granularity` as strings (a missing one reads as ""); `alternate` lists
 * other names for the same entry. luci (compiler/luci/pass/src/CircleQuantizer.cpp) then accepts,
 * case-insensitively, dtype uint8 | int16 and granularity layer | channel, else "Unsupported dtype in
 * <name>"; compiler/luci/pass/src/helpers/LayerInfoMap.cpp fails on a name no node has ("No such
 * layer named ...") and on a name given twice ("Duplicate layer name ..."). The model-wide dtype and
 * granularity come from the command line; `default_quantization_dtype`, `default_granularity` and
 * `model_path` are what circle-mpqsolver writes next to `layers`
 * (compiler/circle-mpqsolver/src/core/Dumper.cpp) for tools that read the file back.
 *
 * Names: luci matches `CircleNode::name()`, and a Circle node carries the name of its output tensor.
 * Given the model's nodes, the writer therefore writes each layer's first output tensor; without
 * them it writes qbench's layer names.
 *
 * Precision mapping: INT16 -> int16; INT8 and UINT8 -> uint8 (ONE's 8-bit scheme is asymmetric
 * uint8); FP32, FP16, BF16 and INT4 have no dtype here and are returned in `notRepresentable`.
 * Reading, uint8 becomes INT8 (qbench's 8-bit precision; the ONE target scheme makes it uint8).
 */

export type OneDtype = 'uint8' | 'int16';
export type OneGranularity = 'layer' | 'channel';

const DTYPES: readonly OneDtype[] = ['uint8', 'int16'];
const GRANULARITIES: readonly OneGranularity[] = ['layer', 'channel'];

export interface OneConfigOptions {
  /** Default: int16 when the table's default precision is INT16, else uint8. */
  readonly defaultDtype?: OneDtype;
  /** Default: channel (what circle-mpqsolver writes). */
  readonly defaultGranularity?: OneGranularity;
  /** Per-layer granularity where it differs from the default. */
  readonly granularity?: ReadonlyMap<LayerName, OneGranularity>;
  /** Written as `model_path` when given. */
  readonly modelPath?: string;
  /** The model's nodes: layers are then written as their first output tensor (the Circle node name). */
  readonly nodes?: readonly GraphNode[];
  /**
   * Default true: layers sharing dtype and granularity go in one `names` entry (circle-quantizer
   * reads both forms). false writes one `name` entry per layer, as circle-mpqsolver does.
   */
  readonly groupNames?: boolean;
}

export interface NotRepresentableLayer {
  readonly layer: LayerName;
  readonly precision: Precision;
}

export interface OneConfigExport {
  readonly text: string;
  /** Layers whose precision ONE's configuration cannot express: circle-quantizer gives them the default dtype. */
  readonly notRepresentable: readonly NotRepresentableLayer[];
  /** QTable layers missing from `nodes` (a stale table): left out, since circle-quantizer would stop on them. */
  readonly unknownLayers: readonly LayerName[];
}

export function oneDtypeOf(precision: Precision): OneDtype | undefined {
  switch (precision) {
    case 'INT16': return 'int16';
    case 'INT8': case 'UINT8': return 'uint8';
    default: return undefined;
  }
}

function precisionOfDtype(dtype: OneDtype): Precision {
  return dtype === 'int16' ? 'INT16' : 'INT8';
}

/**
 * @example formatOneConfig({defaultPrecision: 'INT8', layers: new Map([['conv1', 'INT16'], ['gelu', 'FP32']])}).text
 * // {"default_quantization_dtype": "uint8", "default_granularity": "channel",
 * //  "layers": [{"name": "conv1", "dtype": "int16", "granularity": "channel"}]}   (notRepresentable: gelu FP32)
 */
export function formatOneConfig(table: QTable, options: OneConfigOptions = {}): OneConfigExport {
  const defaultDtype = options.defaultDtype ?? oneDtypeOf(table.defaultPrecision) ?? 'uint8';
  const defaultGranularity = options.defaultGranularity ?? 'channel';
  if (defaultGranularity === 'layer' && defaultDtype !== 'uint8') {
    // luci CircleQuantizer.cpp: "Layer-wise quantization only supports uint8 dtype." for the model-wide pair.
    throw new QbenchError(`circle-quantizer quantizes a whole model layer-wise in uint8 only, not ${defaultDtype}: use the channel granularity by default`);
  }
  const notRepresentable: NotRepresentableLayer[] = [];
  const unknownLayers: LayerName[] = [];
  const byName = options.nodes ? new Map(options.nodes.map((n) => [n.name, n])) : undefined;

  if (oneDtypeOf(table.defaultPrecision) === undefined) {
    if (!options.nodes) {
      throw new QbenchError(`the default precision ${table.defaultPrecision} has no circle-quantizer dtype (uint8 or int16 only); pass the model's nodes so the layers it covers can be listed`);
    }
    for (const node of options.nodes) if (!table.layers.has(node.name)) notRepresentable.push({ layer: node.name, precision: table.defaultPrecision });
  }

  const groups = new Map<string, { dtype: OneDtype; granularity: OneGranularity; names: string[] }>();
  const written = new Set<string>();
  const layers = [...new Set<LayerName>([...table.layers.keys(), ...(options.granularity?.keys() ?? [])])].sort(naturalCompare);
  for (const layer of layers) {
    const precision = table.layers.get(layer) ?? table.defaultPrecision;
    const dtype = oneDtypeOf(precision);
    if (dtype === undefined) {
      if (table.layers.has(layer)) notRepresentable.push({ layer, precision });
      continue;
    }
    const granularity = options.granularity?.get(layer) ?? defaultGranularity;
    if (dtype === defaultDtype && granularity === defaultGranularity) continue;
    let name: string = layer;
    if (byName) {
      const node = byName.get(layer);
      const output = node && firstOutput(node);
      if (output === undefined) {
        unknownLayers.push(layer);
        continue;
      }
      name = output;
    }
    if (written.has(name)) continue; // LayerInfoMap.cpp rejects a name given twice
    written.add(name);
    const key = `${dtype}/${granularity}`;
    const group = groups.get(key) ?? { dtype, granularity, names: [] };
    groups.set(key, group);
    group.names.push(name);
  }

  type Entry = { name: string; dtype: OneDtype; granularity: OneGranularity } | { names: string[]; dtype: OneDtype; granularity: OneGranularity };
  const entries = [...groups.values()].flatMap(({ dtype, granularity, names }): Entry[] =>
    options.groupNames === false || names.length === 1
      ? names.map((name) => ({ name, dtype, granularity }))
      : [{ names, dtype, granularity }],
  );
  const config = {
    default_quantization_dtype: defaultDtype,
    default_granularity: defaultGranularity,
    layers: entries,
    ...(options.modelPath !== undefined ? { model_path: options.modelPath } : {}),
  };
  return { text: JSON.stringify(config, null, 2) + '\n', notRepresentable, unknownLayers };
}

export interface ParsedOneConfig {
  /** Listed layers at their dtype; the default precision from `default_quantization_dtype` (uint8 when absent). */
  readonly table: QTable;
  readonly defaultDtype: OneDtype;
  readonly defaultGranularity: OneGranularity;
  /** The granularity of every listed layer (a QTable has no granularity). */
  readonly granularity: ReadonlyMap<LayerName, OneGranularity>;
  readonly modelPath?: string;
  /** Names the model does not have (only with `nodes`). */
  readonly unknownLayers: string[];
}

/**
 * Parses a circle-quantizer configuration. Accepts what circle-quantizer accepts (`name` and
 * `names` entries, dtype and granularity in any case, `alternate` ignored) and rejects what it
 * would reject, naming the entry. With `nodes`, names are resolved to layers (a node name, an
 * output tensor, or `<output>_<OpType>`).
 */
export function parseOneConfig(text: string, fileName: string, nodes?: readonly GraphNode[]): ParsedOneConfig {
  const root = parseJsonText(text, fileName, 'a circle-quantizer configuration');
  if (!isJsonObject(root)) {
    throw new FormatError(fileName, `expected a circle-quantizer configuration (a JSON object with "layers"), found ${describeJson(root)}`);
  }
  const resolve = nodes ? layerResolver(nodes) : (name: string) => name;
  const defaultDtype = root.default_quantization_dtype === undefined ? 'uint8' : oneChoice(root.default_quantization_dtype, DTYPES, 'dtype', fileName, 'default_quantization_dtype');
  const defaultGranularity = root.default_granularity === undefined ? 'channel' : oneChoice(root.default_granularity, GRANULARITIES, 'granularity', fileName, 'default_granularity');
  let modelPath: string | undefined;
  if (root.model_path !== undefined) {
    if (typeof root.model_path !== 'string') throw new FormatError(fileName, `model_path: expected a string, found ${describeJson(root.model_path)}`);
    modelPath = root.model_path;
  }
  if (root.layers === undefined) throw new FormatError(fileName, 'expected a "layers" array (circle-quantizer reads nothing else), found none');
  const entries = expectArray(root.layers, fileName, 'layers', 'an array of layer entries');

  const defaultPrecision = precisionOfDtype(defaultDtype);
  const layers = new Map<LayerName, Precision>();
  const granularity = new Map<LayerName, OneGranularity>();
  const seen = new Set<string>();
  const unknownLayers: string[] = [];
  entries.forEach((value, index) => {
    const entry = expectObject(value, fileName, `layers[${index}]`, 'an object with "name" or "names", "dtype" and "granularity"');
    const names: string[] = [];
    if (entry.name !== undefined) {
      if (typeof entry.name !== 'string') throw new FormatError(fileName, `layers[${index}].name: expected a string, found ${describeJson(entry.name)}`);
      names.push(entry.name);
    }
    if (entry.names !== undefined) {
      expectArray(entry.names, fileName, `layers[${index}].names`, 'an array of strings').forEach((name, i) => {
        if (typeof name !== 'string') throw new FormatError(fileName, `layers[${index}].names[${i}]: expected a string, found ${describeJson(name)}`);
        names.push(name);
      });
    }
    if (entry.name === undefined && entry.names === undefined) {
      throw new FormatError(fileName, `layers[${index}]: expected "name" or "names", found neither`);
    }
    const label = `layers[${index}] (${names.map((n) => JSON.stringify(n)).join(', ') || 'no names'})`;
    const dtype = oneChoice(entry.dtype, DTYPES, 'dtype', fileName, label);
    const layerGranularity = oneChoice(entry.granularity, GRANULARITIES, 'granularity', fileName, label);
    for (const name of names) {
      if (seen.has(name)) throw new FormatError(fileName, `${label}: ${JSON.stringify(name)} is listed twice (circle-quantizer stops on a duplicate layer name)`);
      seen.add(name);
      const layer = resolve(name);
      if (layer === undefined) {
        unknownLayers.push(name);
        continue;
      }
      granularity.set(layer, layerGranularity);
      const precision = precisionOfDtype(dtype);
      if (precision === defaultPrecision) layers.delete(layer);
      else layers.set(layer, precision);
    }
  });
  return {
    table: { defaultPrecision, layers },
    defaultDtype,
    defaultGranularity,
    granularity,
    ...(modelPath !== undefined ? { modelPath } : {}),
    unknownLayers,
  };
}

function oneChoice<T extends string>(value: unknown, choices: readonly T[], what: string, fileName: string, where: string): T {
  const expected = choices.join(' or ');
  if (typeof value !== 'string') throw new FormatError(fileName, `${where}: expected ${what} ${expected}, found ${describeJson(value)}`);
  const choice = choices.find((c) => c === value.toLowerCase());
  if (!choice) throw new FormatError(fileName, `${where}: unknown ${what} "${value}" (expected ${expected})`);
  return choice;
}
