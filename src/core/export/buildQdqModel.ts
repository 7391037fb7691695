import { MissingCalibrationError, QbenchError } from '../errors';
import { intAttr } from '../io/onnx/attributes';
import { GraphWriter, referencedNames } from '../io/onnx/GraphWriter';
import { BODY_ATTRIBUTES, isControlFlow } from '../io/onnx/ifBodies';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { irVersionFor, upgradeNode, type UpgradeContext } from '../io/onnx/opsetUpgrade';
import { DataType, onnx } from '../io/onnx/protobuf';
import { int64VectorProto, makeTensorProto, scalarProto } from '../io/onnx/tensorProto';
import { float32ToFloat16Bits } from '../model/float16';
import { indexGraph, type GraphNode, type LayerName } from '../model/ModelGraph';
import type { DType } from '../model/tensor';
import { inputRole, weightChannelAxis } from '../quant/inputRoles';
import type { QParams } from '../quant/qparams';
import { activationQParams, effectivePrecision, oneFixedQParams, ONE_BACKWARD_OPS, ONE_FORWARD_OPS, softmaxOutputQParams } from '../quant/schemes';
import { isIntegerPrecision, type Precision, type QTable } from '../model/QTable';
import { quantizeBias } from '../quant/weightQuant';
import { fusedTensors } from '../quant/fusedTensors';
import { integerTensorProto, QUANT_DTYPE } from '../quant/integerTensorProto';
import type { QuantizationContext } from '../quant/QuantizationContext';
import { WeightCache } from '../quant/WeightCache';

/** Everything the quantized model is built from. */
export interface QdqBuildInput extends QuantizationContext {
  readonly qtable: QTable;
  /** Quantized weights are reused across builds (a search builds hundreds of models). */
  readonly weightCache?: WeightCache;
  /**
   * The whole model when `model` is a part of it (a search's cut): ONE's qparams rules follow
   * producers and consumers that may lie outside the part.
   */
  readonly ruleModel?: OnnxModel;
}

export interface QdqModel {
  readonly proto: onnx.ModelProto;
  readonly opset: number;
  /** The precision each layer actually runs at (non-quantizable layers run FP32). */
  readonly precisions: ReadonlyMap<LayerName, Precision>;
}

/** Opset the quantized model is written at: per-channel DequantizeLinear needs 13, 16-bit and 4-bit types need 21 (docs/formats.md). */
export function qdqOpset(modelOpset: number, precisions: Iterable<Precision>): number {
  let opset = Math.max(modelOpset, 13);
  for (const p of precisions) if (p === 'INT16' || p === 'INT4') opset = Math.max(opset, 21);
  return opset;
}

/** Names of a QuantizeLinear's integer output and its qparams initializers. */
interface QuantizedNames {
  readonly quantized: string;
  readonly scale: string;
  readonly zeroPoint: string;
}

/** Operators whose float weights onnxruntime quantizes when their input comes from a DequantizeLinear. */
const AUTO_QUANTIZED_BY_ORT = new Set(['Conv', 'ConvTranspose', 'Gemm']);
/**
 * Nodes onnxruntime removes (Identity, Dropout) or moves a DequantizeLinear forward through (its QDQ
 * propagation: Reshape, Transpose, Squeeze, Unsqueeze, Slice, MaxPool; Flatten too, to be safe):
 * after them a value read by an FP32 layer is still a DequantizeLinear's output (movedFromStored).
 */
