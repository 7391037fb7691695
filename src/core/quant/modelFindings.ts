import type { ModelGraph } from '../model/ModelGraph';
import type { DequantizedModel } from '../io/onnx/dequantizeIntegerOps';
import { quantizedForm, type QuantizedModelFinding } from '../io/onnx/quantizedForm';
import type { LayerInfo } from './layerInfo';

/**
 * What a user must know about a model before any figure means something (issue #9): whether it is
 * already quantized, whether anything in it can be quantized, what stays float and why. The page
 * shows `notes` under the model's name; the CLI prints them; `nothingToQuantize` replaces the
 * output similarity, which would read 1.000000 as if it were a result.
 */
export interface ModelFindings {
  readonly quantized: QuantizedModelFinding | null;
  readonly quantizableLayers: number;
  /** Nodes inside graphs of operators other than If, Loop and Scan (they run float). */
  readonly subgraphNodes: number;
  /** Why no layer can be quantized, in words; null when some can. */
  readonly nothingToQuantize: string | null;
  /** The opset the file was written at, when qbench upgraded it on load. */
  readonly upgradedFrom: number | null;
  /** One sentence each, in the order a user should read them. */
  readonly notes: readonly string[];
}

const FORM_TEXT = {
  qdq: 'QDQ (QuantizeLinear/DequantizeLinear pairs)',
  qoperator: 'QOperator (integer operators)',
  dynamic: 'dynamic quantization (integer ops, activations quantized at run time)',
} as const;

/**
 * @example findModel(silero.graph, layers).nothingToQuantize
 * // 'no layer can be quantized: 1 layer (Equal): has no float32 output; 1 layer (If): holds a subgraph; ...; the 684 nodes inside control-flow bodies are not quantized yet'
 */
export function findModel(graph: ModelGraph, layers: ReadonlyMap<string, LayerInfo>): ModelFindings {
  const quantized = quantizedForm(graph.nodes);
  const quantizable = [...layers.values()].filter((l) => l.quantizable);
  // If branches and Loop/Scan bodies are walked (their nodes are layers of the graph).
  const subgraphNodes = graph.nodes.filter((n) => !['If', 'Loop', 'Scan'].includes(n.opType)).reduce((sum, n) => sum + countSubgraphNodes(n.attributes), 0);
  const notes: string[] = [];
  const upgradedFrom = graph.upgradedFrom ?? null;
  if (upgradedFrom !== null) notes.push(`upgraded from opset ${upgradedFrom} to ${graph.opset} on load (ONNX version-converter semantics); every layer keeps its name`);
  if (quantized) {
    const reopen = quantized.form === 'dynamic'
      ? '; open it de-quantized (page: "Open as float", CLI: --dequantize) to re-quantize it from float (dynamic quantization holds no activation ranges: the calibration comes from your samples)'
      : '; open it de-quantized (page: "Open as float", CLI: --dequantize) to re-quantize it from float with its own ranges imported';
    notes.push(`this model is already quantized: ${FORM_TEXT[quantized.form]}, ${quantized.operators.join(', ')}. Its figures compare a second quantization with the file as it is, not with a float model${reopen}`);
  }
  const scopeOf = new Map(graph.nodes.map((n) => [n.name, n.scope]));
  const inBodies = [...layers.values()].filter((l) => l.quantizable && scopeOf.get(l.name));
  const inLoops = inBodies.filter((l) => /\/body(\/|$)/.test(scopeOf.get(l.name)!));
  const inBranches = inBodies.length - inLoops.length;
  if (inBranches) {
    notes.push(`${inBranches} layers sit inside If branches: they are calibrated on the branches your samples take and quantized there (Q/DQ inside the branch); a branch no sample takes stays float and has no per-layer error. Each has its own error in the heatmap (its branch run on its own); searches rank them through the If`);
  }
  if (inLoops.length) {
    notes.push(`${inLoops.length} layers sit inside Loop or Scan bodies: they are calibrated on every step your samples run (up to 64 per sample) and quantized inside the body. Each has its own error in the heatmap, summed over the steps (up to 64); searches rank them through the Loop or Scan`);
  }
  const walked = new Set(['If', 'Loop', 'Scan']);
  const holders = graph.nodes.filter((n) => !walked.has(n.opType) && countSubgraphNodes(n.attributes) > 0);
  if (holders.length) {
    const ops = [...new Set(holders.map((n) => n.opType))].join('/');
    notes.push(`${subgraphNodes} nodes inside ${holders.length} ${ops} bod${holders.length === 1 ? 'y' : 'ies'} run float: qbench does not walk the graphs of these operators`);
  }
  const recurrent = [...layers.values()].filter((l) => ['LSTM', 'GRU', 'RNN'].includes(l.opType));
  if (recurrent.length) notes.push(`${recurrent.length} recurrent layer${recurrent.length === 1 ? '' : 's'} (${[...new Set(recurrent.map((l) => l.opType))].join(', ')}) run float, as onnxruntime's static quantizer leaves them`);
  let nothingToQuantize: string | null = null;
  if (quantizable.length === 0) {
    const reasons = new Map<string, string[]>();
    for (const layer of layers.values()) {
      const reason = layer.reason ?? 'is not quantizable';
      reasons.set(reason, [...(reasons.get(reason) ?? []), layer.opType]);
    }
    const parts = [...reasons].map(([reason, ops]) => `${ops.length} layer${ops.length === 1 ? '' : 's'} (${[...new Set(ops)].join(', ')}): ${reason}`);
    if (subgraphNodes) parts.push(`the ${subgraphNodes} nodes inside other operators' graphs are not quantized`);
    nothingToQuantize = `no layer can be quantized: ${parts.join('; ')}`;
  }
  return { quantized, quantizableLayers: quantizable.length, subgraphNodes, nothingToQuantize, upgradedFrom, notes };
}

