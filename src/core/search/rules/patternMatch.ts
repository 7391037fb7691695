import type { GraphNode, LayerName, ModelGraph } from '../../model/ModelGraph';
import type { Precision } from '../../model/QTable';
import { findGelus, findLayerNorms, findSilus } from './decomposedOps';
import { floatPrecision, PlanBuilder, type PrecisionPlan } from './precisionPlan';
import { RuleGraph } from './RuleGraph';

/**
 * TPU-MLIR's pattern-match mixed precision (python/calibration/transformer_pattern.py,
 * MatchPattern.run; docs/algorithms.md §5 "pattern-match"), read on the ONNX graph instead of the top
 * dialect. TPU-MLIR names ops in top-dialect terms (MulConst, SiLU, GELU, LayerNorm); the notes
 * below say which ONNX nodes stand for each.
 */

export type ModelKind = 'yolo' | 'transformer';

export type PatternRule = 'yolo-post-processing' | 'add-before-layernorm' | 'silu' | 'gelu' | 'matmul-after-softmax' | 'matmul-after-gelu';

export interface PatternFiring {
  readonly rule: PatternRule;
  /** The nodes the pattern matched, in topological order. */
  readonly matched: readonly LayerName[];
  /** What the firing marks float: the matched nodes and, for YOLO post-processing, all their descendants. */
  readonly layers: readonly LayerName[];
  /** e.g. 'yolov5 post-processing window mul_7_Mul … reshape_15_Reshape' */
  readonly detail: string;
}

export interface PatternMatchResult extends PrecisionPlan {
  readonly kind: ModelKind | null;
  /** Why the model was taken for its kind, or why for none. */
  readonly evidence: string;
  readonly firings: readonly PatternFiring[];
  /** Every layer marked float, in topological order. */
  readonly layers: readonly LayerName[];
  readonly precision: Precision;
}

export interface PatternMatchOptions {
  /** Default 'FP32' (TPU-MLIR takes the chip's float type). */
  readonly fpType?: Precision;
}

/** YOLOv5/v8's SPPF block: its three chained MaxPools and the Concat of their outputs (TPU-MLIR's yolo_block). */
export const SPPF_SIGNATURE: readonly string[] = ['MaxPool', 'MaxPool', 'MaxPool', 'Concat'];

export interface PostProcessingSignature {
  readonly name: string;
  /** Compared as a multiset: the exporter's order of independent branches varies. */
  readonly ops: readonly string[];
}

/**
 * TPU-MLIR's yolo_post_blocks in its order (the first that matches anywhere wins), in ONNX
 * terms: its MulConst is a Mul (or Div) by a constant here. yolov10's signature (TopK, Gather,
 * Mod, ...) is left out: its top-dialect ops do not map one to one onto ONNX nodes.
 */
export const YOLO_POST_PROCESSING_SIGNATURES: readonly PostProcessingSignature[] = [
  { name: 'yolov5', ops: ['Mul', 'Add', 'Mul', 'Mul', 'Mul', 'Mul', 'Concat', 'Reshape'] },
  { name: 'yolov7', ops: ['Mul', 'Add', 'Mul', 'Mul', 'Concat', 'Reshape'] },
  { name: 'yolov6/8/9/11/12', ops: ['Sub', 'Add', 'Add', 'Sub', 'Mul', 'Concat', 'Mul', 'Concat'] },
];

/**
 * Detects a transformer (an attention Softmax feeding a MatMul, and a LayerNorm) or, failing
 * that, a YOLO (an SPPF block, or the v6-v12 post-processing signature, which YOLOv12 has
 * without an SPPF), and marks float what TPU-MLIR marks for that kind:
 * - yolo: each window of the topological op list whose op types equal a post-processing
 *   signature (as a multiset), and every descendant of it;
 * - transformer: each Add feeding a LayerNorm, every SiLU and GELU, and every MatMul right after
 *   a Softmax or a GELU.
 * Other models get nothing.
 * @example patternMatch(yolov5Graph).firings[0].detail // 'yolov5 post-processing window h0_xy_mul2 … h0_view'
 */
export function patternMatch(graph: ModelGraph, options: PatternMatchOptions = {}): PatternMatchResult {
  const precision = floatPrecision(options.fpType, 'pattern-match');
  const g = new RuleGraph(graph);
  const transformer = transformerEvidence(g);
  if (transformer) return matchResult(g, 'transformer', transformer, transformerFirings(g), precision);
  const ops = opList(g);
  const yolo = yoloEvidence(g, ops);
  if (yolo) return matchResult(g, 'yolo', yolo, yoloFirings(g, ops), precision);
  return matchResult(g, null, 'no attention block with a LayerNorm (transformer) and no SPPF or YOLO post-processing (yolo)', [], precision);
}

