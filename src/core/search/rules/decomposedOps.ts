import type { GraphNode } from '../../model/ModelGraph';
import type { RuleGraph } from './RuleGraph';

/**
 * Operators that exporters write out as several ONNX nodes: LayerNorm (before opset 17 and in
 * many exports after it), Softmax (TFLite/Circle conversions), GELU (before opset 20) and SiLU
 * (ONNX has no SiLU). Each matcher starts from the node that ends the pattern and returns its
 * parts, or undefined. Values of constants are not in the ModelGraph, so a constant is checked by
 * its size only (a scalar eps, a scalar Pow exponent, a one-element axes tensor).
 */

/** (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps), with Sqrt->Div, Sqrt->Reciprocal->Mul or Rsqrt->Mul at the end. */
export interface DecomposedLayerNorm {
  /** The tensor being normalized. */
  readonly input: string;
  /** ReduceMean(x) */
  readonly mean: GraphNode;
  /** Sub(x, mean) */
  readonly centered: GraphNode;
  /** Pow(centered, 2) or Mul(centered, centered) */
  readonly square: GraphNode;
  /** ReduceMean(square) */
  readonly variance: GraphNode;
  /** Add(variance, eps) */
  readonly addEps: GraphNode;
  /** [Sqrt] before a Div, [Sqrt, Reciprocal] or [Rsqrt] before a Mul. */
  readonly root: readonly GraphNode[];
  /** Div(centered, sqrt) or Mul(centered, rsqrt) */
  readonly terminal: GraphNode;
}

/** exp(x - max(x)) / sum(exp(x - max(x))) over one axis. */
export interface DecomposedSoftmax {
  readonly input: string;
  readonly max: GraphNode;
  readonly sub: GraphNode;
  readonly exp: GraphNode;
  readonly sum: GraphNode;
  readonly terminal: GraphNode;
}

/** An exact (erf) GELU: x * 0.5 * (1 + erf(x / sqrt(2))), its five nodes in topological order. */
export interface DecomposedGelu {
  readonly input: string;
  readonly nodes: readonly GraphNode[];
  /** The node whose output is the GELU's output. */
  readonly output: GraphNode;
}

/** x * sigmoid(x). */
export interface Silu {
  readonly input: string;
  readonly sigmoid: GraphNode;
  readonly mul: GraphNode;
}

export function findLayerNorms(g: RuleGraph): DecomposedLayerNorm[] {
  return g.nodes.flatMap((node) => matchLayerNorm(g, node) ?? []);
}

export function findSoftmaxes(g: RuleGraph): DecomposedSoftmax[] {
  return g.nodes.flatMap((node) => matchSoftmax(g, node) ?? []);
}

export function findGelus(g: RuleGraph): DecomposedGelu[] {
  return g.nodes.flatMap((node) => matchGelu(g, node) ?? []);
}

export function findSilus(g: RuleGraph): Silu[] {
  return g.nodes.flatMap((node) => matchSilu(g, node) ?? []);
}

export function matchLayerNorm(g: RuleGraph, terminal: GraphNode): DecomposedLayerNorm | undefined {
  const end = normalizationEnd(g, terminal);
  if (!end) return undefined;
  const { centered, root } = end;
  const addEps = g.producerOf(root[0].inputs[0], 'Add');
  if (!addEps) return undefined;
  const eps = addEps.inputs.find((input) => g.isScalarConstant(input));
  const variance = eps === undefined ? undefined : g.producerOf(g.otherInput(addEps, eps) ?? '', 'ReduceMean');
  const square = variance && g.producerOf(variance.inputs[0], 'Pow', 'Mul');
  if (!variance || !square || !isSquareOf(g, square, centered.outputs[0])) return undefined;
  const input = centered.inputs[0];
  const mean = g.producerOf(centered.inputs[1], 'ReduceMean');
  if (!mean || mean.inputs[0] !== input || !sameReduction(g, mean, variance)) return undefined;
  return { input, mean, centered, square, variance, addEps, root, terminal };
}

export function matchSoftmax(g: RuleGraph, terminal: GraphNode): DecomposedSoftmax | undefined {
  if (terminal.opType !== 'Div') return undefined;
  const exp = g.producerOf(terminal.inputs[0], 'Exp');
  const sum = g.producerOf(terminal.inputs[1], 'ReduceSum');
  if (!exp || !sum || sum.inputs[0] !== exp.outputs[0]) return undefined;
  const sub = g.producerOf(exp.inputs[0], 'Sub');
  const max = sub && g.producerOf(sub.inputs[1], 'ReduceMax');
  if (!sub || !max || max.inputs[0] !== sub.inputs[0]) return undefined;
  const input = sub.inputs[0];
  // circle-mpqsolver's SoftmaxPattern::matched: both reductions keep dims and reduce the last axis only.
  if (!reducesLastAxisKeepingDims(g, max, input) || !reducesLastAxisKeepingDims(g, sum, input)) return undefined;
  return { input, max, sub, exp, sum, terminal };
}