function countSubgraphNodes(attributes: Readonly<Record<string, unknown>>): number {
  let count = 0;
  for (const value of Object.values(attributes)) {
    if (value && typeof value === 'object' && 'graph' in value) count += (value as { nodes?: number }).nodes ?? 1;
  }
  return count;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The note a model opened de-quantized starts with (page and CLI): what form it was, what became of
 * it, and where its calibration comes from.
 * @example dequantizedNote(d)
 * // 'opened de-quantized from QOperator form: 9 integer operators turned back into float ones (QLinearConv x2 → Conv, ...), ...'
 */
export function dequantizedNote(d: DequantizedModel): string {
  const relus = ({ restoredRelus, restoredClips }: { readonly restoredRelus: number; readonly restoredClips: number }) => {
    const parts = [...(restoredRelus ? [plural(restoredRelus, 'Relu')] : []), ...(restoredClips ? [`${plural(restoredClips, 'Clip')} (0..n)`] : [])];
    return parts.length ? `, ${parts.join(' and ')} folded into a quantizer put back` : '';
  };
  if (d.form === 'qdq') {
    const r = d.result;
    return `opened de-quantized: ${r.removedPairs} QuantizeLinear/DequantizeLinear pairs removed and their ranges imported as the calibration, ${r.dequantizedWeights} stored integer tensors turned back into float (weights keep their integer rounding)${relus(r)}`;
  }
  const r = d.result;
  const ops = `${plural(r.rewrittenNodes, 'integer operator')} turned back into float ones (${r.rewritten.join(', ')})`;
  const weights = `${plural(r.dequantizedWeights, 'stored integer tensor')} turned back into float (weights keep their integer rounding)`;
  const quantizers = r.removedQuantizers ? `, ${plural(r.removedQuantizers, 'quantizer')} (QuantizeLinear/DequantizeLinear/DynamicQuantizeLinear) removed` : '';
  if (d.form === 'dynamic') {
    const imported = r.ranges.size ? `; the ranges of ${plural(r.ranges.size, 'tensor')} quantized statically are imported` : '';
    return `opened de-quantized from dynamic quantization: ${ops}${quantizers}, ${weights}${relus(r)}. Dynamic quantization computes its activation ranges at run time and stores none: the calibration comes from your samples${imported}`;
  }
  const floatInFile = r.floatLayers.length ? `; the file computes ${plural(r.floatLayers.length, 'layer')} in float` : '';
  return `opened de-quantized from QOperator form: ${ops}${quantizers}, the ranges of ${plural(r.ranges.size, 'quantized tensor')} imported as the calibration, ${weights}${relus(r)}${floatInFile}`;
}
