import { QbenchError } from '../../errors';
import { findAttribute, intAttr, intAttribute, intsAttribute } from './attributes';
import { AttributeType, int64ToNumber, onnx, type Int64 } from './protobuf';
import { int64VectorProto } from './tensorProto';

/**
 * Rewrites nodes written for ai.onnx opset `from` (>= 11) so that they mean the same under opset
 * `to` (<= 23). Only operators whose signature or semantics changed in that span need it:
 * - Squeeze, Unsqueeze, ReduceSum (13) and the other Reduce* (18): `axes` moves from attribute to input;
 * - Split: `split` moves to an input (13); without it, opset 18 needs `num_outputs`;
 * - Softmax, LogSoftmax, Hardmax (13): the 2-D coercion at `axis` becomes a single axis;
 * - Dropout (12): `ratio` leaves the attributes (inference ignores it);
 * - Scatter (removed after 11): becomes ScatterElements, the same operator renamed.
 * Subgraphs (If, Loop, Scan) are rewritten the same way.
 */
export interface UpgradeContext {
  /** Rank of a tensor where the engine inferred it. */
  rank(tensor: string): number | undefined;
  /** A graph-unique name built from `base`. */
  uniqueName(base: string): string;
}

export interface UpgradedNode {
  readonly nodes: onnx.NodeProto[];
  readonly initializers: onnx.TensorProto[];
}

const REDUCE_AT_18 = new Set(['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']);
const SOFTMAX_FAMILY = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);

function crosses(from: number, to: number, version: number): boolean {
  return from < version && to >= version;
}

function withoutAttribute(node: onnx.NodeProto, name: string): onnx.AttributeProto[] {
  return node.attribute.filter((a) => a.name !== name);
}

function copyNode(node: onnx.NodeProto, changes: Partial<onnx.INodeProto>): onnx.NodeProto {
  return onnx.NodeProto.create({ ...node, ...changes });
}

export function upgradeNode(node: onnx.NodeProto, from: number, to: number, ctx: UpgradeContext): UpgradedNode {
  if (from >= to || (node.domain && node.domain !== 'ai.onnx')) return { nodes: [upgradeSubgraphs(node, from, to)], initializers: [] };
  const op = node.opType;
  const initializers: onnx.TensorProto[] = [];
  const axesToInput = (position: number, attrName: string): onnx.NodeProto => {
    const axes = intsAttribute(node, attrName);
    if (axes === undefined) return copyNode(node, {});
    const name = ctx.uniqueName(`${node.name}_${attrName}`);
    initializers.push(int64VectorProto(name, axes));
    const inputs = [...node.input];
    while (inputs.length < position) inputs.push('');
    inputs[position] = name;
    return copyNode(node, { input: inputs, attribute: withoutAttribute(node, attrName) });
  };

  if ((op === 'Squeeze' || op === 'Unsqueeze' || op === 'ReduceSum') && crosses(from, to, 13)) {
    return { nodes: [axesToInput(1, 'axes')], initializers };
  }
  if (REDUCE_AT_18.has(op) && crosses(from, to, 18)) {
    return { nodes: [axesToInput(1, 'axes')], initializers };
  }
  if (op === 'Split') {
    let upgraded = crosses(from, to, 13) ? axesToInput(1, 'split') : copyNode(node, {});
    if (crosses(from, to, 18) && !upgraded.input[1]) {
      upgraded = copyNode(upgraded, { attribute: [...upgraded.attribute, intAttr('num_outputs', node.output.length)] });
    }
    return { nodes: [upgraded], initializers };
  }
  if (SOFTMAX_FAMILY.has(op) && crosses(from, to, 13)) {
    return { nodes: upgradeSoftmax(node, ctx), initializers };
  }
  if (op === 'Dropout' && crosses(from, to, 12)) {
    return { nodes: [copyNode(node, { attribute: withoutAttribute(node, 'ratio') })], initializers };
  }
  if (op === 'Scatter' && to > 11) {
    return { nodes: [copyNode(node, { opType: 'ScatterElements' })], initializers };
  }
  if (op === 'GroupNormalization' && crosses(from, to, 21)) {
    throw new QbenchError(`node "${node.name}": GroupNormalization changed meaning in opset 21 and qbench cannot convert it from opset ${from}`);
  }
  return { nodes: [upgradeSubgraphs(node, from, to)], initializers };
}

