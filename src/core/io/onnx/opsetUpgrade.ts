import { QbenchError } from '../../errors';
import { float32ToFloat16Bits } from '../../model/float16';
import { findAttribute, int64sAttribute, intAttr, intAttribute, intsAttribute, stringAttr, stringAttribute } from './attributes';
import { AttributeType, DataType, int64ToNumber, onnx, type Int64 } from './protobuf';
import { int64VectorProto, makeTensorProto, readTensorProto } from './tensorProto';

/**
 * Rewrites nodes written for ai.onnx opset `from` (>= 7) so that they mean the same under opset
 * `to` (<= 23), following the ONNX version converter (onnx/version_converter/convert.h and its
 * adapters). Only operators whose signature or meaning changed in that span need it:
 * - BatchNormalization (9): `spatial` leaves; spatial=1 (the default) is what every later opset
 *   computes, spatial=0 cannot be converted and is refused; `is_test`/`consumed_inputs` leave;
 * - Upsample: `scales` moves from attribute (7) to input (9); Upsample becomes Resize (10);
 * - Resize (11): the 10 form (X, scales) becomes (X, roi, scales) with
 *   coordinate_transformation_mode=asymmetric and, for nearest, nearest_mode=floor (ceil where a
 *   scale is below 1): what Upsample and Resize-10 compute (onnxruntime's upsamplebase.h), where
 *   the converter's own Resize_10_11 would switch to half_pixel;
 * - Slice (10): `starts`, `ends`, `axes` move to int64 inputs; TopK (10): `k` moves to an input;
 * - Clip (11): `min`/`max` move to scalar inputs ('' for an absent min); Pad (11): `pads` moves to
 *   an int64 input and, in constant mode, `value` to a scalar input;
 * - Scatter (deprecated at 11): becomes ScatterElements, the same operator renamed;
 * - Scan 8 (batch-major, with sequence_lens) is not converted: refused;
 * - Squeeze, Unsqueeze, ReduceSum (13) and the other Reduce* (18): `axes` moves from attribute to input;
 * - Split: `split` moves to an input (13); without it, opset 18 needs `num_outputs`;
 * - Softmax, LogSoftmax, Hardmax (13): the 2-D coercion at `axis` becomes a single axis;
 * - Dropout (12): `ratio` (and `is_test`) leave the attributes (inference ignores them);
 * - RoiAlign (16): the implied output_half_pixel coordinates become explicit;
 * - GroupNormalization (21): changed meaning; refused.
 * Every other operator is signature-compatible between 7 and 13: the converter registers a
 * CompatibleAdapter for it, or an adapter that only widens types or broadcasting (Max, Min, Mean
 * and Sum at 8), or adds attributes and optional inputs whose defaults keep the old meaning
 * (MaxPool/AveragePool ceil_mode at 10, ArgMax select_last_index at 12, ...).
 * Subgraphs (If, Loop, Scan) are rewritten the same way.
 */
