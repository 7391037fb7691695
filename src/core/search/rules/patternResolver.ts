import { QbenchError } from '../../errors';
import type { GraphNode, LayerName, ModelGraph } from '../../model/ModelGraph';
import type { Precision } from '../../model/QTable';
import { findLayerNorms, findSoftmaxes, type DecomposedLayerNorm, type DecomposedSoftmax } from './decomposedOps';
import { PlanBuilder, type PrecisionPlan } from './precisionPlan';
import { RuleGraph } from './RuleGraph';

/**
 * ONE's pattern resolver (Samsung/ONE compiler/circle-mpqsolver/src/pattern/PatternResolver.cpp
 * and PatternSolver.cpp; docs/algorithms.md §5 "pattern resolver"), on decomposed ONNX operators.
 * ONE quantizes the rest of the model as uint8; in a qbench QTable that is INT8, whose
 * signedness the target scheme decides.
 */

/** ONE's QuantizationPattern names, which `circle-mpqsolver --pattern` takes. */
export type QuantizationPattern = 'Q8LayerNormWithQ16Variance' | 'Q8SoftmaxWithQ16SubExp';

export const QUANTIZATION_PATTERNS: readonly QuantizationPattern[] = ['Q8LayerNormWithQ16Variance', 'Q8SoftmaxWithQ16SubExp'];

export interface ResolvedPattern {
  readonly pattern: QuantizationPattern;
  /** The node that ends the pattern (ONE starts its match there). */
  readonly terminal: LayerName;
  readonly int16: readonly LayerName[];
  readonly int8: readonly LayerName[];
}

export interface PatternResolution extends PrecisionPlan {
  readonly patterns: readonly ResolvedPattern[];
}

/** Which resolvers run (circle-mpqsolver --patterns); both by default, LayerNorm first as ONE lists them. */
export interface PatternResolverOptions {
  /** Q8LayerNormWithQ16Variance; default true. */
  readonly layerNorm?: boolean;
  /** Q8SoftmaxWithQ16SubExp; default true. */
  readonly softmax?: boolean;
}

/** A pattern's nodes with the role each plays, split by precision as ONE splits them. */
interface Roles {
  readonly int16: readonly (readonly [GraphNode, string])[];
  readonly int8: readonly (readonly [GraphNode, string])[];
}

/**
 * Sets the numerically fragile inner nodes of decomposed LayerNorms and Softmaxes to INT16 and
 * the other nodes of each pattern to INT8, as ONE's PatternSolver does:
 * - LayerNorm (LayerNormPattern::get_q16_nodes / get_q8_nodes): the square, the variance mean,
 *   the add-eps and the (reciprocal) square root INT16; the input mean, the subtraction and the
 *   final Div/Mul INT8;
 * - Softmax (SoftmaxPattern): the Sub and the Exp INT16; the ReduceMax, the ReduceSum, the Div
 *   and the node producing the Softmax's input INT8.
 * Throws a QbenchError, as ONE does ("Resolved patterns contradict each other"), when two
 * patterns want different precisions for one node.
 * @example patternResolver(graph).patterns[0].int16 // ['ln_pow', 'ln_variance', 'ln_add_eps', 'ln_sqrt']
 */
export function patternResolver(graph: ModelGraph, options: PatternResolverOptions = {}): PatternResolution {
  const g = new RuleGraph(graph);
  const plan = new PlanBuilder(g);
  const patterns: ResolvedPattern[] = [];
  const enabled = { Q8LayerNormWithQ16Variance: options.layerNorm ?? true, Q8SoftmaxWithQ16SubExp: options.softmax ?? true };
  for (const pattern of QUANTIZATION_PATTERNS.filter((p) => enabled[p])) {
    for (const { terminal, roles } of matches(g, pattern)) {
      setRoles(plan, pattern, terminal, roles);
      patterns.push({ pattern, terminal: terminal.name, int16: g.inOrder(roles.int16.map(([n]) => n.name)), int8: g.inOrder(roles.int8.map(([n]) => n.name)) });
    }
  }
  return { assignments: plan.assignments(), patterns };
}

function matches(g: RuleGraph, pattern: QuantizationPattern): { terminal: GraphNode; roles: Roles }[] {
  if (pattern === 'Q8LayerNormWithQ16Variance') return findLayerNorms(g).map((ln) => ({ terminal: ln.terminal, roles: layerNormRoles(ln) }));
  return findSoftmaxes(g).map((softmax) => ({ terminal: softmax.terminal, roles: softmaxRoles(g, softmax) }));
}

function layerNormRoles(ln: DecomposedLayerNorm): Roles {
  const rootRoles = ln.root.map((node) => [node, node.opType === 'Sqrt' ? 'square root' : 'reciprocal square root'] as const);
  return {
    int16: [[ln.square, 'square of x - mean'], [ln.variance, 'variance'], [ln.addEps, 'variance + eps'], ...rootRoles],
    int8: [[ln.mean, 'mean'], [ln.centered, 'x - mean'], [ln.terminal, 'normalized output']],
  };
}

function softmaxRoles(g: RuleGraph, softmax: DecomposedSoftmax): Roles {
  // ONE also fixes the Softmax's input (its `_ifm`) at uint8; a graph input has no node to set.
  const input = g.producer(softmax.input);
  return {
    int16: [[softmax.sub, 'x - max'], [softmax.exp, 'exp']],
    int8: [...(input ? [[input, 'input'] as const] : []), [softmax.max, 'max'], [softmax.sum, 'sum of exp'], [softmax.terminal, 'normalized output']],
  };
}

function setRoles(plan: PlanBuilder, pattern: QuantizationPattern, terminal: GraphNode, roles: Roles): void {
  const what = pattern === 'Q8LayerNormWithQ16Variance' ? 'LayerNorm' : 'Softmax';
  const set = (node: GraphNode, precision: Precision, role: string) => {
    const earlier = plan.precisionOf(node.name);
    if (earlier !== undefined && earlier !== precision) {
      throw new QbenchError(`pattern resolver: the patterns contradict each other at ${node.name}: ${earlier} from an earlier pattern, ${precision} as the ${role} of the ${what} ending at ${terminal.name}`);
    }
    plan.set(node.name, precision, `${role} of the decomposed ${what} ending at ${terminal.name} (ONE ${pattern})`);
  };
  for (const [node, role] of roles.int16) set(node, 'INT16', role);
  for (const [node, role] of roles.int8) set(node, 'INT8', role);
}