/**
 * Opset < 13 Softmax flattens its input to 2-D at `axis` (default 1) and normalizes each row.
 * Where the axis is the last one that is the same as the new single-axis Softmax; otherwise the
 * old meaning is spelled out: Flatten(axis) -> Softmax(-1) -> Reshape(back to the input's shape).
 */
function upgradeSoftmax(node: onnx.NodeProto, ctx: UpgradeContext): onnx.NodeProto[] {
  const axis = intAttribute(node, 'axis', 1);
  const rank = ctx.rank(node.input[0]);
  const attrs = withoutAttribute(node, 'axis');
  if (rank !== undefined && (axis === rank - 1 || axis === -1)) {
    return [copyNode(node, { attribute: [...attrs, intAttr('axis', -1)] })];
  }
  const x = node.input[0];
  const y = node.output[0];
  const flat = ctx.uniqueName(`${node.name}_flat`);
  const shape = ctx.uniqueName(`${node.name}_shape`);
  const soft = ctx.uniqueName(`${node.name}_2d`);
  return [
    onnx.NodeProto.create({ name: ctx.uniqueName(`${node.name}/Shape`), opType: 'Shape', input: [x], output: [shape] }),
    onnx.NodeProto.create({ name: ctx.uniqueName(`${node.name}/Flatten`), opType: 'Flatten', input: [x], output: [flat], attribute: [intAttr('axis', axis)] }),
    copyNode(node, { input: [flat], output: [soft], attribute: [...attrs, intAttr('axis', -1)] }),
    onnx.NodeProto.create({ name: ctx.uniqueName(`${node.name}/Reshape`), opType: 'Reshape', input: [soft, shape], output: [y] }),
  ];
}

function upgradeSubgraphs(node: onnx.NodeProto, from: number, to: number): onnx.NodeProto {
  const hasGraph = node.attribute.some((a) => a.type === AttributeType.GRAPH || a.type === AttributeType.GRAPHS);
  if (!hasGraph || from >= to) return node;
  const attribute = node.attribute.map((a) => {
    if (a.type === AttributeType.GRAPH && a.g) return onnx.AttributeProto.create({ ...a, g: upgradeGraph(onnx.GraphProto.create(a.g), from, to) });
    if (a.type === AttributeType.GRAPHS) return onnx.AttributeProto.create({ ...a, graphs: a.graphs.map((g) => upgradeGraph(onnx.GraphProto.create(g), from, to)) });
    return a;
  });
  return copyNode(node, { attribute });
}

/** Upgrades every node of a (sub)graph; ranks are unknown there, so Softmax takes the general form. */
export function upgradeGraph(graph: onnx.GraphProto, from: number, to: number): onnx.GraphProto {
  const taken = new Set<string>([...graph.node.flatMap((n) => [n.name, ...n.output]), ...graph.initializer.map((t) => t.name)]);
  const ctx: UpgradeContext = {
    rank: () => undefined,
    uniqueName(base) {
      let name = base;
      for (let k = 2; taken.has(name); k++) name = `${base}_${k}`;
      taken.add(name);
      return name;
    },
  };
  const nodes: onnx.NodeProto[] = [];
  const initializers = [...graph.initializer];
  for (const node of graph.node) {
    const upgraded = upgradeNode(node, from, to, ctx);
    nodes.push(...upgraded.nodes);
    initializers.push(...upgraded.initializers);
  }
  return onnx.GraphProto.create({ ...graph, node: nodes, initializer: initializers });
}

/** The ai.onnx opset a model needs to be written at, and the IR version that goes with it. */
export function irVersionFor(opset: number, current: Int64 | null | undefined): number {
  const needed = opset >= 21 ? 10 : opset >= 19 ? 9 : opset >= 15 ? 8 : 7;
  return Math.max(needed, int64ToNumber(current));
}

/** Whether a node carries the given attribute (for tests and passes). */
export function hasAttribute(node: onnx.INodeProto, name: string): boolean {
  return findAttribute(node, name) !== undefined;
}
