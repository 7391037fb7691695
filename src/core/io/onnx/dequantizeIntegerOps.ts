import type { CaliEntry } from '../../model/CaliTable';
import { graphNames, nameAllocator } from './GraphWriter';
import { QbenchError } from '../../errors';
import { findAttribute, intAttribute } from './attributes';
import { aiOnnxOpset } from './OnnxModel';
import { DataType, onnx } from './protobuf';
import { dequantizeQdq, dequantizeValues, FUSES_RELU, quantizerRange, restoredActivation, type Dequantized, type QuantizedForm } from './quantizedForm';
import { makeTensorProto, readTensorProto } from './tensorProto';

/** The float model of a QOperator or dynamic-quantized model, and the activation ranges it held. */
export interface DequantizedIntegerOps {
  readonly proto: onnx.ModelProto;
  /** Each statically quantized activation's range, as an imported calibration (none for dynamic quantization). */
  readonly ranges: ReadonlyMap<string, CaliEntry>;
  /** What became what, with counts: "QLinearConv x3 → Conv". */
  readonly rewritten: readonly string[];
  readonly rewrittenNodes: number;
  /** QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear nodes removed. */
  readonly removedQuantizers: number;
  readonly dequantizedWeights: number;
  /** Relus put back where an output quantizer's range started at 0 (onnxruntime folds Relu/Clip there). */
  readonly restoredRelus: number;
  /** Clip(0, n)s put back where that range also ended at a whole number n (Relu6, hardswish). */
  readonly restoredClips: number;
  /**
   * The layers the file computes in float (the operators its quantizer left alone, with
   * DequantizeLinear before and QuantizeLinear after): FP32 in a QTable that re-quantizes the
   * float model as the file is quantized.
   */
  readonly floatLayers: readonly string[];
}

/** An input of the float operator: an integer tensor with its scale and zero point, a float tensor as it is, or an int32 bias. */
type FloatInput =
  | { readonly kind: 'integer'; readonly tensor: string; readonly scale: string; readonly zeroPoint: string; /** Axis of a per-channel scale when the tensor is stored, from its rank. */ readonly axis: (rank: number) => number }
  | { readonly kind: 'float'; readonly tensor: string }
  | { readonly kind: 'bias'; readonly tensor: string; readonly inputScale: string; readonly weightScale: string; readonly factor: number };

/** A node the float model computes in place of an integer one. */
interface FloatStep {
  readonly kind: 'float';
  readonly source: onnx.NodeProto;
  readonly op: string;
  readonly inputs: readonly FloatInput[];
  /** The tensor it writes (the integer output's name, or the float one the integer chain ended in). */
  readonly output: string;
  readonly attributes: readonly onnx.IAttributeProto[];
  /** A float bias added after the operator (MatMulIntegerToFloat, DynamicQuantizeMatMul). */
  readonly addBias?: string;
}

/** A node kept as it is, reading float values where it read integer ones (MaxPool, Reshape, Pad...). */
interface KeptStep {
  readonly kind: 'keep';
  readonly node: onnx.NodeProto;
}

/** An integer operator's float form, before names are settled. */
interface QLinearPlan {
  readonly op: string;
  readonly inputs: readonly FloatInput[];
  /** Scale and zero point of the integer output; null when the output is float (QGemm without y_scale). */
  readonly output: readonly [string, string] | null;
  readonly attributes: readonly onnx.IAttributeProto[];
  /**
   * onnxruntime's QOperator quantizer drops a Relu/Clip after any quantized operator, its range
   * given to the operator's output; one is put back after the operators a Relu follows in practice
   * (not after a Mul or a pooling whose values merely happened to be non-negative).
   */
  readonly fusesRelu: boolean;
}

/** Integer operators de-quantization turns back into float ones (docs/formats.md, "Models"). */
export const DEQUANTIZED_OPERATORS = [
  'QLinearConv', 'QLinearMatMul', 'QGemm', 'QLinearAdd', 'QLinearMul', 'QLinearSigmoid', 'QLinearLeakyRelu', 'QLinearConcat',
  'QLinearGlobalAveragePool', 'QLinearAveragePool', 'QLinearSoftmax', 'QLinearWhere',
  'ConvInteger', 'MatMulInteger', 'MatMulIntegerToFloat', 'DynamicQuantizeMatMul',
] as const;

const INTEGER_OPERATOR = /^QLinear|^QGemm$|^QAttention$|^QEmbedLayerNormalization$|^QOrdered|Integer|^DynamicQuantize/;

/**
 * Operators that move values without computing new ones: on an integer tensor they run unchanged on
 * its float values. `data`: the inputs that carry the quantized values; `outputs`: the outputs that
 * do (all when absent; none for Shape, ArgMax...).
 */
