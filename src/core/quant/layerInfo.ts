import type { ValueInfo } from '../engine/Engine';
import { indexGraph, type GraphNode, type LayerName, type ModelGraph } from '../model/ModelGraph';
import { precisionOf, type Precision, type QTable } from '../model/QTable';
import { inputRole } from './inputRoles';

export interface LayerInfo {
  readonly name: LayerName;
  readonly opType: string;
  /** Whether the QTable's precision applies; other layers always run as they are in the model. */
  readonly quantizable: boolean;
  /** Why a layer is not quantizable, for the inspector. */
  readonly reason?: string;
  /** Float outputs whose error the evaluation reports. */
  readonly floatOutputs: readonly string[];
  /**
   * For a node a .tflite/.circle conversion added to one of the file's operators (a fused
   * activation, a Transpose, an LSTM's step; docs/tflite.md): the layer named after that operator.
   * The QTable names the file's operators only, so this node has no entry of its own and runs at
   * its operator's precision (qtableLayer).
   */
  readonly operator?: LayerName;
}

/** The QTable entry that sets a layer's precision: its own, or its file operator's (LayerInfo.operator). */
export function qtableLayer(layer: Pick<LayerInfo, 'name' | 'operator'>): LayerName {
  return layer.operator ?? layer.name;
}

/**
 * A QTable with each entry under the layer that holds it (qtableLayer). A table read from a file may
 * name a node a conversion added (`<operator>/Relu6`): its precision goes to the operator, unless
 * the table sets the operator itself. Tables of ordinary ONNX models come back unchanged.
 */
export function entriesOnOperators(qtable: QTable, layers: ReadonlyMap<LayerName, Pick<LayerInfo, 'name' | 'operator'>>): QTable {
  if (![...qtable.layers.keys()].some((name) => layers.get(name)?.operator)) return qtable;
  const entries = new Map<LayerName, Precision>();
  for (const [name, precision] of qtable.layers) {
    const operator = layers.get(name)?.operator;
    if (operator === undefined) entries.set(name, precision);
    else if (!qtable.layers.has(operator) && !entries.has(operator)) entries.set(operator, precision);
  }
  // Deleting the current entry while iterating a Map is safe.
  for (const [name, precision] of entries) if (precision === qtable.defaultPrecision) entries.delete(name);
  return { defaultPrecision: qtable.defaultPrecision, layers: entries };
}

/** A layer's precision in a QTable (its operator's for a node a conversion added), whether or not it is quantizable. */
export function layerPrecision(qtable: QTable, layer: Pick<LayerInfo, 'name' | 'operator'>): Precision {
  return precisionOf(qtable, qtableLayer(layer));
}

/** Operators that never get quantized: they compute shapes, indices or are already quantized. */
const NEVER_QUANTIZED = new Set([
  'Shape', 'Size', 'ConstantOfShape', 'Range', 'NonZero', 'Cast', 'CastLike', 'QuantizeLinear', 'DequantizeLinear',
  'DynamicQuantizeLinear', 'ArgMax', 'ArgMin', 'NonMaxSuppression', 'Identity', 'Constant', 'EyeLike', 'RandomNormal',
  'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli', 'Optional', 'OptionalGetElement',
  'OptionalHasElement', 'SequenceConstruct', 'SequenceAt', 'SequenceEmpty', 'SequenceInsert', 'SequenceErase',
  'SequenceLength', 'SplitToSequence', 'ConcatFromSequence',
]);

/**
 * Which layers the QTable can quantize (docs/algorithms.md §5 "shape ops"): a layer must be a standard
 * operator with a float32 output, no subgraph, and must not only feed shapes and indices.
 * `origins` (a model converted from a .tflite/.circle: node -> the file operator it comes from)
 * ties each node the conversion added to its operator's layer.
 */
export function describeLayers(graph: ModelGraph, types: ReadonlyMap<string, ValueInfo>, origins?: ReadonlyMap<LayerName, string>): Map<LayerName, LayerInfo> {
  const { consumers } = indexGraph(graph.nodes);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const initializers = new Set(graph.weights.map((w) => w.name));
  const shapeOnly = new Set<LayerName>();
  // Backwards: a node is shape-only when every use of every output is a parameter position
  // (a shape, an index) or another shape-only node.
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    const outputs = node.outputs.filter(Boolean);
    if (outputs.length === 0 || outputs.some((o) => graphOutputs.has(o))) continue;
    const onlyShapes = outputs.every((output) => {
      const users = consumers.get(output) ?? [];
      return users.length > 0 && users.every((user) => shapeOnly.has(user.name) || user.inputs.every((input, k) => input !== output || inputRole(user.opType, k, initializers.has(input)) === 'param'));
    });
    if (onlyShapes) shapeOnly.add(node.name);
  }
  const names = new Set(graph.nodes.map((n) => n.name));
  const layers = new Map<LayerName, LayerInfo>();
  for (const node of graph.nodes) {
    const floatOutputs = node.outputs.filter((o) => o && types.get(o)?.dtype === 'float32');
    const reason = notQuantizableReason(node, floatOutputs, shapeOnly);
    // Only an operator that kept a node of its own name can hold the entry (the conversion names one so).
    const origin = origins?.get(node.name);
    const operator = origin !== undefined && origin !== node.name && names.has(origin) ? origin : undefined;
    layers.set(node.name, { name: node.name, opType: node.opType, quantizable: reason === undefined, reason, floatOutputs, ...(operator ? { operator } : {}) });
  }
  return layers;
}

/** Recurrent layers: onnxruntime's static (QDQ) quantizer leaves them float; only its dynamic mode quantizes their weights. */
const RECURRENT = new Set(['LSTM', 'GRU', 'RNN']);

function notQuantizableReason(node: GraphNode, floatOutputs: readonly string[], shapeOnly: ReadonlySet<LayerName>): string | undefined {
  if (node.domain && node.domain !== 'ai.onnx') return `custom operator domain ${node.domain}`;
  if (NEVER_QUANTIZED.has(node.opType)) return `${node.opType} is never quantized`;
  if (RECURRENT.has(node.opType)) return `${node.opType} is a recurrent layer: onnxruntime's static quantizer leaves it float (only dynamic quantization, which qbench does not simulate, quantizes its weights)`;
  if (Object.values(node.attributes).some((v) => typeof v === 'object' && v !== null && 'graph' in v)) return 'holds a subgraph';
  if (floatOutputs.length === 0) return 'has no float32 output';
  if (shapeOnly.has(node.name)) return 'only computes shapes or indices';
  return undefined;
}