/** Starts from the Erf: Div(x, sqrt 2) or Mul(x, 1/sqrt 2) -> Erf -> Add(1) -> Mul with x or with Mul(x, 0.5). */
export function matchGelu(g: RuleGraph, erf: GraphNode): DecomposedGelu | undefined {
  if (erf.opType !== 'Erf') return undefined;
  const scale = g.producerOf(erf.inputs[0], 'Div', 'Mul');
  const input = scale && scaledInput(g, scale);
  const [addOne] = g.consumersOf(erf, 'Add');
  if (!scale || input === undefined || !addOne || !addOne.inputs.some((i) => g.isScalarConstant(i))) return undefined;
  for (const mul of g.consumersOf(addOne, 'Mul')) {
    const other = g.otherInput(mul, addOne.outputs[0]);
    if (other === input) {
      // x * (1 + erf) first, then * 0.5 (torch.nn.functional.gelu exported before opset 20)
      const half = g.consumersOf(mul, 'Mul').find((m) => m.inputs.some((i) => g.isScalarConstant(i)));
      if (half) return { input, nodes: [scale, erf, addOne, mul, half], output: half };
    }
    const half = g.producerOf(other ?? '', 'Mul');
    if (half && scaledInput(g, half) === input) {
      // x * 0.5 first, then * (1 + erf) (Hugging Face BERT's gelu)
      return { input, nodes: sortByPosition(g, [half, scale, erf, addOne, mul]), output: mul };
    }
  }
  return undefined;
}

export function matchSilu(g: RuleGraph, mul: GraphNode): Silu | undefined {
  if (mul.opType !== 'Mul') return undefined;
  for (const [a, b] of [[mul.inputs[0], mul.inputs[1]], [mul.inputs[1], mul.inputs[0]]]) {
    const sigmoid = g.producerOf(b ?? '', 'Sigmoid');
    if (sigmoid && a && sigmoid.inputs[0] === a) return { input: a, sigmoid, mul };
  }
  return undefined;
}

/** The Sub and the square-root nodes that end a normalization, in the Div or the Mul form. */
function normalizationEnd(g: RuleGraph, terminal: GraphNode): { centered: GraphNode; root: GraphNode[] } | undefined {
  if (terminal.opType === 'Div') {
    const centered = g.producerOf(terminal.inputs[0], 'Sub');
    const sqrt = g.producerOf(terminal.inputs[1], 'Sqrt');
    return centered && sqrt ? { centered, root: [sqrt] } : undefined;
  }
  if (terminal.opType !== 'Mul') return undefined;
  // Mul is commutative: circle-mpqsolver's LayerNormPattern tries both operand orders.
  for (const [a, b] of [[terminal.inputs[0], terminal.inputs[1]], [terminal.inputs[1], terminal.inputs[0]]]) {
    const centered = g.producerOf(a ?? '', 'Sub');
    const inverse = g.producerOf(b ?? '', 'Rsqrt', 'Reciprocal');
    if (!centered || !inverse) continue;
    if (inverse.opType === 'Rsqrt') return { centered, root: [inverse] };
    const sqrt = g.producerOf(inverse.inputs[0], 'Sqrt');
    if (sqrt) return { centered, root: [sqrt, inverse] };
  }
  return undefined;
}

function isSquareOf(g: RuleGraph, square: GraphNode, tensor: string): boolean {
  if (square.opType === 'Mul') return square.inputs[0] === tensor && square.inputs[1] === tensor;
  return square.inputs[0] === tensor && g.isScalarConstant(square.inputs[1]); // Pow(x, 2): the exponent's value is not in the graph
}

/** x of Div(x, c) or of Mul(x, c) / Mul(c, x) with a scalar constant c. */
function scaledInput(g: RuleGraph, node: GraphNode): string | undefined {
  const [a, b] = node.inputs;
  if (g.isScalarConstant(b) && !g.isConstant(a)) return a;
  if (node.opType === 'Mul' && g.isScalarConstant(a) && !g.isConstant(b)) return b;
  return undefined;
}

type Reduction = { readonly from: 'attribute'; readonly axes: readonly number[] } | { readonly from: 'input'; readonly tensor: string } | { readonly from: 'all' };

/** Axes are an attribute before opset 18 (13 for ReduceSum) and an input from then on. */
function reduction(node: GraphNode): Reduction {
  const axes = node.attributes.axes;
  if (Array.isArray(axes)) return { from: 'attribute', axes: axes as number[] };
  if (node.inputs[1]) return { from: 'input', tensor: node.inputs[1] };
  return { from: 'all' };
}

/**
 * circle-mpqsolver requires both means of a LayerNorm to reduce the same axes. Attribute axes are
 * compared; axes given as inputs can only be compared by name or checked to be constants.
 */
function sameReduction(g: RuleGraph, a: GraphNode, b: GraphNode): boolean {
  const ra = reduction(a);
  const rb = reduction(b);
  if (ra.from === 'attribute' && rb.from === 'attribute') {
    return ra.axes.length === rb.axes.length && ra.axes.every((axis) => rb.axes.includes(axis));
  }
  if (ra.from === 'input' && rb.from === 'input') return ra.tensor === rb.tensor || (g.isConstant(ra.tensor) && g.isConstant(rb.tensor));
  return ra.from === 'all' && rb.from === 'all';
}

/** keepdims (default 1) and one axis, the last: -1, or rank - 1 where the rank is known (else any one axis). */
function reducesLastAxisKeepingDims(g: RuleGraph, node: GraphNode, input: string): boolean {
  if (node.attributes.keepdims === 0) return false;
  const r = reduction(node);
  if (r.from === 'input') return g.isScalarConstant(r.tensor);
  if (r.from !== 'attribute' || r.axes.length !== 1) return false;
  const rank = g.rank(input);
  return r.axes[0] === -1 || rank === undefined || r.axes[0] === rank - 1;
}

function sortByPosition(g: RuleGraph, nodes: GraphNode[]): GraphNode[] {
  return [...nodes].sort((a, b) => g.position(a) - g.position(b));
}
