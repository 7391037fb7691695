import { ORIGINS_KEY, SOURCE_FORMAT_KEY } from '../io/tflite/convertFlatModel';
import type { FlatFormat } from '../io/tflite/flatModel';
import type { onnx } from '../io/onnx/protobuf';
import type { GraphNode, LayerName } from '../model/ModelGraph';
import type { Precision, QTable } from '../model/QTable';
import { naturalCompare } from '../naturalSort';

/** Where the layers of a model converted from a .tflite/.circle come from. */
export interface FlatbufferOrigins {
  readonly format: FlatFormat;
  /** ONNX node -> the name of the file's tensor its operator writes (the operator's name in ONE and LiteRT). */
  readonly origin: ReadonlyMap<LayerName, string>;
}

/** The origins the conversion recorded in the model's metadata, or null for a model that was ONNX to begin with. */
export function flatbufferOrigins(proto: onnx.IModelProto): FlatbufferOrigins | null {
  const props = proto.metadataProps ?? [];
  const format = props.find((p) => p.key === SOURCE_FORMAT_KEY)?.value;
  const origins = props.find((p) => p.key === ORIGINS_KEY)?.value;
  if ((format !== 'tflite' && format !== 'circle') || !origins) return null;
  return { format, origin: new Map(Object.entries(JSON.parse(origins) as Record<string, string>)) };
}

/**
 * A QTable in the file's operators: one entry per operator, with the precision of its own node (the
 * node named after the tensor it writes; else the first of its nodes the table names). The nodes the
 * conversion added for an operator (a fused activation, a Transpose, an LSTM's steps) are not
 * operators of the file, and ONE and LiteRT would refuse their names.
 */
export function operatorQTable(qtable: QTable, nodes: readonly GraphNode[], origins: FlatbufferOrigins): { readonly qtable: QTable; readonly nodes: readonly GraphNode[] } {
  const layers = new Map<LayerName, Precision>();
  const operators = new Map<string, GraphNode>();
  for (const node of nodes) {
    const origin = origins.origin.get(node.name);
    if (!origin) continue;
    if (!operators.has(origin)) operators.set(origin, { ...node, name: origin, outputs: [origin] });
    const precision = qtable.layers.get(node.name);
    if (precision && (node.name === origin || !layers.has(origin))) layers.set(origin, precision);
  }
  return { qtable: { ...qtable, layers }, nodes: [...operators.values()] };
}

interface RecipeEntry {
  readonly regex: string;
  readonly operation: string;
  readonly algorithm_key: string;
  readonly op_config?: Record<string, unknown>;
}

const tensorConfig = (bits: number, symmetric: boolean, granularity: 'TENSORWISE' | 'CHANNELWISE') => ({ num_bits: bits, symmetric, granularity, dtype: 'INT' });

/** AI Edge Quantizer's op_config for a qbench precision, or null where the operator stays float (no_quantize). */
function recipeFor(precision: Precision): RecipeEntry['op_config'] | null {
  const weights = tensorConfig(8, true, 'CHANNELWISE');
  switch (precision) {
    case 'INT8': case 'UINT8':
      return { activation_tensor_config: tensorConfig(8, false, 'TENSORWISE'), weight_tensor_config: weights, compute_precision: 'INTEGER', explicit_dequantize: false, skip_checks: false };
    case 'INT16':
      return { activation_tensor_config: tensorConfig(16, true, 'TENSORWISE'), weight_tensor_config: weights, compute_precision: 'INTEGER', explicit_dequantize: false, skip_checks: false };
    case 'INT4':
      return { activation_tensor_config: tensorConfig(8, false, 'TENSORWISE'), weight_tensor_config: tensorConfig(4, true, 'CHANNELWISE'), compute_precision: 'INTEGER', explicit_dequantize: false, skip_checks: false };
    default:
      return null;
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

/**
 * The QTable as an AI Edge Quantizer recipe (a JSON list; later entries override earlier ones): the
 * default precision for every operator (`.*`), then each operator whose precision differs, matched
 * by the tensor it writes (`^name$`, the scope the quantizer matches). INT8 is its a8w8 scheme
 * (asymmetric per-tensor activations, symmetric per-channel weights), INT16 its a16w8, INT4 weights
 * at 4 bits; FP32, FP16 and BF16 keep the operator float (`no_quantize`).
 */
export function formatAiEdgeRecipe(qtable: QTable, nodes: readonly GraphNode[], origins: FlatbufferOrigins): string {
  const byOperator = operatorQTable(qtable, nodes, origins).qtable;
  const entry = (regex: string, precision: Precision): RecipeEntry => {
    const config = recipeFor(precision);
    return config ? { regex, operation: '*', algorithm_key: 'min_max_uniform_quantize', op_config: config } : { regex, operation: '*', algorithm_key: 'no_quantize' };
  };
  const entries = [entry('.*', qtable.defaultPrecision)];
  for (const [operator, precision] of [...byOperator.layers].sort(([a], [b]) => naturalCompare(a, b))) {
    if (precision !== qtable.defaultPrecision) entries.push(entry(`^${escapeRegex(operator)}$`, precision));
  }
  return `${JSON.stringify(entries, null, 2)}\n`;
}

/**
 * The layers ONE's configuration is written with: a converted model's operators (operatorQTable),
 * any other model's layers as they are.
 */
export function oneConfigLayers(qtable: QTable, nodes: readonly GraphNode[], proto: onnx.IModelProto): { readonly qtable: QTable; readonly nodes: readonly GraphNode[] } {
  const origins = flatbufferOrigins(proto);
  return origins ? operatorQTable(qtable, nodes, origins) : { qtable, nodes };
}