export interface UpgradeContext {
  /** Rank of a tensor where the engine inferred it or the model declares it. */
  rank(tensor: string): number | undefined;
  /** A graph-unique name built from `base`. */
  uniqueName(base: string): string;
  /** The values of a float tensor the graph holds as a constant (Resize scales), where known. */
  constantFloats?(tensor: string): readonly number[] | undefined;
  /** The element type (TensorProto.DataType) of a tensor where the model declares it. */
  elemType?(tensor: string): number | undefined;
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

function withoutAttribute(node: onnx.NodeProto, ...names: string[]): onnx.AttributeProto[] {
  return node.attribute.filter((a) => !names.includes(a.name));
}

function copyNode(node: onnx.NodeProto, changes: Partial<onnx.INodeProto>): onnx.NodeProto {
  return onnx.NodeProto.create({ ...node, ...changes });
}

/** A float scalar (or vector) of the tensor's declared float type; float32 where undeclared. */
function floatTensor(name: string, values: readonly number[], elemType: number | undefined, dims: number[] = [values.length]): onnx.TensorProto {
  if (elemType === DataType.DOUBLE) return makeTensorProto(name, { dtype: 'float64', dims, data: Float64Array.from(values) });
  if (elemType === DataType.FLOAT16) return makeTensorProto(name, { dtype: 'float16', dims, data: float32ToFloat16Bits(values) });
  return makeTensorProto(name, { dtype: 'float32', dims, data: Float32Array.from(values) });
}

/** Operators whose upgrade reads `node.input[0]` (the tensor they act on) to build the new node. */
const REWRITTEN_FROM_DATA_INPUT = new Set(['Upsample', 'Resize', 'Slice', 'TopK', 'Clip', 'Pad', 'Softmax', 'LogSoftmax', 'Hardmax']);

export function upgradeNode(node: onnx.NodeProto, from: number, to: number, ctx: UpgradeContext): UpgradedNode {
  if (from >= to || (node.domain && node.domain !== 'ai.onnx')) return { nodes: [upgradeSubgraphs(node, from, to, ctx)], initializers: [] };
  const op = node.opType;
  // The rewrites below rebuild these operators' inputs from their data input: a damaged node without
  // one would become a node whose input is undefined, which no engine (nor protobuf's encoder) takes.
  if (REWRITTEN_FROM_DATA_INPUT.has(op) && !node.input[0]) {
    throw new QbenchError(`node "${node.name}" (${op}) has no data input (its first input is missing or empty); the model is damaged`);
  }
  const initializers: onnx.TensorProto[] = [];
  const base = node.name || node.output[0] || op;
  /** A new initializer named after the node; returns its name. */
  const addInitializer = (suffix: string, make: (name: string) => onnx.TensorProto): string => {
    const name = ctx.uniqueName(`${base}_${suffix}`);
    initializers.push(make(name));
    return name;
  };
  const axesToInput = (position: number, attrName: string): onnx.NodeProto => {
    const axes = intsAttribute(node, attrName);
    if (axes === undefined) return copyNode(node, {});
    const name = addInitializer(attrName, (n) => int64VectorProto(n, axes));
    const inputs = [...node.input];
    while (inputs.length < position) inputs.push('');
    inputs[position] = name;
    return copyNode(node, { input: inputs, attribute: withoutAttribute(node, attrName) });
  };
  const done = (...nodes: onnx.NodeProto[]): UpgradedNode => ({ nodes, initializers });

  // ---- 7 .. 11
  if (op === 'BatchNormalization' && crosses(from, to, 9)) {
    const spatial = intAttribute(node, 'spatial', 1);
    if (spatial !== 1) {
      throw new QbenchError(`node "${node.name}": BatchNormalization with spatial=${spatial} (statistics per element, not per channel) cannot be converted to opset 9 or later, which dropped the attribute`);
    }
    return done(copyNode(node, { attribute: withoutAttribute(node, 'spatial', 'is_test', 'consumed_inputs') }));
  }
  if (op === 'Scan' && crosses(from, to, 9)) {
    throw new QbenchError(`node "${node.name}": Scan of opset 8 (batch-major, with a sequence_lens input) cannot be converted to opset 9 or later; qbench does not convert it`);
  }
  if ((op === 'Upsample' && from < 11 && to >= 9) || (op === 'Resize' && crosses(from, to, 11))) {
    return done(...upgradeUpsample(node, to, ctx, addInitializer));
  }
  if (op === 'Slice' && crosses(from, to, 10)) {
    const inputs = [node.input[0]];
    for (const attr of ['starts', 'ends', 'axes']) {
      const values = int64sAttribute(node, attr);
      if (values) inputs.push(addInitializer(attr, (n) => int64VectorProto(n, values)));
    }
    return done(copyNode(node, { input: inputs, attribute: withoutAttribute(node, 'starts', 'ends', 'axes') }));
  }
  if (op === 'TopK' && crosses(from, to, 10)) {
    const k = findAttribute(node, 'k');
    if (!k) return done(copyNode(node, {}));
    const kInput = addInitializer('k', (n) => int64VectorProto(n, [BigInt(String(k.i ?? 0))]));
    return done(copyNode(node, { input: [node.input[0], kInput], attribute: withoutAttribute(node, 'k') }));
  }
  if (op === 'Clip' && crosses(from, to, 11)) {
    const min = findAttribute(node, 'min');
    const max = findAttribute(node, 'max');
    const type = ctx.elemType?.(node.input[0]);
    const inputs = [node.input[0]];
    if (min || max) inputs.push(min ? addInitializer('min', (n) => floatTensor(n, [min.f ?? 0], type, [])) : '');
    if (max) inputs.push(addInitializer('max', (n) => floatTensor(n, [max.f ?? 0], type, [])));
    return done(copyNode(node, { input: inputs, attribute: withoutAttribute(node, 'min', 'max') }));
  }
  if (op === 'Pad' && crosses(from, to, 11)) {
    const pads = int64sAttribute(node, 'pads') ?? [];
    const inputs = [node.input[0], addInitializer('pads', (n) => int64VectorProto(n, pads))];
    if (stringAttribute(node, 'mode', 'constant') === 'constant') {
      const value = findAttribute(node, 'value')?.f ?? 0;
      inputs.push(addInitializer('value', (n) => floatTensor(n, [value], ctx.elemType?.(node.input[0]), [])));
    }
    return done(copyNode(node, { input: inputs, attribute: withoutAttribute(node, 'pads', 'value') }));
  }
  if (op === 'Scatter' && to >= 11) {
    return done(copyNode(node, { opType: 'ScatterElements' }));
  }

  // ---- 11 .. 23
  if ((op === 'Squeeze' || op === 'Unsqueeze' || op === 'ReduceSum') && crosses(from, to, 13)) {
    return done(axesToInput(1, 'axes'));
  }
  if (REDUCE_AT_18.has(op) && crosses(from, to, 18)) {
    return done(axesToInput(1, 'axes'));
  }
  if (op === 'Split') {
    let upgraded = crosses(from, to, 13) ? axesToInput(1, 'split') : copyNode(node, {});
    if (crosses(from, to, 18) && !upgraded.input[1]) {
      upgraded = copyNode(upgraded, { attribute: [...upgraded.attribute, intAttr('num_outputs', node.output.length)] });
    }
    return done(upgraded);
  }
  if (SOFTMAX_FAMILY.has(op) && crosses(from, to, 13)) {
    return done(...upgradeSoftmax(node, ctx));
  }
  if (op === 'Dropout' && crosses(from, to, 12)) {
    return done(copyNode(node, { attribute: withoutAttribute(node, 'ratio', 'is_test') }));
  }
  if (op === 'RoiAlign' && crosses(from, to, 16) && !findAttribute(node, 'coordinate_transformation_mode')) {
    return done(copyNode(node, { attribute: [...node.attribute, stringAttr('coordinate_transformation_mode', 'output_half_pixel')] }));
  }
  if (op === 'GroupNormalization' && crosses(from, to, 21)) {
    throw new QbenchError(`node "${node.name}": GroupNormalization changed meaning in opset 21 and qbench cannot convert it from opset ${from}`);
  }
  return { nodes: [upgradeSubgraphs(node, from, to, ctx)], initializers };
}

/**
 * Upsample (7: scales attribute; 9: scales input) and Resize-10 to the form of opset `to`. Before
 * opset 11 both map output to input coordinates as x / scale (asymmetric) and, for nearest, take
 * floor(x / scale) where the scale is >= 1 and ceil(x / scale) where it is below 1 (onnxruntime's
 * SIMPLE nearest mode; Upsample scales are >= 1 by definition). Resize-11's nearest_mode is one for
 * every axis: with known scales that shrink some axes and grow others, the node becomes two Resize
 * (floor on the grown axes, then ceil on the shrunk ones: nearest sampling is separable). Scales
 * computed at run time are taken to upsample (floor), which is what Upsample and nearly every
 * Resize-10 does.
 */
function upgradeUpsample(node: onnx.NodeProto, to: number, ctx: UpgradeContext, addInitializer: (suffix: string, make: (name: string) => onnx.TensorProto) => string): onnx.NodeProto[] {
  const x = node.input[0];
  const attribute = withoutAttribute(node, 'scales');
  const scalesAttr = findAttribute(node, 'scales');
  let values: readonly number[] | undefined;
  let scales: string;
  if (scalesAttr) {
    values = [...(scalesAttr.floats ?? [])];
    scales = addInitializer('scales', (n) => floatTensor(n, values!, DataType.FLOAT));
  } else {
    scales = node.input[1] ?? '';
    values = scales ? ctx.constantFloats?.(scales) : undefined;
  }
  if (to < 10) return [copyNode(node, { input: [x, scales], attribute })];
  if (to < 11) return [copyNode(node, { opType: 'Resize', input: [x, scales], attribute })];

  const nearest = stringAttribute(node, 'mode', 'nearest') === 'nearest';
  const roi = to >= 13 ? '' : addInitializer('roi', (n) => floatTensor(n, [], DataType.FLOAT));
  const resize = (input: string, scalesName: string, nearestMode: string, changes: Partial<onnx.INodeProto> = {}) => copyNode(node, {
    opType: 'Resize',
    input: [input, roi, scalesName],
    attribute: [
      ...withoutAttribute(node, 'scales', 'coordinate_transformation_mode', 'nearest_mode'),
      stringAttr('coordinate_transformation_mode', 'asymmetric'),
      ...(nearest ? [stringAttr('nearest_mode', nearestMode)] : []),
    ],
    ...changes,
  });
  if (!nearest || !values || values.every((s) => s >= 1)) return [resize(x, scales, 'floor')];
  if (values.every((s) => s <= 1)) return [resize(x, scales, 'ceil')];
  const grow = addInitializer('scales_up', (n) => floatTensor(n, values!.map((s) => Math.max(s, 1)), DataType.FLOAT));
  const shrink = addInitializer('scales_down', (n) => floatTensor(n, values!.map((s) => Math.min(s, 1)), DataType.FLOAT));
  const grown = ctx.uniqueName(`${node.output[0]}_up`);
  return [
    resize(x, grow, 'floor', { name: ctx.uniqueName(`${node.name || node.output[0]}/up`), output: [grown] }),
    resize(grown, shrink, 'ceil'),
  ];
}

/**
 * Opset < 13 Softmax flattens its input to 2-D at `axis` (default 1) and normalizes each row.
 * Where the axis is the last one that is the same as the new single-axis Softmax; otherwise the
 * old meaning is spelled out: Flatten(axis) -> Softmax(-1) -> Reshape(back to the input's shape).
 * Softmax keeps the shape, so a declared output rank gives the input's rank too.
 */
function upgradeSoftmax(node: onnx.NodeProto, ctx: UpgradeContext): onnx.NodeProto[] {
  const axis = intAttribute(node, 'axis', 1);
  const rank = ctx.rank(node.input[0]) ?? ctx.rank(node.output[0]);
  const attrs = withoutAttribute(node, 'axis');
  if (axis === -1 || (rank !== undefined && axis === rank - 1)) {
    return [copyNode(node, { attribute: [...attrs, intAttr('axis', -1)] })];
  }
  const x = node.input[0];
  const y = node.output[0];
  const base = node.name || y;
  const flat = ctx.uniqueName(`${base}_flat`);
  const shape = ctx.uniqueName(`${base}_shape`);
  const soft = ctx.uniqueName(`${base}_2d`);
  return [
    onnx.NodeProto.create({ name: ctx.uniqueName(`${base}/Shape`), opType: 'Shape', input: [x], output: [shape] }),
    onnx.NodeProto.create({ name: ctx.uniqueName(`${base}/Flatten`), opType: 'Flatten', input: [x], output: [flat], attribute: [intAttr('axis', axis)] }),
    copyNode(node, { input: [flat], output: [soft], attribute: [...attrs, intAttr('axis', -1)] }),
    onnx.NodeProto.create({ name: ctx.uniqueName(`${base}/Reshape`), opType: 'Reshape', input: [soft, shape], output: [y] }),
  ];
}

function upgradeSubgraphs(node: onnx.NodeProto, from: number, to: number, ctx: UpgradeContext): onnx.NodeProto {
  const hasGraph = node.attribute.some((a) => a.type === AttributeType.GRAPH || a.type === AttributeType.GRAPHS);
  if (!hasGraph || from >= to) return node;
  const attribute = node.attribute.map((a) => {
    if (a.type === AttributeType.GRAPH && a.g) return onnx.AttributeProto.create({ ...a, g: upgradeGraph(onnx.GraphProto.create(a.g), from, to, ctx) });
    if (a.type === AttributeType.GRAPHS) return onnx.AttributeProto.create({ ...a, graphs: a.graphs.map((g) => upgradeGraph(onnx.GraphProto.create(g), from, to, ctx)) });
    return a;
  });
  return copyNode(node, { attribute });
}

/** Every name a graph and its subgraphs define or read: nodes, tensors, initializers. */
function namesIn(graph: onnx.IGraphProto, out = new Set<string>()): Set<string> {
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? []), ...(graph.initializer ?? [])]) if (v.name) out.add(v.name);
  for (const node of graph.node ?? []) {
    if (node.name) out.add(node.name);
    for (const t of [...(node.input ?? []), ...(node.output ?? [])]) if (t) out.add(t);
    for (const attr of node.attribute ?? []) for (const g of [attr.g, ...(attr.graphs ?? [])]) if (g) namesIn(g, out);
  }
  return out;
}

