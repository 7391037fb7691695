import { FormatError } from '../errors';
import { naturalCompare } from '../naturalSort';
import { inputRole } from '../quant/inputRoles';
import type { GraphNode, LayerName } from '../model/ModelGraph';
import type { Precision, QTable } from '../model/QTable';
import { parseJsonText } from './jsonText';

/**
 * A QTable as onnxruntime's static quantizer takes it (onnxruntime/python/tools/quantization):
 * `nodes_to_exclude` (the layers left float) and `extra_options.TensorQuantOverrides` (tensor name
 * -> `[{ "quant_type": ..., "symmetric": ... }]`, one dict per tensor since these are per tensor).
 * The file is the keyword arguments as JSON:
 *
 *   { "nodes_to_exclude": ["p2o.Conv.4"],
 *     "extra_options": { "TensorQuantOverrides": { "x.1": [{ "quant_type": "QInt16", "symmetric": true }] } } }
 *
 * quant_type is the QuantType member's name: `QuantType[name]` (or QuantType.from_string) makes it
 * the enum quantize_static wants. An INT16 layer is a16w8 as qbench exports it (int16 symmetric
 * activations, int8 weights): its activation inputs and its outputs are overridden. onnxruntime
 * quantizes each tensor once, so a tensor an INT8 layer writes into an INT16 one becomes 16-bit for
 * both (qbench's own QDQ export requantizes there instead).
 */

export interface OrtOverrideEntry {
  readonly quant_type: string;
  readonly symmetric?: boolean;
}

export interface OrtQuantConfig {
  readonly nodes_to_exclude: readonly string[];
  readonly extra_options: { readonly TensorQuantOverrides: Readonly<Record<string, readonly OrtOverrideEntry[]>> };
}

const FLOAT: ReadonlySet<Precision> = new Set(['FP32', 'FP16', 'BF16']);

/** What a precision asks of onnxruntime, per tensor (null: the scheme's default, no override). */
function activationOverride(precision: Precision): OrtOverrideEntry | null {
  return precision === 'INT16' ? { quant_type: 'QInt16', symmetric: true } : null;
}

/**
 * The configuration for a QTable over a model's layers (`quantizable`: the layers a QTable can set;
 * `initializers`: weight names, which are no activations). Names sort naturally so the file diffs
 * well between runs.
 */
export function ortQuantConfig(qtable: QTable, nodes: readonly GraphNode[], quantizable: ReadonlySet<LayerName>, initializers: ReadonlySet<string>): OrtQuantConfig {
  const excluded: string[] = [];
  const overrides = new Map<string, OrtOverrideEntry[]>();
  const put = (tensor: string, entry: OrtOverrideEntry) => {
    if (tensor && !overrides.has(tensor)) overrides.set(tensor, [entry]);
  };
  for (const node of nodes) {
    if (!quantizable.has(node.name)) continue;
    const precision = qtable.layers.get(node.name) ?? qtable.defaultPrecision;
    if (FLOAT.has(precision)) {
      excluded.push(node.name);
      continue;
    }
    if (precision === 'INT4') {
      node.inputs.forEach((t, k) => {
        if (initializers.has(t) && inputRole(node.opType, k, true) === 'weight') put(t, { quant_type: 'QInt4', symmetric: true });
      });
      continue;
    }
    const entry = activationOverride(precision);
    if (!entry) continue;
    node.inputs.forEach((t, k) => {
      if (t && !initializers.has(t) && inputRole(node.opType, k, false) === 'data') put(t, entry);
    });
    for (const t of node.outputs) put(t, entry);
  }
  const sorted = [...overrides].sort(([a], [b]) => naturalCompare(a, b));
  return { nodes_to_exclude: excluded.sort(naturalCompare), extra_options: { TensorQuantOverrides: Object.fromEntries(sorted) } };
}