const STRUCTURAL: Record<string, { readonly data: 'all' | readonly number[]; readonly outputs?: readonly number[] }> = {
  MaxPool: { data: [0], outputs: [0] }, Reshape: { data: [0] }, Transpose: { data: [0] }, Flatten: { data: [0] },
  Squeeze: { data: [0] }, Unsqueeze: { data: [0] }, Concat: { data: 'all' }, Resize: { data: [0] }, Split: { data: [0] },
  Slice: { data: [0] }, Pad: { data: [0, 2] }, Gather: { data: [0] }, GatherElements: { data: [0] }, GatherND: { data: [0] },
  Expand: { data: [0] }, Tile: { data: [0] }, DepthToSpace: { data: [0] }, SpaceToDepth: { data: [0] }, Identity: { data: [0] },
  ReduceMax: { data: [0] }, ReduceMin: { data: [0] }, TopK: { data: [0], outputs: [0] },
  Shape: { data: [0], outputs: [] }, Size: { data: [0], outputs: [] }, ArgMax: { data: [0], outputs: [] }, ArgMin: { data: [0], outputs: [] },
};

const INTEGER_TYPES = new Set<number>([DataType.INT8, DataType.UINT8]);

/**
 * Turns a QOperator or dynamic-quantized model, as onnxruntime's quantizer writes them, back into
 * the float model it was made from (issue #9):
 * - each integer operator becomes its float operator (QLinearConv -> Conv with the stored weights
 *   dequantized and the int32 bias times x_scale * w_scale, QLinearAdd -> Add, QGemm -> Gemm...);
 * - QuantizeLinear/DequantizeLinear on activations go, and each quantized tensor's (scale, zero
 *   point) becomes its range in an imported calibration, as the QDQ path does;
 * - integer tensors passing through MaxPool, Reshape, Pad, Concat... stay where they are, as float;
 * - DynamicQuantizeLinear + ConvInteger/MatMulInteger + Cast + Mul (+ the bias Reshape/Add) become
 *   Conv/MatMul with the stored weights dequantized; dynamic quantization holds no activation ranges;
 * - where an output quantizer's range starts at 0, the Relu (or Clip(0, n)) onnxruntime folded into
 *   it is put back (restoredActivation);
 * - the nodes the file computes in float are listed (`floatLayers`), to re-quantize it as it is.
 * Anything else of the integer form (an operator this list lacks, an integer tensor read by an
 * operator that computes on it) is refused with the node named: never a wrong model.
 */