const SEEN_THROUGH_BY_ORT = new Set(['Identity', 'Dropout', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Slice', 'MaxPool', 'Flatten']);

/** Inputs whose type stays float32 when the layer computes in float16 (Resize's roi and scales). */
function keepsFloat32(opType: string, index: number): boolean {
  return (opType === 'Resize' && (index === 1 || index === 2)) || (opType === 'Upsample' && index === 1);
}

/**
 * Builds the QDQ model of a QTable (docs/formats.md "Quantized ONNX model"): the one model that is both
 * exported and run by the simulation, so the workbench's prediction is the exported model's output.
 *
 * - An integer layer reads each float activation input through QuantizeLinear -> DequantizeLinear at
 *   its precision, its Conv/ConvTranspose/Gemm/MatMul weights are stored per-channel symmetric
 *   (int8, int16 or int4) behind a DequantizeLinear, its bias (8-bit layers) as int32 with scale
 *   s_in * s_w, and its float outputs are quantized where they are produced. A Relu, Clip or folded
 *   BatchNormalization that follows at the same precision is fused: no quantizer between them.
 * - An FP16 layer computes in float16: Cast on its activation inputs, float16 weights, and a Cast
 *   back to float32 for consumers that are not FP16.
 * - An FP32 layer is left as it is in the model.
 * Every tensor keeps its name for the value consumers see, so graph outputs and qtable names hold.
 */
export function buildQdqModel(input: QdqBuildInput): QdqModel {
  return new QdqBuilder(input).build();
}

/** A QDQ build that exposes its internals to passes that extend the graph (the probe model). */
export class QdqBuilder {
  readonly writer: GraphWriter;
  readonly precisions = new Map<LayerName, Precision>();
  readonly opset: number;
  private readonly index;
  /** Producers and consumers for ONE's qparams rules: of the whole model when building a part of it. */
  private readonly ruleIndex;
  private readonly graphOutputs: Set<string>;
  private readonly weightCache: WeightCache;
  /** Tensors left float between a layer and the activation fused into it. */
  private readonly fusedFloat = new Set<string>();
  /** Tensors quantized where they are produced: qparams and the names of the stored integer tensor. */
  private readonly storedQuant = new Map<string, { precision: Precision; qp: QParams } & QuantizedNames>();
  /** Tensors an FP16 layer produced, by original name -> name of the float16 tensor. */
  private readonly fp16Produced = new Map<string, string>();
  private readonly floatReady = new Set<string>();
  /** Values made once and reused (a tensor's Q/DQ, a weight's DequantizeLinear), per graph scope. */
  private cache = new Map<string, string>();
  /**
   * Set while emitLocalLayer writes a layer's local copy: activations come from the float half
   * (`floatName`), outputs take fresh names (`outputs`), and activation values are made anew for
   * the copy (`activations`) while weights stay shared with the rest of the build.
   */
  private local?: { readonly floatName: (tensor: string) => string; readonly outputs: Map<string, string>; readonly activations: Map<string, string> };
  private readonly hasSubgraphs: boolean;

  constructor(readonly input: QdqBuildInput) {
    const { model, layers, qtable } = input;
    const graph = model.proto.graph!;
    this.index = indexGraph(model.graph.nodes);
    this.ruleIndex = input.ruleModel ? indexGraph(input.ruleModel.graph.nodes) : this.index;
    this.graphOutputs = new Set(graph.output.map((o) => o.name));
    this.weightCache = input.weightCache ?? new WeightCache();
    for (const node of model.graph.nodes) {
      let precision = effectivePrecision(layers.get(node.name), qtable, input.scheme);
      if (precision === 'BF16') throw new QbenchError(`layer "${node.name}" is set to BF16, which onnxruntime cannot run on CPU; use FP16 or FP32`);
      // A layer in an If branch the calibration data never took has no ranges: it runs as in the model.
      if (node.scope && isIntegerPrecision(precision) && this.lacksRanges(node)) precision = 'FP32';
      this.precisions.set(node.name, precision);
    }
    this.opset = qdqOpset(model.opset, this.precisions.values());
    this.writer = new GraphWriter([
      ...graph.node.flatMap((n) => [n.name, ...n.output]),
      ...graph.input.map((i) => i.name),
      ...graph.initializer.map((t) => t.name),
    ]);
    this.hasSubgraphs = model.graph.nodes.some((n) => Object.values(n.attributes).some((v) => typeof v === 'object' && v !== null && 'graph' in v));
    for (const tensor of fusedTensors(model.graph, this.precisions)) this.fusedFloat.add(tensor);
  }

  /** Branch scopes with at least one calibrated tensor: the branches the calibration data took. */
  private takenScopes?: Set<string>;

  private lacksRanges(node: GraphNode): boolean {
    if (!this.takenScopes) {
      const scopeOf = new Map<string, string>();
      for (const n of this.input.model.graph.nodes) if (n.scope) for (const o of n.outputs) scopeOf.set(o, n.scope);
      this.takenScopes = new Set();
      for (const tensor of this.input.cali.keys()) {
        const scope = scopeOf.get(tensor);
        if (scope) this.takenScopes.add(scope);
      }
    }
    return !this.takenScopes.has(node.scope!);
  }

  build(): QdqModel {
    this.emitAllLayers();
    return { proto: this.finish(), opset: this.opset, precisions: this.precisions };
  }

  /** Emits every layer; callers add nodes afterwards and then call finish(). */
  emitAllLayers(): void {
    for (const node of this.input.model.proto.graph!.node) this.emitLayer(node);
    for (const output of this.graphOutputs) this.floatValue(output);
  }

  /**
   * A copy of `node` quantized as the QTable says, fed the float model's activations through its own
   * input quantizers (docs/algorithms.md §4, local error): every activation it reads is
   * `floatName(tensor)` (the float half, sim/probeModel.ts addFloatHalf), its weights are the build's,
   * and its outputs get fresh names. Returns each float output's name in the copy (float32 values,
   * as consumers would see them), or undefined for a layer that runs float (its local error is none)
   * or holds a body. An activation fused into its producer reads the producer's float output, so
   * its local error is its own output quantization; the producer's is its weights and inputs.
   */
  emitLocalLayer(node: onnx.NodeProto, floatName: (tensor: string) => string): ReadonlyMap<string, string> | undefined {
    const precision = this.precisions.get(node.name);
    if (!precision || precision === 'FP32' || isControlFlow(node) || this.inBranch) return undefined;
    const saved = { storedQuant: new Map(this.storedQuant), fp16Produced: new Map(this.fp16Produced), floatReady: new Set(this.floatReady) };
    this.storedQuant.clear();
    this.fp16Produced.clear();
    this.floatReady.clear();
    const local = { floatName, outputs: new Map<string, string>(), activations: new Map<string, string>() };
    this.local = local;
    try {
      this.emitLayer(node);
    } finally {
      this.local = undefined;
      for (const [k, v] of saved.storedQuant) this.storedQuant.set(k, v);
      for (const [k, v] of saved.fp16Produced) this.fp16Produced.set(k, v);
      for (const t of saved.floatReady) this.floatReady.add(t);
    }
    return local.outputs;
  }

  /**
   * The name of the value a reader sees for `tensor`: the tensor itself, or in a local copy the
   * copy's own output, else the float half's value (initializers and graph inputs are shared).
   */
  private valueName(tensor: string): string {
    if (!this.local || !tensor || this.input.model.isInitializer(tensor)) return tensor;
    return this.local.outputs.get(tensor) ?? this.local.floatName(tensor);
  }

  /** The name a layer's output is written under: its own, or a fresh one in a local copy. */
  private producedName(tensor: string): string {
    if (!this.local) return tensor;
    let name = this.local.outputs.get(tensor);
    if (!name) {
      name = this.writer.uniqueName(`${tensor}/qbench_local`);
      this.local.outputs.set(tensor, name);
    }
    return name;
  }

  /** The model with the written graph; unused initializers are dropped. */
  finish(extraOutputs: readonly onnx.IValueInfoProto[] = []): onnx.ModelProto {
    const { model } = this.input;
    const graph = model.proto.graph!;
    const used = referencedNames(this.writer.nodes);
    for (const output of graph.output) used.add(output.name);
    const initializers = [...graph.initializer, ...this.writer.initializers].filter((t) => used.has(t.name));
    const opsetImport = model.proto.opsetImport.map((o) => (!o.domain || o.domain === 'ai.onnx' ? onnx.OperatorSetIdProto.create({ domain: o.domain, version: this.opset }) : o));
    return onnx.ModelProto.create({
      ...model.proto,
      irVersion: irVersionFor(this.opset, model.proto.irVersion),
      opsetImport,
      producerName: 'qbench',
      producerVersion: '0.1',
      graph: onnx.GraphProto.create({
        ...graph,
        node: this.writer.nodes,
        initializer: initializers,
        valueInfo: [],
        output: [...graph.output, ...extraOutputs.map((o) => onnx.ValueInfoProto.create(o))],
      }),
    });
  }

  private dtypeOf(tensor: string): DType | 'other' | undefined {
    const proto = this.input.model.initializerProto(tensor);
    if (proto) return proto.dataType === DataType.FLOAT ? 'float32' : 'other';
    return this.input.types.get(tensor)?.dtype;
  }

  /**
   * An If or a Loop: its bodies are written layer by layer like the main graph (Q/DQ inside them),
   * each with a cache of its own, since a value made inside a body cannot be read outside it.
   */
  private emitBodies(node: onnx.NodeProto): void {
    const attribute = node.attribute.map((a) => {
      if (!a.g || !(BODY_ATTRIBUTES as readonly string[]).includes(a.name)) return a;
      const savedNodes = this.writer.nodes;
      const savedCache = this.cache;
      this.writer.nodes = [];
      this.cache = new Map();
      this.inBranch++;
      for (const child of a.g.node ?? []) this.emitLayer(child as onnx.NodeProto);
      for (const out of a.g.output ?? []) if (out.name) this.floatValue(out.name);
      this.inBranch--;
      const body = onnx.GraphProto.create({ ...a.g, node: this.writer.nodes, valueInfo: [] });
      this.writer.nodes = savedNodes;
      this.cache = savedCache;
      return onnx.AttributeProto.create({ ...a, g: body });
    });
    for (const output of node.output) if (output) this.floatReady.add(output);
    this.writer.nodes.push(onnx.NodeProto.create({ ...node, attribute }));
  }

  private emitLayer(node: onnx.NodeProto): void {
    if (isControlFlow(node)) {
      this.emitBodies(node);
      return;
    }
    const layer = this.index.byName.get(node.name)!;
    const precision = this.precisions.get(node.name)!;
    const inputs = node.input.map((tensor, k) => this.inputFor(layer, precision, tensor, k));
    const pendingQuant: { tensor: string; raw: string }[] = [];
    const halfOutputs: string[] = [];
    const outputs = node.output.map((tensor) => {
      if (!tensor) return tensor;
      if (this.dtypeOf(tensor) !== 'float32') return this.producedName(tensor);
      if (precision === 'FP16') {
        const half = this.writer.uniqueName(`${tensor}_fp16`);
        this.fp16Produced.set(tensor, half);
        halfOutputs.push(tensor);
        return half;
      }
      if (isIntegerPrecision(precision) && !this.fusedFloat.has(tensor)) {
        const raw = this.writer.uniqueName(`${tensor}_prequant`);
        pendingQuant.push({ tensor, raw });
        return raw;
      }
      this.floatReady.add(tensor);
      return this.producedName(tensor);
    });
    const split = this.splitFloatBias(layer, precision, inputs, outputs);
    const renamed = onnx.NodeProto.create({ ...node, ...(this.local ? { name: this.writer.uniqueName(`${node.name}/qbench_local`) } : {}), input: split?.inputs ?? inputs, output: split?.outputs ?? outputs });
    const originalOf = new Map(inputs.map((name, k) => [name, node.input[k]]));
    const ctx: UpgradeContext = {
      rank: (tensor) => this.input.types.get(originalOf.get(tensor) ?? tensor)?.dims?.length,
      uniqueName: (base) => this.writer.uniqueName(base),
    };
    const upgraded = upgradeNode(renamed, this.input.model.opset, this.opset, ctx);
    for (const init of upgraded.initializers) this.writer.addInitializer(init);
    this.writer.nodes.push(...upgraded.nodes);
    split?.emitAdd();

    for (const { tensor, raw } of pendingQuant) {
      const qp = this.qparams(tensor, precision);
      const names = this.addQdq(raw, qp, this.producedName(tensor), `${tensor}_${precision}`);
      this.storedQuant.set(tensor, { precision, qp, ...names });
      this.floatReady.add(tensor);
    }
    for (const tensor of halfOutputs) if (this.needsFloatCopy(tensor)) this.floatValue(tensor);
  }

  /**
   * A 16-bit Conv, ConvTranspose or Gemm whose bias stays float (computed in the graph, so not an
   * initializer qbench can store as int32): onnxruntime would quantize that bias itself once it has
   * folded it to a constant (WeightBiasQuantization: int32 at s_in * s_w, which overflows for 16-bit
   * scales; the ONNX test suite's light_densenet121 lost 4e-4 of output MSE to it). The bias is
   * added by an Add after the layer instead, in float, as onnxruntime computes 16-bit layers anyway.
   */
  private splitFloatBias(layer: GraphNode, precision: Precision, inputs: string[], outputs: string[]) {
    const bias = layer.inputs[2];
    if (precision !== 'INT16' || !AUTO_QUANTIZED_BY_ORT.has(layer.opType) || !bias || inputs[2] !== this.valueName(bias) || !outputs[0]) return undefined;
    if (layer.opType === 'Gemm' && (layer.attributes.beta ?? 1) !== 1) return undefined;
    const out = outputs[0];
    const withoutBias = this.writer.uniqueName(`${out}_without_bias`);
    return {
      inputs: inputs.slice(0, 2),
      outputs: [withoutBias, ...outputs.slice(1)],
      emitAdd: () => {
        let addend = inputs[2];
        if (layer.opType !== 'Gemm') {
          // [C] against [N, C, spatial...]: one trailing axis of 1 per spatial dimension.
          const rank = this.input.types.get(layer.outputs[0])?.dims?.length ?? 4;
          const axes = this.writer.addInitializer(int64VectorProto(this.writer.uniqueName(`${bias}_spatial_axes`), Array.from({ length: rank - 2 }, (_, k) => k + 1)));
          addend = this.writer.uniqueName(`${bias}_per_channel`);
          this.writer.addNode('Unsqueeze', [inputs[2], axes], [addend], `${layer.name}/UnsqueezeBias`);
        }
        this.writer.addNode('Add', [withoutBias, addend], [out], `${layer.name}/AddBias`);
      },
    };
  }

  private needsFloatCopy(tensor: string): boolean {
    // A local copy's float32 output is what its error is measured on.
    if (this.local || this.hasSubgraphs || this.graphOutputs.has(tensor)) return true;
    return (this.index.consumers.get(tensor) ?? []).some((user) => this.precisions.get(user.name) !== 'FP16');
  }

  private inputFor(layer: GraphNode, precision: Precision, tensor: string, k: number): string {
    if (!tensor || this.dtypeOf(tensor) !== 'float32') return this.valueName(tensor);
    const isInit = this.input.model.isInitializer(tensor);
    const role = inputRole(layer.opType, k, isInit);
    if (isInit) {
      if (role === 'weight' && isIntegerPrecision(precision)) return this.weightValue(layer, tensor, precision);
      if (role === 'bias' && isIntegerPrecision(precision)) {
        const biased = this.biasValue(layer, tensor, precision);
        if (biased) return biased;
      }
      if (precision === 'FP16' && !keepsFloat32(layer.opType, k)) return this.fp16Initializer(tensor);
      return tensor;
    }
    if (role === 'data' && isIntegerPrecision(precision)) return this.quantValue(tensor, precision);
    if (precision === 'FP16' && !keepsFloat32(layer.opType, k)) return this.fp16Value(tensor);
    if (precision === 'FP32' && AUTO_QUANTIZED_BY_ORT.has(layer.opType)) {
      if (this.storedQuant.has(tensor)) return this.arithmeticDequantized(tensor);
      const moved = this.movedFromStored(tensor);
      if (moved) return moved;
    }
    return this.floatValue(tensor);
  }

  /**
   * (float(q) - zp) * s spelled as Cast, Sub, Mul: the same values as DequantizeLinear, bit for bit,
   * but not a DequantizeLinear node. onnxruntime's WeightBiasQuantization quantizes the float
   * weights of any Conv, ConvTranspose or Gemm whose input comes from a per-tensor DequantizeLinear
   * (to int8, per tensor); this keeps a layer the QTable sets to FP32 in float.
   */
  private arithmeticDequantized(tensor: string): string {
    const stored = this.storedQuant.get(tensor)!;
    return this.cached(`${tensor}\u0000arith`, () => {
      const asFloat = this.writer.uniqueName(`${tensor}_as_float`);
      this.writer.addNode('Cast', [stored.quantized], [asFloat], `${tensor}/CastQuantizedToFloat`, [intAttr('to', DataType.FLOAT)]);
      const zeroPoint = this.writer.addInitializer(scalarProto(this.writer.uniqueName(`${tensor}_zero_point_float`), 'float32', stored.qp.zeroPoint));
      const centred = this.writer.uniqueName(`${tensor}_centred`);
      this.writer.addNode('Sub', [asFloat, zeroPoint], [centred], `${tensor}/SubZeroPoint`);
      const out = this.writer.uniqueName(`${tensor}_float_for_fp32_layer`);
      this.writer.addNode('Mul', [centred, stored.scale], [out], `${tensor}/MulScale`);
      return out;
    });
  }

  /**
   * A float value that only moves a stored tensor's dequantized elements (`tensor` made by a chain of
   * SEEN_THROUGH_BY_ORT nodes from a DequantizeLinear's output) reaches an FP32 Conv, ConvTranspose
   * or Gemm as the same chain copied onto the arithmetic dequantization (arithmeticDequantized).
   * onnxruntime removes Identity and Dropout and moves a DequantizeLinear forward through
   * Reshape, Transpose, Squeeze, Unsqueeze, Slice and MaxPool (its QDQ propagation), so the layer
   * would read a DequantizeLinear after all and have its weights quantized (a TFLite
   * FullyConnected's flattening Reshape: DTLN's last dense layer ran as an int8 QGemm when set to
   * FP32). Undefined when the chain does not start at a stored tensor.
   */
  private movedFromStored(tensor: string): string | undefined {
    if (this.local || this.inBranch) return undefined; // local copies read the float half; branches never write DequantizeLinear
    const chain: onnx.NodeProto[] = [];
    let current = tensor;
    while (!this.storedQuant.has(current)) {
      const node = this.writtenProducer(current);
      if (!node || !SEEN_THROUGH_BY_ORT.has(node.opType) || node.output[0] !== current || chain.length >= 32) return undefined;
      chain.push(node);
      current = node.input[0];
    }
    if (chain.length === 0) return undefined;
    const stored = current;
    return this.cached(`${tensor}\u0000moved-for-fp32`, () => {
      let value = this.arithmeticDequantized(stored);
      for (const node of chain.reverse()) {
        const out = this.writer.uniqueName(`${node.output[0]}_for_fp32_layer`);
        this.writer.nodes.push(onnx.NodeProto.create({ ...node, name: this.writer.uniqueName(`${node.name}/for_fp32_layer`), input: [value, ...node.input.slice(1)], output: [out] }));
        value = out;
      }
      return value;
    });
  }

  /** The main graph's written node that produces `name` (nodes are only ever appended: scanned once each). */
  private writtenProducer(name: string): onnx.NodeProto | undefined {
    const nodes = this.writer.nodes;
    for (; this.producersScanned < nodes.length; this.producersScanned++) {
      for (const output of nodes[this.producersScanned].output) if (output) this.producers.set(output, nodes[this.producersScanned]);
    }
    return this.producers.get(name);
  }

  private readonly producers = new Map<string, onnx.NodeProto>();
  private producersScanned = 0;

  /** The float32 value of a tensor as every non-quantized reader sees it (always its own name). */
  floatValue(tensor: string): string {
    const half = this.fp16Produced.get(tensor);
    if (half && !this.floatReady.has(tensor)) {
      this.writer.addNode('Cast', [half], [this.producedName(tensor)], `${tensor}/CastToFloat`, [intAttr('to', DataType.FLOAT)]);
      this.floatReady.add(tensor);
    }
    return this.valueName(tensor);
  }

  private fp16Value(tensor: string): string {
    const own = this.fp16Produced.get(tensor);
    if (own) return own;
    return this.cached(`${tensor}\u0000fp16`, () => {
      const out = this.writer.uniqueName(`${tensor}_fp16`);
      this.writer.addNode('Cast', [this.floatValue(tensor)], [out], `${tensor}/CastToFloat16`, [intAttr('to', DataType.FLOAT16)]);
      return out;
    });
  }

  private quantValue(tensor: string, precision: Precision): string {
    if (this.fusedFloat.has(tensor)) return this.floatValue(tensor);
    const qp = this.qparams(tensor, precision);
    const stored = this.storedQuant.get(tensor);
    if (stored && stored.qp.type === qp.type && stored.qp.scale === qp.scale && stored.qp.zeroPoint === qp.zeroPoint) return this.valueName(tensor);
    return this.cached(`${tensor}\u0000${qp.type}`, () => {
      const out = this.writer.uniqueName(`${tensor}_dequantized_${precision}`);
      this.addQdq(this.floatValue(tensor), qp, out, `${tensor}_${precision}`);
      return out;
    });
  }

  /** qparams of an activation at a precision: from its calibrated entry, or by the scheme's rules. */
  qparams(tensor: string, precision: Precision): QParams {
    if (this.input.scheme.oneRules) {
      const ruled = this.oneQParams(tensor, precision, 0);
      if (ruled) return ruled;
    }
    const producer = this.ruleIndex.producer.get(tensor);
    if (producer?.opType === 'Softmax') {
      const safe = softmaxOutputQParams(producer.opType, precision, this.input.scheme, this.ownQParams(tensor, precision), this.softmaxAxisLength(producer));
      if (safe) return safe;
    }
    return this.ownQParams(tensor, precision);
  }

  /** Length of a Softmax's axis where the inferred shape gives it (opset >= 13: one axis, default -1). */
  private softmaxAxisLength(node: GraphNode): number | null {
    const dims = this.input.types.get(node.inputs[0])?.dims;
    if (!dims || dims.length === 0) return null;
    const axis = typeof node.attributes.axis === 'number' ? node.attributes.axis : this.input.model.opset >= 13 ? -1 : 1;
    const k = axis < 0 ? axis + dims.length : axis;
    return this.input.model.opset >= 13 ? dims[k] ?? null : dims.slice(k).every((d) => d !== null) ? (dims.slice(k) as number[]).reduce((a, b) => a * b, 1) : null;
  }

  private ownQParams(tensor: string, precision: Precision): QParams {
    const entry = this.input.cali.get(tensor);
    if (!entry) throw new MissingCalibrationError(tensor);
    return activationQParams(entry, precision, this.input.scheme);
  }

  /**
   * ONE's QuantizeWithMinMax rules (docs/algorithms.md §1): a shape op's output takes its input's qparams
   * (forward), a Concat's or Pad's inputs take its output's (backward), Sigmoid/Tanh/Softmax outputs
   * get fixed ones. ONE applies backward, then the fixed ones, then forward, each overwriting the
   * last: here forward is asked first for the same outcome. Undefined: the tensor's own range.
   */
  private oneQParams(tensor: string, precision: Precision, depth: number): QParams | undefined {
    if (depth > 64) return undefined;
    const rules = this.input.ruleModel ?? this.input.model;
    const producer = this.ruleIndex.producer.get(tensor);
    const source = producer?.inputs[0];
    if (producer && ONE_FORWARD_OPS.has(producer.opType) && source && !rules.isInitializer(source) && this.input.types.get(source)?.dtype === 'float32') {
      return this.oneQParams(source, precision, depth + 1) ?? this.ownQParams(source, precision);
    }
    const fixed = producer && oneFixedQParams(producer.opType, precision);
    if (fixed) return fixed;
    const joiner = (this.ruleIndex.consumers.get(tensor) ?? []).find((c) => ONE_BACKWARD_OPS.has(c.opType) && (c.opType === 'Concat' || c.inputs[0] === tensor) && isIntegerPrecision(this.precisions.get(c.name)!));
    if (joiner) return this.oneQParams(joiner.outputs[0], precision, depth + 1) ?? this.ownQParams(joiner.outputs[0], precision);
    return undefined;
  }

  private addQdq(from: string, qp: QParams, to: string, base: string): QuantizedNames {
    const zpType = QUANT_DTYPE[qp.type];
    if (!zpType) throw new QbenchError(`activations cannot be stored as ${qp.type}`);
    const scale = this.writer.addInitializer(scalarProto(this.writer.uniqueName(`${base}_scale`), 'float32', qp.scale));
    const zeroPoint = this.writer.addInitializer(scalarProto(this.writer.uniqueName(`${base}_zero_point`), zpType, qp.zeroPoint));
    const quantized = this.writer.uniqueName(`${base}_quantized`);
    this.writer.addNode('QuantizeLinear', [from, scale, zeroPoint], [quantized], `${base}/QuantizeLinear`);
    if (this.inBranch) this.dequantizeByArithmetic(quantized, scale, qp.zeroPoint, to, base);
    else this.writer.addNode('DequantizeLinear', [quantized, scale, zeroPoint], [to], `${base}/DequantizeLinear`);
    return { quantized, scale, zeroPoint };
  }

  /**
   * (float(q) - zp) * s as Cast, Sub, Mul: the values of DequantizeLinear, bit for bit. Used inside
   * If branches, where onnxruntime 1.30's QDQ fusions break the model (a Conv+Relu group: "two
   * nodes with same node name"; a Relu group: a native assertion that aborts the process): with no
   * DequantizeLinear to match, onnxruntime computes those layers in float on the dequantized values,
   * which is what it does for any QDQ group it does not fuse. `scale` may carry a per-channel shape.
   */
  private dequantizeByArithmetic(quantized: string, scale: string, zeroPoint: number, to: string, base: string): void {
    const asFloat = this.writer.uniqueName(`${base}_as_float`);
    this.writer.addNode('Cast', [quantized], [asFloat], `${base}/CastToFloat`, [intAttr('to', DataType.FLOAT)]);
    let centred = asFloat;
    if (zeroPoint !== 0) {
      const zp = this.writer.addInitializer(scalarProto(this.writer.uniqueName(`${base}_zero_point_float`), 'float32', zeroPoint));
      centred = this.writer.uniqueName(`${base}_centred`);
      this.writer.addNode('Sub', [asFloat, zp], [centred], `${base}/SubZeroPoint`);
    }
    this.writer.addNode('Mul', [centred, scale], [to], `${base}/MulScale`);
  }

  /** Inside an If branch (see dequantizeByArithmetic). */
  private inBranch = 0;

  private weightValue(layer: GraphNode, name: string, precision: Precision): string {
    const dims = this.input.model.weight(name).dims;
    const axis = weightChannelAxis(layer.opType, dims.length, { transB: layer.attributes.transB as number | undefined });
    return this.cached(`${name}\u0000w\u0000${precision}\u0000${axis}`, () => {
      const q = this.weightCache.get(this.input.model, name, precision, axis, this.input.weights);
      const values = this.writer.addInitializer(integerTensorProto(this.writer.uniqueName(`${name}_quantized`), q.type, q.dims, q.values));
      // Per channel: 1-D scale and zero point with `axis`; per tensor: scalars, no axis.
      const dims = q.perChannel ? [q.scales.length] : [];
      const scales = this.writer.addInitializer(makeTensorProto(this.writer.uniqueName(`${name}_scale`), { dtype: 'float32', dims, data: q.scales }));
      const zeros = this.writer.addInitializer(integerTensorProto(this.writer.uniqueName(`${name}_zero_point`), q.type, dims, new Int32Array(q.scales.length)));
      const out = this.writer.uniqueName(`${name}_dequantized`);
      if (this.inBranch) {
        // Per-channel scales shaped to broadcast along `axis` ([C, 1, 1, 1] for a Conv).
        const shape = q.perChannel ? q.dims.map((d, k) => (k === axis ? d : 1)) : [];
        const broadcast = this.writer.addInitializer(makeTensorProto(this.writer.uniqueName(`${name}_scale_broadcast`), { dtype: 'float32', dims: shape, data: q.scales }));
        this.dequantizeByArithmetic(values, broadcast, 0, out, name);
      } else {
        this.writer.addNode('DequantizeLinear', [values, scales, zeros], [out], `${name}/DequantizeLinear`, q.perChannel ? [intAttr('axis', axis)] : []);
      }
      return out;
    }, 'weight');
  }

  /** int32 bias behind a DequantizeLinear with scale s_in * s_w[c]; undefined where that is not possible. */
  private biasValue(layer: GraphNode, name: string, precision: Precision): string | undefined {
    const bias = this.input.model.weight(name);
    const weightName = layer.inputs[1];
    if (bias.dims.length !== 1 || !weightName || !this.input.model.isInitializer(weightName)) return undefined;
    const data = layer.inputs[0];
    if (!data || this.dtypeOf(data) !== 'float32' || this.fusedFloat.has(data)) return undefined;
    const inputQp = this.qparams(data, precision);
    const wdims = this.input.model.weight(weightName).dims;
    const axis = weightChannelAxis(layer.opType, wdims.length, { transB: layer.attributes.transB as number | undefined });
    const weight = this.weightCache.get(this.input.model, weightName, precision, axis, this.input.weights);
    const shift = this.input.biasShifts?.get(layer.name);
    const corrected = shift ? Float32Array.from(bias.data as Float32Array, (b, c) => b + shift[c]) : (bias.data as Float32Array);
    return this.cached(`${name}\u0000b\u0000${inputQp.scale}\u0000${weightName}\u0000${precision}\u0000${shift ? layer.name : ''}`, () => {
      // A float bias on an integer layer would be quantized by onnxruntime itself (WeightBiasQuantization:
      // int32 at s_in * s_w, overflowing for 16-bit scales), so every integer layer stores its own.
      const q = quantizeBias(corrected, inputQp.scale, weight.scales, precision === 'INT16');
      const values = this.writer.addInitializer(makeTensorProto(this.writer.uniqueName(`${name}_quantized`), { dtype: 'int32', dims: [q.values.length], data: q.values }));
      const scales = this.writer.addInitializer(makeTensorProto(this.writer.uniqueName(`${name}_scale`), { dtype: 'float32', dims: [q.scales.length], data: q.scales }));
      const zeros = this.writer.addInitializer(makeTensorProto(this.writer.uniqueName(`${name}_zero_point`), { dtype: 'int32', dims: [q.values.length], data: new Int32Array(q.values.length) }));
      const out = this.writer.uniqueName(`${name}_dequantized`);
      if (this.inBranch) this.dequantizeByArithmetic(values, scales, 0, out, name);
      else this.writer.addNode('DequantizeLinear', [values, scales, zeros], [out], `${name}/DequantizeLinear`, [intAttr('axis', 0)]);
      return out;
    }, 'weight');
  }

  private fp16Initializer(name: string): string {
    return this.cached(`${name}\u0000fp16init`, () => {
      const weight = this.input.model.weight(name);
      const bits = float32ToFloat16Bits(weight.data as Float32Array);
      return this.writer.addInitializer(makeTensorProto(this.writer.uniqueName(`${name}_fp16`), { dtype: 'float16', dims: weight.dims, data: bits }));
    }, 'weight');
  }

  /** `kind` 'weight': made from initializers only, so a local copy shares it with the rest of the build. */
  private cached(key: string, create: () => string, kind: 'activation' | 'weight' = 'activation'): string {
    const cache = this.local && kind === 'activation' ? this.local.activations : this.cache;
    let name = cache.get(key);
    if (name === undefined) {
      name = create();
      cache.set(key, name);
    }
    return name;
  }
}