function matchResult(g: RuleGraph, kind: ModelKind | null, evidence: string, firings: PatternFiring[], precision: Precision): PatternMatchResult {
  const plan = new PlanBuilder(g);
  for (const firing of firings) {
    for (const layer of firing.layers) plan.set(layer, precision, firing.matched.includes(layer) ? firing.detail : `downstream of ${firing.detail}`);
  }
  const assignments = plan.assignments();
  return { kind, evidence, firings, assignments, layers: assignments.map((a) => a.layer), precision };
}

function firing(g: RuleGraph, rule: PatternRule, matched: Iterable<LayerName>, detail: string, layers: Iterable<LayerName> = matched): PatternFiring {
  return { rule, matched: g.inOrder(matched), layers: g.inOrder(layers), detail };
}

// ---------------------------------------------------------------------------------------------
// YOLO

interface Op {
  readonly node: GraphNode;
  /** The op type as TPU-MLIR's signatures name it. */
  readonly type: string;
}

/**
 * The operators TPU-MLIR lists, in topological order. Its list comes from the top dialect after
 * constant folding with static shapes, so the nodes that only compute constants or shapes
 * (Constant, Shape, and the Gather/Unsqueeze/Concat/Mul arithmetic on shapes that a dynamic
 * export puts between YOLOv5's Concat and Reshape) are not in it; they are left out here too,
 * or the eight-op windows would not line up.
 */
function opList(g: RuleGraph): Op[] {
  const folded = g.foldedNodes();
  return g.nodes.filter((node) => !folded.has(node.name)).map((node) => ({ node, type: signatureType(g, node) }));
}

/**
 * Where the exporter and TPU-MLIR disagree on an op's name: YOLOv5's `(wh * 2) ** 2` exports as
 * Pow(x, 2), which TPU-MLIR's signature counts as a Mul (x * x); YOLOv6/v8's `(x1y1 + x2y2) / 2`
 * exports as Div by 2, which the signature counts as a MulConst (a Mul by 0.5).
 */
function signatureType(g: RuleGraph, node: GraphNode): string {
  if (node.opType === 'Pow' && g.isScalarConstant(node.inputs[1])) return 'Mul';
  if (node.opType === 'Div' && g.isConstant(node.inputs[1])) return 'Mul';
  return node.opType;
}

function yoloEvidence(g: RuleGraph, ops: readonly Op[]): string | undefined {
  const sppf = ops.findIndex((_, i) => SPPF_SIGNATURE.every((type, k) => ops[i + k]?.node.opType === type));
  if (sppf >= 0) return `SPPF block ${SPPF_SIGNATURE.join(', ')} at ${ops.slice(sppf, sppf + SPPF_SIGNATURE.length).map((op) => op.node.name).join(', ')}`;
  const v12 = YOLO_POST_PROCESSING_SIGNATURES[YOLO_POST_PROCESSING_SIGNATURES.length - 1];
  const [window] = signatureWindows(g, ops, v12);
  return window ? `the ${v12.name} post-processing signature at ${window[0].name} … ${window[window.length - 1].name}` : undefined;
}

function yoloFirings(g: RuleGraph, ops: readonly Op[]): PatternFiring[] {
  for (const signature of YOLO_POST_PROCESSING_SIGNATURES) {
    const windows = signatureWindows(g, ops, signature);
    if (windows.length === 0) continue;
    return windows.map((window) => {
      const names = window.map((node) => node.name);
      const detail = `${signature.name} post-processing window ${names[0]} … ${names[names.length - 1]}`;
      return firing(g, 'yolo-post-processing', names, detail, g.descendants(window));
    });
  }
  return [];
}

/**
 * At most this many nodes inside a window may be stepped over. YOLOv8's head ends with
 * torch.cat((dbox, cls.sigmoid()), 1), so the exporter writes the class Sigmoid between the
 * stride Mul and the last Concat of the box decoding; TPU-MLIR's own op order keeps that window
 * unbroken (its yolo_block_12 lists ..., Mul, Concat back to back). A node is stepped over only
 * if its type is not in the signature and no path runs through it from one window node to
 * another: then some topological order puts it before or after the window (the Sigmoid reads
 * only the class scores, so it can go first).
 */
const MAX_STEPPED_OVER = 1;

/** Every window of `ops` whose op types equal the signature's as a multiset. */
function signatureWindows(g: RuleGraph, ops: readonly Op[], signature: PostProcessingSignature): GraphNode[][] {
  const wanted = countTypes(signature.ops);
  const windows: GraphNode[][] = [];
  for (let start = 0; start < ops.length; start++) {
    if (!wanted.has(ops[start].type)) continue;
    const window = windowFrom(g, ops, start, signature.ops.length, wanted);
    if (window) windows.push(window);
  }
  return windows;
}

