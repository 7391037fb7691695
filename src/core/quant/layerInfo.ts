import type { ValueInfo } from '../engine/Engine';
import { indexGraph, type GraphNode, type LayerName, type ModelGraph } from '../model/ModelGraph';
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
 */
export function describeLayers(graph: ModelGraph, types: ReadonlyMap<string, ValueInfo>): Map<LayerName, LayerInfo> {
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
  const layers = new Map<LayerName, LayerInfo>();
  for (const node of graph.nodes) {
    const floatOutputs = node.outputs.filter((o) => o && types.get(o)?.dtype === 'float32');
    const reason = notQuantizableReason(node, floatOutputs, shapeOnly);
    layers.set(node.name, { name: node.name, opType: node.opType, quantizable: reason === undefined, reason, floatOutputs });
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