export function dequantizeIntegerOps(model: onnx.ModelProto, fileName: string): DequantizedIntegerOps {
  const graph = model.graph!;
  const opset = aiOnnxOpset(model) ?? 13;
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const producer = new Map<string, onnx.NodeProto>();
  for (const n of graph.node) for (const o of n.output) if (o) producer.set(o, n);
  const consumers = new Map<string, onnx.NodeProto[]>();
  for (const n of graph.node) for (const i of n.input) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const graphInputs = new Set(graph.input.map((i) => i.name));
  const graphOutputs = graph.output.map((o) => o.name);
  const refuse = (message: string): never => { throw new QbenchError(`${message}; qbench cannot de-quantize this model`, fileName); };
  const label = (n: onnx.NodeProto) => `${n.opType} "${n.name || n.output[0]}"`;
  const isInitializer = (t: string) => initializers.has(t);
  const isIntegerInitializer = (t: string) => INTEGER_TYPES.has(initializers.get(t)?.dataType ?? -1);

  // What the integer form holds: the integer tensors, the (scale, zero point) each is written or read
  // with, which names hold one value (Q/DQ), and which share quantization parameters (MaxPool in/out).
  const integer = new Set<string>();
  const values = new UnionFind();
  const params = new UnionFind();
  const declared = new Map<string, Declaration[]>();
  const declare = (tensor: string, d: Declaration) => {
    declared.set(tensor, [...(declared.get(tensor) ?? []), d]);
    params.add(tensor);
  };
  const steps: (FloatStep | KeptStep)[] = [];
  const reluCandidates = new Set<string>();
  const rewrittenCount = new Map<string, number>();
  const absorbed = new Set<onnx.NodeProto>();
  const floatLayers: string[] = [];
  let removedQuantizers = 0;

  // Dynamic quantization: each ConvInteger/MatMulInteger with the Cast, the scale Muls and the bias
  // Reshape/Add that onnxruntime's quantize_dynamic writes around it, found before the main walk
  // (the scales' Mul may come before the integer operator in the node order).
  const dynamic = new Map<onnx.NodeProto, FloatStep>();
  const scaleMuls = new Set<onnx.NodeProto>();
  for (const node of graph.node) {
    if (node.opType !== 'ConvInteger' && node.opType !== 'MatMulInteger') continue;
    const chain = matchIntegerChain(node);
    dynamic.set(node, chain.step);
    for (const n of chain.absorbed) absorbed.add(n);
    scaleMuls.add(chain.scaleMul);
  }
  for (const mul of scaleMuls) if ((consumers.get(mul.output[0]) ?? []).every((c) => absorbed.has(c))) absorbed.add(mul);

  for (const node of graph.node) {
    if (absorbed.has(node)) continue;
    const op = node.opType;
    if (op === 'QuantizeLinear') {
      const [x, scale, zeroPoint] = node.input;
      requireStatic(node, scale, zeroPoint);
      integer.add(node.output[0]);
      values.union(node.output[0], x);
      params.union(node.output[0], x);
      declare(node.output[0], { scale, zeroPoint: zeroPoint ?? '', dynamic: false, by: node });
      removedQuantizers++;
    } else if (op === 'DequantizeLinear') {
      const [x, scale, zeroPoint] = node.input;
      requireStatic(node, scale, zeroPoint);
      if (isInitializer(x)) {
        // A stored tensor dequantized in the graph (a QDQ weight): it becomes a float initializer.
        const axis = intAttribute(node, 'axis', 1);
        steps.push({ kind: 'float', source: node, op: 'Constant', inputs: [{ kind: 'integer', tensor: x, scale, zeroPoint: zeroPoint ?? '', axis: () => axis }], output: node.output[0], attributes: [] });
      } else {
        if (!integer.has(x)) refuse(`${label(node)} reads "${x}", which no quantizer in the model writes (an integer graph input?)`);
        values.union(node.output[0], x);
        params.union(node.output[0], x);
        declare(x, { scale, zeroPoint: zeroPoint ?? '', dynamic: false, by: node });
      }
      removedQuantizers++;
    } else if (op === 'DynamicQuantizeLinear') {
      const [y, scale, zeroPoint] = node.output;
      integer.add(y);
      values.union(y, node.input[0]);
      params.union(y, node.input[0]);
      declare(y, { scale, zeroPoint, dynamic: true, by: node });
      removedQuantizers++;
    } else if (dynamic.has(node)) {
      const step = dynamic.get(node)!;
      for (const input of step.inputs) if (input.kind === 'integer' && !isInitializer(input.tensor) && !integer.has(input.tensor)) refuse(`${label(node)} reads "${input.tensor}", which no quantizer in the model writes`);
      steps.push(step);
      count(op, step.op);
    } else if (op === 'MatMulIntegerToFloat' || op === 'DynamicQuantizeMatMul') {
      const step = matMulToFloat(node);
      steps.push(step);
      count(op, 'MatMul');
    } else if (QLINEAR.has(op)) {
      const plan = QLINEAR.get(op)!(node, opset, refuse);
      for (const input of plan.inputs) {
        if (input.kind !== 'integer') continue;
        requireStatic(node, input.scale, input.zeroPoint);
        if (isInitializer(input.tensor)) continue;
        if (!integer.has(input.tensor)) refuse(`${label(node)} reads "${input.tensor}" as an integer tensor, but no quantizer in the model writes it (an integer graph input?)`);
        declare(input.tensor, { scale: input.scale, zeroPoint: input.zeroPoint, dynamic: false, by: node });
      }
      const output = node.output[0];
      if (plan.output) {
        requireStatic(node, plan.output[0], plan.output[1]);
        integer.add(output);
        declare(output, { scale: plan.output[0], zeroPoint: plan.output[1], dynamic: false, by: node });
        if (plan.fusesRelu) reluCandidates.add(output);
      }
      steps.push({ kind: 'float', source: node, op: plan.op, inputs: plan.inputs, output, attributes: plan.attributes });
      count(op, plan.op);
    } else if (INTEGER_OPERATOR.test(op)) {
      refuse(`de-quantizing ${op} is not supported (node "${node.name || node.output[0]}"); qbench turns ${DEQUANTIZED_OPERATORS.join(', ')} back into float operators`);
    } else {
      const structural = STRUCTURAL[op];
      const dataInputs = structural ? node.input.map((t, i) => [t, i] as const).filter(([t, i]) => t && (structural.data === 'all' || structural.data.includes(i))) : [];
      const integerData = dataInputs.filter(([t]) => integer.has(t) || isIntegerInitializer(t));
      if (structural && integerData.some(([t]) => integer.has(t))) {
        const first = integerData.find(([t]) => integer.has(t))![0];
        for (const [t] of integerData) params.union(t, first);
        node.output.forEach((o, i) => {
          if (o && (!structural.outputs || structural.outputs.includes(i))) {
            integer.add(o);
            params.union(o, first);
          }
        });
      } else {
        const read = node.input.find((t) => integer.has(t));
        if (read) refuse(`${label(node)} computes on the integer tensor "${read}" (written by ${label(producer.get(read)!)}), which has no float form`);
        floatLayers.push(node.name);
      }
      steps.push({ kind: 'keep', node });
    }
  }
  for (const o of graphOutputs) if (integer.has(o)) refuse(`the graph output "${o}" is an integer tensor; qbench de-quantizes models whose outputs are float`);

  // Each set of tensors sharing quantization parameters: the parameters, checked to agree.
  const qparams = new Map<string, QParams | 'dynamic'>();
  const scalar = (name: string) => (name ? Number(readTensorProto(initializers.get(name)!, fileName).data[0]) : 0);
  for (const [tensor, list] of declared) {
    const root = params.find(tensor);
    for (const d of list) {
      const scales = d.dynamic ? 1 : readTensorProto(initializers.get(d.scale)!, fileName).data.length;
      if (scales !== 1) refuse(`${label(d.by)} quantizes the activation "${tensor}" with ${scales} scales (per channel); qbench imports one range per tensor`);
      const value: QParams | 'dynamic' = d.dynamic ? 'dynamic' : { scale: scalar(d.scale), zeroPoint: scalar(d.zeroPoint), dataType: d.zeroPoint ? initializers.get(d.zeroPoint)!.dataType : DataType.UINT8, scaleName: d.scale, zeroPointName: d.zeroPoint };
      const known = qparams.get(root);
      if (!known) qparams.set(root, value);
      else if (!sameParams(known, value)) refuse(`"${tensor}" is read by ${label(d.by)} with other quantization parameters than it was written with`);
    }
  }
  const paramsOf = (tensor: string) => qparams.get(params.find(tensor));
  for (const t of integer) if (!paramsOf(t)) refuse(`the integer tensor "${t}" (written by ${label(producer.get(t)!)}) has no quantization parameters`);

  // Names: every set of names holding one value (x, x_quantized, and a DequantizeLinear's output)
  // becomes one float tensor, named after a graph input or output, else a float name it had, else
  // its integer name without onnxruntime's "_quantized".
  const taken = graphNames(graph);
  const uniqueName = nameAllocator(taken);
  const members = new Map<string, string[]>();
  for (const t of values.names()) {
    const root = values.find(t);
    members.set(root, [...(members.get(root) ?? []), t]);
  }
  const writeName = new Map<string, string>();
  const readName = new Map<string, string>();
  const identities: onnx.NodeProto[] = [];
  const ranges = new Map<string, CaliEntry>();
  const reluAfter = new Map<string, { pre: string; post: string; max: number }>();
  const outputOrder = new Map(graphOutputs.map((o, i) => [o, i]));
  for (const [, names] of members) {
    const inputs = names.filter((n) => graphInputs.has(n));
    const outputs = names.filter((n) => outputOrder.has(n)).sort((a, b) => outputOrder.get(a)! - outputOrder.get(b)!);
    if (inputs.length > 1) refuse(`the graph inputs ${inputs.map((i) => `"${i}"`).join(' and ')} are one value in the integer form`);
    const floatNames = names.filter((n) => !integer.has(n));
    const stripped = names.map((n) => n.replace(/_quantized$/, '')).find((n) => !taken.has(n));
    const canonical = inputs[0] ?? outputs[0] ?? floatNames[0] ?? (stripped ? uniqueName(stripped) : names[0]);
    const p = paramsOf(names[0]);
    const range = p && p !== 'dynamic' ? quantizerRange(p.scale, p.zeroPoint, p.dataType) : null;
    // The Relu folded into an output quantizer: after a rewritten Conv/MatMul/Gemm/Add, or after a
    // float Conv/Gemm/MatMul read only by its QuantizeLinear (as in a QDQ model).
    const relu = range?.min === 0 && names.some((n) => reluCandidates.has(n) || (!integer.has(n) && foldsRelu(n)));
    let read = canonical;
    let write = canonical;
    if (relu) {
      if (outputOrder.has(canonical)) write = uniqueName(`${canonical}_prerelu`);
      else read = uniqueName(`${canonical}_relu`);
      reluAfter.set(write, { pre: write, post: read, max: range!.max });
    }
    for (const n of names) {
      writeName.set(n, write);
      readName.set(n, read);
    }
    for (const o of outputs) if (o !== read) identities.push(onnx.NodeProto.create({ name: uniqueName(`${o}/Identity`), opType: 'Identity', input: [read], output: [o] }));
    if (range) ranges.set(read, range);
  }
  // Tensors that share parameters without being one value (a MaxPool's output) have their own range.
  for (const t of integer) {
    if (values.has(t)) continue;
    const p = paramsOf(t)!;
    const stripped = t.replace(/_quantized$/, '');
    const name = stripped !== t && !taken.has(stripped) ? uniqueName(stripped) : t;
    writeName.set(t, name);
    readName.set(t, name);
    if (p !== 'dynamic') {
      const range = quantizerRange(p.scale, p.zeroPoint, p.dataType);
      ranges.set(name, range);
      if (reluCandidates.has(t) && range.min === 0) {
        const post = uniqueName(`${name}_relu`);
        readName.set(t, post);
        reluAfter.set(name, { pre: name, post, max: range.max });
        ranges.delete(name);
        ranges.set(post, range);
      }
    }
  }
  const read = (t: string) => (t ? readName.get(t) ?? t : t);
  const write = (t: string) => (t ? writeName.get(t) ?? t : t);

  // Stored integer tensors become float initializers (weights keep their integer rounding).
  const newInitializers: onnx.TensorProto[] = [];
  let dequantizedWeights = 0;
  const dequantizedStored = new Map<string, string>();
  const tensorOf = (name: string) => readTensorProto(initializers.get(name)!, fileName);
  const storedFloat = (tensor: string, scale: string, zeroPoint: string, axis: number, name?: string): string => {
    const key = `${tensor}\u0000${scale}\u0000${zeroPoint}\u0000${axis}`;
    const known = dequantizedStored.get(key);
    if (known) return known;
    const q = tensorOf(tensor);
    const s = tensorOf(scale);
    const z = zeroPoint ? tensorOf(zeroPoint) : null;
    const channels = q.dims[axis < 0 ? axis + q.dims.length : axis];
    for (const [what, t] of [['scale', s], ['zero point', z]] as const) {
      if (t && t.data.length > 1 && t.data.length !== channels) refuse(`"${tensor}" of shape [${q.dims.join(',')}] has a ${what} of ${t.data.length} values, neither one nor one per channel of axis ${axis}`);
    }
    const stripped = tensor.replace(/_quantized$/, '');
    const out = name ?? uniqueName(stripped !== tensor ? stripped : `${tensor}_dequantized`);
    newInitializers.push(makeTensorProto(out, { dtype: 'float32', dims: q.dims, data: dequantizeValues(q, s, z, axis) }));
    dequantizedWeights++;
    dequantizedStored.set(key, out);
    return out;
  };
  const biasFloat = (input: Extract<FloatInput, { kind: 'bias' }>): string => {
    const b = tensorOf(input.tensor);
    const inputScale = scalar(input.inputScale);
    const w = tensorOf(input.weightScale).data as Float32Array;
    const n = b.dims.length ? b.dims[b.dims.length - 1] : 1;
    if (w.length > 1 && (n !== w.length || (b.dims.length === 2 && b.dims[1] === 1))) refuse(`the bias "${input.tensor}" of shape [${b.dims.join(',')}] does not line up with the ${w.length} weight scales`);
    const data = Float32Array.from(b.data as Int32Array, (v, i) => v * inputScale * w[w.length > 1 ? i % n : 0] * input.factor);
    const stripped = input.tensor.replace(/_quantized$/, '');
    const out = uniqueName(stripped !== input.tensor ? stripped : `${input.tensor}_dequantized`);
    newInitializers.push(makeTensorProto(out, { dtype: 'float32', dims: b.dims, data }));
    dequantizedWeights++;
    return out;
  };
  const floatOf = (input: FloatInput): string => {
    if (input.kind === 'bias') return biasFloat(input);
    if (input.kind === 'float') return read(input.tensor);
    if (!isInitializer(input.tensor)) return read(input.tensor);
    return storedFloat(input.tensor, input.scale, input.zeroPoint, input.axis(initializers.get(input.tensor)!.dims.length));
  };
  // An integer initializer a kept node reads (Pad's constant, a Gather's table) with its tensor's parameters.
  const keptInput = (t: string): string => {
    if (!t || !isIntegerInitializer(t) || !params.has(t)) return read(t);
    const p = paramsOf(t);
    if (!p) return read(t);
    if (p === 'dynamic') return refuse(`the stored integer tensor "${t}" is read with parameters computed at run time`);
    return storedFloat(t, p.scaleName, p.zeroPointName, 0);
  };

  const nodes: onnx.NodeProto[] = [];
  let restoredRelus = 0;
  let restoredClips = 0;
  const emitRelu = (name: string, written: string) => {
    const relu = reluAfter.get(written);
    if (!relu) return;
    const restored = restoredActivation(name, relu.pre, relu.post, relu.max, uniqueName);
    nodes.push(restored.node);
    newInitializers.push(...restored.initializers);
    if (restored.node.opType === 'Clip') restoredClips++;
    else restoredRelus++;
  };
  for (const step of steps) {
    if (step.kind === 'keep') {
      const outputs = step.node.output.map(write);
      nodes.push(onnx.NodeProto.create({ ...step.node, input: step.node.input.map(keptInput), output: outputs }));
      for (const o of outputs) emitRelu(step.node.name, o);
      continue;
    }
    if (step.op === 'Constant') {
      // A DequantizeLinear of a stored tensor: the float initializer takes the DequantizeLinear's output name.
      const input = step.inputs[0] as Extract<FloatInput, { kind: 'integer' }>;
      const made = storedFloat(input.tensor, input.scale, input.zeroPoint, input.axis(initializers.get(input.tensor)!.dims.length), step.output);
      if (made !== step.output) readName.set(step.output, made);
      continue;
    }
    const name = floatNodeName(step.source, step.op);
    const inputs = step.inputs.map(floatOf);
    const output = write(step.output);
    if (step.addBias) {
      const product = uniqueName(`${output}_matmul`);
      nodes.push(onnx.NodeProto.create({ name, opType: step.op, input: inputs, output: [product], attribute: [...step.attributes] }));
      nodes.push(onnx.NodeProto.create({ name: uniqueName(`${name}/bias`), opType: 'Add', input: [product, read(step.addBias)], output: [output] }));
    } else {
      nodes.push(onnx.NodeProto.create({ name, opType: step.op, input: inputs, output: [output], attribute: [...step.attributes] }));
    }
    emitRelu(name, output);
  }
  nodes.push(...identities);

  const finalInitializers = [...graph.initializer, ...newInitializers];
  const used = new Set(nodes.flatMap((n) => n.input));
  for (const o of graph.output) used.add(o.name);
  const kept = finalInitializers.filter((t) => used.has(t.name));
  // Every value the float model reads must be made in it: a value only the integer form computes
  // (a run-time scale read by a float node) means the model is not of the forms this handles.
  const made = new Set<string>([...graphInputs, ...kept.map((t) => t.name), ...nodes.flatMap((n) => n.output)]);
  for (const n of nodes) {
    const missing = n.input.find((t) => t && !made.has(t));
    if (missing) refuse(`${label(n)} would read "${missing}", which only the integer form computes${producer.get(missing) ? ` (${label(producer.get(missing)!)})` : ''}`);
  }
  const proto = onnx.ModelProto.create({
    ...model,
    graph: onnx.GraphProto.create({ ...graph, node: nodes, initializer: kept, valueInfo: [] }),
  });
  return {
    proto,
    ranges,
    rewritten: [...rewrittenCount].map(([what, n]) => `${what.split('\u0000')[0]} x${n} → ${what.split('\u0000')[1]}`),
    rewrittenNodes: [...rewrittenCount.values()].reduce((a, b) => a + b, 0),
    removedQuantizers,
    dequantizedWeights,
    restoredRelus,
    restoredClips,
    floatLayers,
  };

  function count(from: string, to: string): void {
    const key = `${from}\u0000${to}`;
    rewrittenCount.set(key, (rewrittenCount.get(key) ?? 0) + 1);
  }

  function requireStatic(node: onnx.NodeProto, scale: string, zeroPoint: string | undefined): void {
    if (!isInitializer(scale)) refuse(`${label(node)} takes its scale "${scale}" from a value computed at run time, not a stored one`);
    if (zeroPoint && !isInitializer(zeroPoint)) refuse(`${label(node)} takes its zero point "${zeroPoint}" from a value computed at run time, not a stored one`);
  }

  /** A float Conv/Gemm/MatMul output read only by QuantizeLinear nodes: a Relu may be folded into them. */
  function foldsRelu(tensor: string): boolean {
    const made = producer.get(tensor);
    return !!made && FUSES_RELU.has(made.opType) && (consumers.get(tensor) ?? []).every((c) => c.opType === 'QuantizeLinear');
  }

  function floatNodeName(node: onnx.NodeProto, op: string): string {
    const base = (node.name || `${node.output[0]}_${op}`).replace(/_quant$/, '').replace(new RegExp(`_${node.opType}$`), `_${op}`);
    return base === node.name ? base : uniqueName(base);
  }

  /** The scale of an integer activation: its quantizer's, followed back through MaxPool, Reshape... */
  function scaleOf(tensor: string): string | undefined {
    const made = producer.get(tensor);
    if (!made) return undefined;
    if (made.opType === 'DynamicQuantizeLinear' && made.output[0] === tensor) return made.output[1];
    if (made.opType === 'QuantizeLinear') return made.input[1];
    if (STRUCTURAL[made.opType]) return scaleOf(made.input[0]);
    return undefined;
  }

  /**
   * ConvInteger/MatMulInteger -> Cast(float) -> Mul(., Mul(x_scale, w_scale)) [-> Add(., Reshape(bias))],
   * as onnxruntime's quantize_dynamic writes them: the float Conv/MatMul writes the Mul's output (or
   * the Add's, the bias folded into the Conv).
   */
  function matchIntegerChain(node: onnx.NodeProto): { step: FloatStep; absorbed: onnx.NodeProto[]; scaleMul: onnx.NodeProto } {
    const not = (what: string) => refuse(`${label(node)} is not followed by ${what}, as onnxruntime's quantize_dynamic writes it`);
    const only = (tensor: string) => {
      const readers = consumers.get(tensor) ?? [];
      return readers.length === 1 && !graphOutputs.includes(tensor) ? readers[0] : undefined;
    };
    const cast = only(node.output[0]);
    if (cast?.opType !== 'Cast' || intAttribute(cast, 'to', 0) !== DataType.FLOAT) return not('a Cast to float');
    const mul = only(cast.output[0]);
    if (mul?.opType !== 'Mul') return not('a Mul by the scales');
    const scales = mul.input[0] === cast.output[0] ? mul.input[1] : mul.input[0];
    const scaleMul = producer.get(scales);
    if (scaleMul?.opType !== 'Mul') return not('a Mul by the product of the input and weight scales');
    const [a, b, aZero, bZero] = node.input;
    const side = (tensor: string, zeroPoint: string | undefined, axis: (rank: number) => number): [FloatInput, string] => {
      const own = scaleOf(tensor);
      if (!isInitializer(tensor)) {
        if (!own || !scaleMul.input.includes(own)) not(`a Mul by the scale of "${tensor}"`);
        return [{ kind: 'integer', tensor, scale: own!, zeroPoint: zeroPoint ?? '', axis }, own!];
      }
      return [{ kind: 'integer', tensor, scale: '', zeroPoint: zeroPoint ?? '', axis }, ''];
    };
    const [left, leftScale] = side(a, aZero, (rank) => rank - 2);
    const [right, rightScale] = side(b, bZero, node.opType === 'ConvInteger' ? () => 0 : (rank) => rank - 1);
    // A stored side's scale is the factor of the scales' Mul the activation side does not take.
    const storedScale = (activationScale: string) => {
      const at = activationScale ? scaleMul.input.indexOf(activationScale) : -1;
      const other = at < 0 ? undefined : scaleMul.input[1 - at];
      if (!other || !isInitializer(other)) return not('a Mul by a stored weight scale');
      return other;
    };
    const inputs: FloatInput[] = [left, right].map((input, i) => {
      if (input.kind !== 'integer' || input.scale) return input;
      const scale = storedScale(i === 0 ? rightScale : leftScale);
      if (input.zeroPoint && !isInitializer(input.zeroPoint)) not(`a stored zero point for "${input.tensor}"`);
      if (node.opType === 'ConvInteger' && readTensorProto(initializers.get(scale)!, fileName).data.length > 1) refuse(`${label(node)}'s weight has a scale per channel, which its output Mul cannot broadcast`);
      return { ...input, scale };
    });
    const absorbedNodes = [cast, mul];
    let output = mul.output[0];
    // The Conv bias: Reshape(bias, [1, -1, 1, 1]) and Add after the scaling.
    const add = node.opType === 'ConvInteger' ? only(mul.output[0]) : undefined;
    if (add?.opType === 'Add') {
      const biasShape = add.input[0] === mul.output[0] ? add.input[1] : add.input[0];
      const reshape = producer.get(biasShape);
      const bias = reshape?.opType === 'Reshape' ? reshape.input[0] : biasShape;
      const biasProto = initializers.get(bias);
      const channels = initializers.get(b)?.dims.map(Number)[0];
      if (biasProto && biasProto.dataType === DataType.FLOAT && readTensorProto(biasProto, fileName).data.length === channels && (!reshape || (consumers.get(reshape.output[0]) ?? []).length === 1)) {
        inputs.push({ kind: 'float', tensor: bias });
        absorbedNodes.push(add, ...(reshape && reshape.opType === 'Reshape' ? [reshape] : []));
        output = add.output[0];
      }
    }
    const attributes = node.opType === 'ConvInteger' ? node.attribute : [];
    return { step: { kind: 'float', source: node, op: node.opType === 'ConvInteger' ? 'Conv' : 'MatMul', inputs, output, attributes }, absorbed: absorbedNodes, scaleMul };
  }

  /** MatMulIntegerToFloat (A, B, a_scale, b_scale, a_zp, b_zp, bias) and DynamicQuantizeMatMul (A, B, b_scale, b_zp, bias). */
  function matMulToFloat(node: onnx.NodeProto): FloatStep {
    const toFloat = node.opType === 'MatMulIntegerToFloat';
    const [a, b] = node.input;
    const [aScale, bScale, aZero, bZero, bias] = toFloat ? node.input.slice(2) : ['', node.input[2], '', node.input[3], node.input[4]];
    const side = (tensor: string, scale: string, zeroPoint: string | undefined, axis: (rank: number) => number): FloatInput => {
      if (isInitializer(tensor)) {
        requireStatic(node, scale, zeroPoint);
        return { kind: 'integer', tensor, scale, zeroPoint: zeroPoint ?? '', axis };
      }
      if (!integer.has(tensor)) refuse(`${label(node)} reads "${tensor}" as an integer tensor, but no quantizer in the model writes it`);
      return { kind: 'integer', tensor, scale, zeroPoint: zeroPoint ?? '', axis };
    };
    const left: FloatInput = toFloat ? side(a, aScale, aZero, (rank) => rank - 2) : { kind: 'float', tensor: a };
    const right = side(b, bScale, bZero, (rank) => rank - 1);
    return { kind: 'float', source: node, op: 'MatMul', inputs: [left, right], output: node.output[0], attributes: [], ...(bias ? { addBias: bias } : {}) };
  }
}