export function formatOrtQuantConfig(config: OrtQuantConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

export interface ParsedOrtConfig {
  /** The precisions the file sets (FP32 for excluded nodes, INT16 for 16-bit activations); the default stays INT8. */
  readonly table: QTable;
  /** Node and tensor names the model does not have. */
  readonly unknownNames: readonly string[];
  /** What the file asks that a QTable cannot hold (scales, 4-bit activations...), in words. */
  readonly ignored: readonly string[];
}

const is16Bit = (quantType: unknown) => typeof quantType === 'string' && quantType.endsWith('16');

/**
 * Reads onnxruntime's configuration back: the keyword-arguments file above, a bare
 * `{"TensorQuantOverrides": …}` or `{"nodes_to_exclude": […]}`, a bare override mapping, or a bare
 * list of node names to exclude. Excluded nodes become FP32; a layer that writes a 16-bit tensor
 * becomes INT16; a QInt4 weight makes the layers reading it INT4.
 */
export function parseOrtQuantConfig(text: string, fileName: string, nodes: readonly GraphNode[]): ParsedOrtConfig {
  const data = parseJsonText(text, fileName, "onnxruntime's nodes_to_exclude or TensorQuantOverrides");
  let exclude: unknown = [];
  let overrides: unknown = {};
  if (Array.isArray(data)) exclude = data;
  else if (data && typeof data === 'object') {
    const o = data as Record<string, unknown>;
    const extra = o.extra_options as Record<string, unknown> | undefined;
    if ('nodes_to_exclude' in o || 'TensorQuantOverrides' in o || 'extra_options' in o) {
      exclude = o.nodes_to_exclude ?? [];
      overrides = extra?.TensorQuantOverrides ?? o.TensorQuantOverrides ?? {};
    } else overrides = o;
  } else throw new FormatError(fileName, "expected onnxruntime's quantization configuration (an object or a list of node names)");
  if (!Array.isArray(exclude) || exclude.some((n) => typeof n !== 'string')) throw new FormatError(fileName, 'nodes_to_exclude: expected a list of node names');
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) throw new FormatError(fileName, 'TensorQuantOverrides: expected an object from tensor name to a list of overrides');

  const byName = new Map(nodes.map((n) => [n.name, n]));
  const producer = new Map<string, GraphNode>();
  const readers = new Map<string, GraphNode[]>();
  for (const node of nodes) {
    for (const t of node.outputs) if (t) producer.set(t, node);
    for (const t of node.inputs) if (t) readers.set(t, [...(readers.get(t) ?? []), node]);
  }
  const layers = new Map<LayerName, Precision>();
  const unknownNames: string[] = [];
  const ignored: string[] = [];
  for (const [tensor, list] of Object.entries(overrides as Record<string, unknown>)) {
    if (!Array.isArray(list)) throw new FormatError(fileName, `TensorQuantOverrides["${tensor}"]: expected a list of override objects`);
    const first = (list[0] ?? {}) as Record<string, unknown>;
    if (!producer.has(tensor) && !readers.has(tensor)) {
      unknownNames.push(tensor);
      continue;
    }
    if ('scale' in first || 'rmin' in first) ignored.push(`${tensor}: its own scale or range (a QTable holds precisions; import a cali_table for ranges)`);
    if (is16Bit(first.quant_type)) {
      const node = producer.get(tensor);
      if (node) layers.set(node.name, 'INT16');
    } else if (first.quant_type === 'QInt4' || first.quant_type === 'QUInt4') {
      const node = producer.get(tensor);
      if (node) ignored.push(`${tensor}: 4-bit activations (qbench quantizes activations at 8 or 16 bits)`);
      else for (const reader of readers.get(tensor) ?? []) layers.set(reader.name, 'INT4');
    }
  }
  for (const name of exclude as string[]) {
    if (byName.has(name)) layers.set(name, 'FP32');
    else unknownNames.push(name);
  }
  return { table: { defaultPrecision: 'INT8', layers }, unknownNames, ignored };
}