/** Ranks, element types and constant float values the graph itself declares. */
function declaredInfo(graph: onnx.IGraphProto) {
  const types = new Map<string, { rank?: number; elemType?: number }>();
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) {
    const tensorType = v.type?.tensorType;
    if (!tensorType || !v.name) continue;
    types.set(v.name, { rank: tensorType.shape ? (tensorType.shape.dim ?? []).length : undefined, elemType: tensorType.elemType || undefined });
  }
  const constants = new Map<string, onnx.ITensorProto>();
  for (const init of graph.initializer ?? []) {
    if (!init.name) continue;
    constants.set(init.name, init);
    types.set(init.name, { rank: (init.dims ?? []).length, elemType: init.dataType ?? undefined });
  }
  for (const node of graph.node ?? []) {
    const attrs = node.attribute ?? [];
    const value = node.opType === 'Constant' && (!node.domain || node.domain === 'ai.onnx') && attrs.length === 1 ? attrs[0] : undefined;
    const output = node.output?.[0];
    if (!value || !output) continue;
    if (value.name === 'value' && value.t) constants.set(output, value.t);
    if (value.name === 'value_floats') constants.set(output, { dims: [(value.floats ?? []).length], dataType: DataType.FLOAT, floatData: value.floats ?? [] });
  }
  const constantFloats = (name: string): number[] | undefined => {
    const proto = constants.get(name);
    if (!proto || (proto.dataType !== DataType.FLOAT && proto.dataType !== DataType.DOUBLE)) return undefined;
    try {
      return Array.from(readTensorProto(proto, '').data as Float32Array | Float64Array);
    } catch {
      return undefined; // external or damaged: treated as unknown
    }
  };
  return { types, constantFloats };
}