/** Where a tensor's quantization parameters are given, and by which node. */
interface Declaration {
  readonly scale: string;
  readonly zeroPoint: string;
  /** DynamicQuantizeLinear's run-time parameters. */
  readonly dynamic: boolean;
  readonly by: onnx.NodeProto;
}

interface QParams {
  readonly scale: number;
  readonly zeroPoint: number;
  readonly dataType: number;
  readonly scaleName: string;
  readonly zeroPointName: string;
}

function sameParams(a: QParams | 'dynamic', b: QParams | 'dynamic'): boolean {
  if (a === 'dynamic' || b === 'dynamic') return a === b;
  return Math.fround(a.scale) === Math.fround(b.scale) && a.zeroPoint === b.zeroPoint && a.dataType === b.dataType;
}

/** Sets of names, merged: one value under several names, or several tensors sharing parameters. */
class UnionFind {
  private readonly parent = new Map<string, string>();
  add(a: string): void {
    if (!this.parent.has(a)) this.parent.set(a, a);
  }
  has(a: string): boolean {
    return this.parent.has(a);
  }
  names(): ReadonlySet<string> {
    return new Set(this.parent.keys());
  }
  find(a: string): string {
    this.add(a);
    let root = a;
    while (this.parent.get(root) !== root) root = this.parent.get(root)!;
    this.parent.set(a, root);
    return root;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(rb, ra);
  }
}