function windowFrom(g: RuleGraph, ops: readonly Op[], start: number, size: number, wanted: ReadonlyMap<string, number>): GraphNode[] | undefined {
  const taken: Op[] = [];
  const steppedOver: GraphNode[] = [];
  for (let i = start; i < ops.length && taken.length < size; i++) {
    if (wanted.has(ops[i].type)) taken.push(ops[i]);
    else if (steppedOver.length < MAX_STEPPED_OVER) steppedOver.push(ops[i].node);
    else return undefined;
  }
  if (taken.length < size || !sameCounts(countTypes(taken.map((op) => op.type)), wanted)) return undefined;
  const window = taken.map((op) => op.node);
  const inside = (other: GraphNode) => window.some((node) => g.reaches(node, other)) && window.some((node) => g.reaches(other, node));
  return steppedOver.some(inside) ? undefined : window;
}

function countTypes(types: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of types) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

function sameCounts(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  return a.size === b.size && [...a].every(([type, count]) => b.get(type) === count);
}

// ---------------------------------------------------------------------------------------------
// Transformers

const MATMULS = ['MatMul', 'Gemm']; // TPU-MLIR imports both as top.MatMul

/** A LayerNorm as one LayerNormalization node (opset 17+) or written out, with the tensor it normalizes. */
interface LayerNormSite {
  readonly name: LayerName;
  readonly input: string;
  /** Producers of the LayerNorm's data inputs: TPU-MLIR's `pre_op`. */
  readonly dataProducers: number;
}

function layerNormSites(g: RuleGraph): LayerNormSite[] {
  const fused = g.nodes.filter((node) => node.opType === 'LayerNormalization')
    .map((node) => ({ name: node.name, input: node.inputs[0], dataProducers: g.dataInputs(node).length }));
  const decomposed = findLayerNorms(g).map((ln) => ({ name: `${ln.mean.name} … ${ln.terminal.name}`, input: ln.input, dataProducers: 1 }));
  return [...fused, ...decomposed];
}

/** The GELUs as (the nodes that compute it, the node that outputs it). */
function gelus(g: RuleGraph): { nodes: GraphNode[]; output: GraphNode }[] {
  const fused = g.nodes.filter((node) => node.opType === 'Gelu').map((node) => ({ nodes: [node], output: node }));
  return [...fused, ...findGelus(g).map((gelu) => ({ nodes: [...gelu.nodes], output: gelu.output }))];
}

/**
 * TPU-MLIR recognizes transformers by whole-block op sequences (vit_block, bert_block, ...) in
 * the top dialect, which an ONNX graph does not reproduce op for op; the blocks share attention
 * (a Softmax whose result a MatMul consumes) and a LayerNorm, and that is what is checked here.
 */
function transformerEvidence(g: RuleGraph): string | undefined {
  const softmax = g.nodes.find((node) => node.opType === 'Softmax' && g.consumersOf(node, ...MATMULS).length > 0);
  const [layerNorm] = layerNormSites(g);
  if (!softmax || !layerNorm) return undefined;
  return `attention (Softmax ${softmax.name} feeds MatMul ${g.consumersOf(softmax, ...MATMULS)[0].name}) and LayerNorm ${layerNorm.name}`;
}

/**
 * TPU-MLIR's transformer rules. It chooses the MatMul after Softmax (ViT under 20 blocks) or the
 * MatMul after GELU (larger ViT, BERT) by which block signature matched; the ONNX graph does not
 * tell ViT from BERT, so both are marked (docs/algorithms.md §5: "the MatMul after Softmax or GELU").
 */
function transformerFirings(g: RuleGraph): PatternFiring[] {
  const firings: PatternFiring[] = [];
  for (const site of layerNormSites(g)) {
    const add = site.dataProducers === 1 ? g.producerOf(site.input, 'Add') : undefined;
    if (add) firings.push(firing(g, 'add-before-layernorm', [add.name], `Add ${add.name} feeding LayerNorm ${site.name}`));
  }
  for (const silu of findSilus(g)) {
    firings.push(firing(g, 'silu', [silu.sigmoid.name, silu.mul.name], `SiLU ${silu.sigmoid.name} × ${silu.mul.name}`));
  }
  const allGelus = gelus(g);
  for (const gelu of allGelus) {
    const names = gelu.nodes.map((node) => node.name);
    firings.push(firing(g, 'gelu', names, names.length === 1 ? `GELU ${names[0]}` : `GELU ${names[0]} … ${gelu.output.name}`));
  }
  for (const softmax of g.nodes.filter((node) => node.opType === 'Softmax')) {
    for (const matmul of g.consumersOf(softmax, ...MATMULS)) {
      firings.push(firing(g, 'matmul-after-softmax', [matmul.name], `${matmul.opType} ${matmul.name} after Softmax ${softmax.name}`));
    }
  }
  for (const gelu of allGelus) {
    for (const matmul of g.consumersOf(gelu.output, ...MATMULS)) {
      firings.push(firing(g, 'matmul-after-gelu', [matmul.name], `${matmul.opType} ${matmul.name} after GELU ${gelu.output.name}`));
    }
  }
  return firings;
}