/**
 * Upgrades every node of a (sub)graph. Ranks and element types come from the shapes the graph
 * declares (inputs, outputs, value_info, initializers), then from `parent` for names of the outer
 * graph; where none gives the rank, Softmax takes the general form. New names are unique in the
 * graph, its subgraphs and (through `parent`) the graphs around it.
 */
export function upgradeGraph(graph: onnx.GraphProto, from: number, to: number, parent?: UpgradeContext): onnx.GraphProto {
  const taken = namesIn(graph);
  const { types, constantFloats } = declaredInfo(graph);
  // names this graph defines; any other name a node reads comes from the graphs around it
  const local = new Set([...(graph.input ?? []).map((v) => v.name), ...(graph.initializer ?? []).map((t) => t.name), ...(graph.node ?? []).flatMap((n) => n.output)]);
  const ctx: UpgradeContext = {
    rank: (t) => (types.has(t) ? types.get(t)!.rank : local.has(t) ? undefined : parent?.rank(t)),
    elemType: (t) => (types.has(t) ? types.get(t)!.elemType : local.has(t) ? undefined : parent?.elemType?.(t)),
    constantFloats: (t) => (local.has(t) ? constantFloats(t) : parent?.constantFloats?.(t)),
    uniqueName(base) {
      for (let k = 1; ; k++) {
        const name = parent ? parent.uniqueName(base) : k === 1 ? base : `${base}_${k}`;
        if (!taken.has(name)) {
          taken.add(name);
          return name;
        }
      }
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