type Refuse = (message: string) => never;
type Planner = (node: onnx.NodeProto, opset: number, refuse: Refuse) => QLinearPlan;

const int = (node: onnx.NodeProto, value: number, scale: number, zeroPoint: number, axis: (rank: number) => number = () => 0): FloatInput =>
  ({ kind: 'integer', tensor: node.input[value], scale: node.input[scale], zeroPoint: node.input[zeroPoint] ?? '', axis });

const without = (node: onnx.NodeProto, ...names: string[]) => node.attribute.filter((a) => !names.includes(a.name));

/** Pooling on NHWC data (channels_last = 1) has no float operator of its own: refused. */
function channelsFirst(node: onnx.NodeProto, refuse: Refuse): void {
  if (intAttribute(node, 'channels_last', 0) !== 0) refuse(`${node.opType} "${node.name}" pools channels-last data, which has no float ONNX operator`);
}

/** One plan per integer operator: inputs (value, scale, zero point), the output's (scale, zero point), attributes. */
const QLINEAR = new Map<string, Planner>([
  ['QLinearConv', (node) => ({
    op: 'Conv',
    inputs: [int(node, 0, 1, 2), int(node, 3, 4, 5), ...(node.input[8] ? [{ kind: 'bias', tensor: node.input[8], inputScale: node.input[1], weightScale: node.input[4], factor: 1 } as const] : [])],
    output: [node.input[6], node.input[7]], attributes: node.attribute, fusesRelu: true,
  })],
  ['QLinearMatMul', (node) => ({
    op: 'MatMul', inputs: [int(node, 0, 1, 2, (rank) => rank - 2), int(node, 3, 4, 5, (rank) => rank - 1)],
    output: [node.input[6], node.input[7]], attributes: [], fusesRelu: true,
  })],
  ['QGemm', (node) => {
    const alpha = findAttribute(node, 'alpha')?.f ?? 1;
    const transB = intAttribute(node, 'transB', 0);
    return {
      op: 'Gemm',
      inputs: [int(node, 0, 1, 2), int(node, 3, 4, 5, () => (transB ? 0 : 1)), ...(node.input[6] ? [{ kind: 'bias', tensor: node.input[6], inputScale: node.input[1], weightScale: node.input[4], factor: alpha } as const] : [])],
      output: node.input[7] ? [node.input[7], node.input[8] ?? ''] : null, attributes: without(node, 'beta'), fusesRelu: true,
    };
  }],
  ['QLinearAdd', (node) => ({ op: 'Add', inputs: [int(node, 0, 1, 2), int(node, 3, 4, 5)], output: [node.input[6], node.input[7]], attributes: [], fusesRelu: true })],
  ['QLinearMul', (node) => ({ op: 'Mul', inputs: [int(node, 0, 1, 2), int(node, 3, 4, 5)], output: [node.input[6], node.input[7]], attributes: [], fusesRelu: false })],
  ['QLinearSigmoid', (node) => ({ op: 'Sigmoid', inputs: [int(node, 0, 1, 2)], output: [node.input[3], node.input[4]], attributes: [], fusesRelu: false })],
  ['QLinearLeakyRelu', (node) => ({ op: 'LeakyRelu', inputs: [int(node, 0, 1, 2)], output: [node.input[3], node.input[4]], attributes: node.attribute, fusesRelu: false })],
  ['QLinearConcat', (node) => {
    const inputs: FloatInput[] = [];
    for (let i = 2; i + 2 < node.input.length; i += 3) inputs.push(int(node, i, i + 1, i + 2));
    return { op: 'Concat', inputs, output: [node.input[0], node.input[1]], attributes: node.attribute, fusesRelu: false };
  }],
  ['QLinearGlobalAveragePool', (node, _opset, refuse) => {
    channelsFirst(node, refuse);
    return { op: 'GlobalAveragePool', inputs: [int(node, 0, 1, 2)], output: [node.input[3], node.input[4]], attributes: [], fusesRelu: false };
  }],
  ['QLinearAveragePool', (node, _opset, refuse) => {
    channelsFirst(node, refuse);
    return { op: 'AveragePool', inputs: [int(node, 0, 1, 2)], output: [node.input[3], node.input[4]], attributes: without(node, 'channels_last'), fusesRelu: false };
  }],
  ['QLinearSoftmax', (node, opset, refuse) => {
    // Softmax changed meaning at opset 13 (one axis instead of a 2-D coercion); the contrib op says which it follows.
    const its = intAttribute(node, 'opset', opset);
    if ((its < 13) !== (opset < 13)) refuse(`QLinearSoftmax "${node.name}" follows Softmax-${its}, the model opset ${opset}`);
    return { op: 'Softmax', inputs: [int(node, 0, 1, 2)], output: [node.input[3], node.input[4]], attributes: without(node, 'opset'), fusesRelu: false };
  }],
  ['QLinearWhere', (node) => ({
    op: 'Where', inputs: [{ kind: 'float', tensor: node.input[0] }, int(node, 1, 2, 3), int(node, 4, 5, 6)],
    output: [node.input[7], node.input[8]], attributes: [], fusesRelu: false,
  })],
]);

/** A quantized model turned back into float, by the path its form takes. */
export type DequantizedModel =
  | { readonly form: 'qdq'; readonly result: Dequantized }
  | { readonly form: 'qoperator' | 'dynamic'; readonly result: DequantizedIntegerOps };

/**
 * The float model of an already-quantized model (page "Open as float", CLI --dequantize): QDQ
 * models by dequantizeQdq, QOperator and dynamic ones (and models mixing them with Q/DQ pairs) by
 * dequantizeIntegerOps.
 */
export function dequantizeModel(model: onnx.ModelProto, form: QuantizedForm, fileName: string): DequantizedModel {
  return form === 'qdq' ? { form, result: dequantizeQdq(model, fileName) } : { form, result: dequantizeIntegerOps(model, fileName) };
}
