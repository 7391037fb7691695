import { QbenchError } from '../../errors';
import type { CaliEntry } from '../../model/CaliTable';
import type { DType } from '../../model/tensor';
import { intsAttr } from '../onnx/attributes';
import { DataType, onnx } from '../onnx/protobuf';
import { quantizerRange } from '../onnx/quantizedForm';
import { int64VectorProto, makeTensorProto, ONNX_DATA_TYPE } from '../onnx/tensorProto';
import { convertedTensorNames, type FlatModel, type FlatOperator, type FlatTensor } from './flatModel';
import { dtypeOf, floatValues, isQuantized, storedValues, TensorType } from './flatTensors';

/**
 * 'float': the float model qbench works on (weights de-quantized, activations float).
 * 'quantized': the same graph with each quantized activation passed through its quantizer as the
 * file stores it (QuantizeLinear -> DequantizeLinear with the file's scale and zero point): the
 * file's own quantized model, run by onnxruntime to compare a re-quantization with.
 */
export type ConvertMode = 'float' | 'quantized';

/**
 * Where a 4-D tensor lives: 'native' as the file has it (NHWC for images), 'cf' channels first
 * (NCHW, a [0, 3, 1, 2] permutation), which ONNX's Conv, pooling and Resize need.
 */
export type Layout = 'native' | 'cf';

export const TO_CF = [0, 3, 1, 2];
export const TO_NATIVE = [0, 2, 3, 1];

interface Placed {
  native?: string;
  cf?: string;
}

const INTEGER_LIMITS: Record<number, [number, number]> = {
  [TensorType.INT8]: [-128, 127], [TensorType.UINT8]: [0, 255], [TensorType.INT16]: [-32768, 32767], [TensorType.UINT16]: [0, 65535],
};

const QUANTIZER_TYPES: Record<number, number> = {
  [TensorType.INT8]: DataType.INT8, [TensorType.UINT8]: DataType.UINT8, [TensorType.INT16]: DataType.INT16, [TensorType.UINT16]: DataType.UINT16,
};

/**
 * The state of one conversion: the ONNX nodes and initializers written so far, where each TFLite
 * tensor is (in which layout, under which ONNX name), the quantizers' ranges. Operators are written
 * in the file's order, which is topological, so every node comes after the nodes it reads.
 */
export class Lowering {
  readonly nodes: onnx.NodeProto[] = [];
  readonly initializers: onnx.TensorProto[] = [];
  /** Each quantized activation's range as the file stores it (its scale and zero point), by ONNX tensor name. */
  readonly ranges = new Map<string, CaliEntry>();
  readonly inputs: onnx.ValueInfoProto[] = [];
  readonly outputs: onnx.ValueInfoProto[] = [];
  /** Each TFLite tensor's own name, made unique. */
  private readonly own: string[];
  private readonly placed = new Map<number, Placed>();
  private readonly takenTensors = new Set<string>();
  private readonly takenNodes = new Set<string>();
  /** Constants computed while converting (a DEQUANTIZE of a float16 or int8 weight). */
  private readonly folded = new Map<number, Float32Array>();
  private readonly graphOutputs: Set<number>;
  /** Initializers already written for a constant, by `<index>:<layout>` (a weight read twice is stored once). */
  private readonly constants = new Map<string, string>();
  /** Own names already given to an initializer (a constant's first initializer takes the file's name). */
  private readonly claimed = new Set<string>();
  /** The operator being converted, named in every error. */
  current: FlatOperator | null = null;
  /** Each ONNX node's origin: the name of the file's tensor its operator writes (a graph input's own name for its quantizer). */
  readonly origins = new Map<string, string>();
  /** The origin of nodes written outside any operator (graph inputs and outputs). */
  private outsideOrigin = '';

  constructor(readonly model: FlatModel, readonly mode: ConvertMode) {
    this.own = convertedTensorNames(model.tensors);
    for (const name of this.own) this.takenTensors.add(name);
    this.graphOutputs = new Set(model.outputs);
  }

  get fileName(): string {
    return this.model.fileName;
  }

  tensor(index: number): FlatTensor {
    const t = this.model.tensors[index];
    if (!t) throw this.error(`reads tensor ${index}, which the model does not have`);
    return t;
  }

  ownName(index: number): string {
    return this.own[index];
  }

  /** A QbenchError naming the file, the operator and the tensor it writes. */
  error(message: string): QbenchError {
    const op = this.current;
    const where = op ? `operator ${op.opcode} (#${op.index}, writing tensor "${op.outputs[0] >= 0 ? this.own[op.outputs[0]] : '?'}")` : 'the model';
    return new QbenchError(`${where} ${message}`, this.fileName);
  }

  tensorName(base: string): string {
    let name = base;
    for (let k = 2; this.takenTensors.has(name); k++) name = `${base}_${k}`;
    this.takenTensors.add(name);
    return name;
  }

  nodeName(base: string): string {
    let name = base;
    for (let k = 2; this.takenNodes.has(name); k++) name = `${base}_${k}`;
    this.takenNodes.add(name);
    return name;
  }

  node(opType: string, inputs: readonly string[], outputs: readonly string[], name: string, attributes: onnx.IAttributeProto[] = [], domain = ''): void {
    const unique = this.nodeName(name);
    this.origins.set(unique, this.current && this.current.outputs[0] >= 0 ? this.own[this.current.outputs[0]] : this.outsideOrigin);
    this.nodes.push(onnx.NodeProto.create({ opType, domain, input: [...inputs], output: [...outputs], name: unique, attribute: attributes.map((a) => onnx.AttributeProto.create(a)) }));
  }

  /** A new tensor name for an intermediate value of operator output `index` (`<name>/<what>`). */
  temp(index: number, what: string): string {
    return this.tensorName(`${this.own[index]}/${what}`);
  }

  // ---- constants ----

  /** A constant: stored in the file (not an RNN state) or computed while converting. */
  isConstant(index: number): boolean {
    if (index < 0) return false;
    const t = this.tensor(index);
    return this.folded.has(index) || (t.data !== null && !t.isVariable);
  }

  fold(index: number, values: Float32Array): void {
    this.folded.set(index, values);
  }

  /** A constant's values as float (de-quantized, widened from float16). */
  constantFloats(index: number): Float32Array {
    const folded = this.folded.get(index);
    if (folded) return folded;
    const t = this.tensor(index);
    if (!this.isConstant(index)) throw this.error(`needs tensor "${t.name}" to be a constant, but it is computed by the model; qbench converts this operator with constant ${t.name} only`);
    return floatValues(t, this.fileName);
  }

  /** A constant's values as integers (shapes, axes, paddings, indices). */
  constantInts(index: number): number[] {
    const t = this.tensor(index);
    if (!this.isConstant(index) || this.folded.has(index)) throw this.error(`needs tensor "${t.name}" to be a constant, but it is computed by the model; qbench converts this operator with a constant ${t.name} only`);
    const stored = storedValues(t, this.fileName);
    return Array.from(stored.data as ArrayLike<number | bigint>, (v) => Number(v));
  }

  /** The file's name for a constant's first initializer, `<name>_2`... for other forms of it (transposed weights). */
  constantName(index: number): string {
    const own = this.own[index];
    if (this.claimed.has(own)) return this.tensorName(own);
    this.claimed.add(own);
    return own;
  }

  /** A float32 initializer; returns its name. */
  floatInit(base: string, values: Float32Array, dims: readonly number[]): string {
    const name = this.tensorName(base);
    this.initializers.push(makeTensorProto(name, { dtype: 'float32', dims: [...dims], data: values }));
    return name;
  }

  /** A constant transformed for ONNX (a kernel transposed to OIHW) under the file's name. */
  weightInit(index: number, values: Float32Array, dims: readonly number[]): string {
    const name = this.constantName(index);
    this.initializers.push(makeTensorProto(name, { dtype: 'float32', dims: [...dims], data: values }));
    return name;
  }

  int64Init(base: string, values: readonly number[]): string {
    const name = this.tensorName(base);
    this.initializers.push(int64VectorProto(name, values));
    return name;
  }

  scalarInit(base: string, dtype: DType, value: number): string {
    const name = this.tensorName(base);
    const data = dtype === 'float32' ? new Float32Array([value]) : dtype === 'int8' ? new Int8Array([value]) : dtype === 'uint8' ? new Uint8Array([value]) : dtype === 'int16' ? new Int16Array([value]) : dtype === 'uint16' ? new Uint16Array([value]) : new Int32Array([value]);
    this.initializers.push(makeTensorProto(name, { dtype, dims: [], data }));
    return name;
  }

  /**
   * A constant operand as an initializer in `layout`: float (de-quantized) when the tensor is float
   * or quantized, else its stored integers. In 'cf' a constant of rank below 4 is first read with
   * leading ones (numpy broadcasting), so a per-channel [C] vector becomes [1, C, 1, 1].
   */
  constant(index: number, layout: Layout = 'native'): string {
    const key = `${index}:${layout}`;
    const cached = this.constants.get(key);
    if (cached) return cached;
    const t = this.tensor(index);
    const isFloat = this.folded.has(index) || t.type === TensorType.FLOAT32 || t.type === TensorType.FLOAT16 || isQuantized(t);
    const name = this.constantName(index);
    this.constants.set(key, name);
    if (!isFloat) {
      const stored = storedValues(t, this.fileName);
      if (layout === 'cf') throw this.error(`cannot place integer constant "${t.name}" channels-first`);
      this.initializers.push(makeTensorProto(name, stored));
      return name;
    }
    let values = this.constantFloats(index);
    let dims = [...t.shape];
    if (layout === 'cf') {
      while (dims.length < 4) dims = [1, ...dims];
      if (dims.length !== 4) throw this.error(`cannot place constant "${t.name}" of rank ${t.shape.length} channels-first`);
      values = transpose(values, dims, TO_CF);
      dims = TO_CF.map((p) => dims[p]);
    }
    this.initializers.push(makeTensorProto(name, { dtype: 'float32', dims, data: values }));
    return name;
  }

  // ---- activations ----

  /** Whether tensor `index` is already placed in `layout` (a cheap read). */
  has(index: number, layout: Layout): boolean {
    return this.placed.get(index)?.[layout] !== undefined;
  }

  /** The layout to read an activation in: channels-first when it is there already, else as the file has it. */
  preferred(index: number): Layout {
    return this.has(index, 'cf') ? 'cf' : 'native';
  }

  /**
   * The ONNX tensor holding TFLite tensor `index` in `layout` (a constant becomes an initializer).
   * Where it exists only in the other layout, a Transpose is written once and kept for later readers.
   */
  read(index: number, layout: Layout = 'native'): string {
    if (index < 0) throw this.error('lacks an input the conversion needs');
    if (this.isConstant(index)) return this.constant(index, layout);
    const placed = this.placed.get(index);
    if (!placed) throw this.error(`reads tensor "${this.tensor(index).name}", which nothing computed before it`);
    const there = placed[layout];
    if (there) return there;
    const rank = this.tensor(index).shape.length;
    if (rank !== 4) throw this.error(`needs tensor "${this.own[index]}" of rank ${rank} channels-first; only 4-D tensors are`);
    const from = layout === 'cf' ? placed.native! : placed.cf!;
    const out = this.tensorName(`${this.own[index]}/${layout === 'cf' ? 'nchw' : 'nhwc'}`);
    this.node('Transpose', [from], [out], `${this.own[index]}/to_${layout === 'cf' ? 'nchw' : 'nhwc'}`, [intsAttr('perm', layout === 'cf' ? TO_CF : TO_NATIVE)]);
    placed[layout] = out;
    return out;
  }

  /** Registers an ONNX tensor as TFLite tensor `index` in `layout` without writing a node (a folded transpose). */
  alias(index: number, layout: Layout, onnxName: string): void {
    const placed = this.placed.get(index) ?? {};
    placed[layout] = onnxName;
    this.placed.set(index, placed);
  }

  /**
   * Writes TFLite tensor `index` in `layout`: `write(out)` adds the nodes that compute it into
   * `out`. The tensor gets its own name (a graph output keeps it in the file's layout); in
   * 'quantized' mode a quantized tensor passes through its quantizer after them.
   */
  produce(index: number, layout: Layout, write: (out: string) => void): string {
    return this.produceMany([index], layout, ([out]) => write(out))[0];
  }

  /** produce() for an operator with several outputs (SPLIT, UNPACK): one node writes them all. */
  produceMany(indices: readonly number[], layout: Layout, write: (outs: string[]) => void): string[] {
    const plans = indices.map((index) => {
      const t = this.tensor(index);
      const own = this.own[index];
      const isOutput = this.graphOutputs.has(index);
      const final = layout === 'cf' && isOutput ? this.tensorName(`${own}/nchw`) : own;
      const quantized = isQuantized(t);
      if (quantized && t.quantization.scale.length > 1) throw this.error(`writes tensor "${own}" quantized per channel; qbench reads activations quantized per tensor only`);
      const fakeQuant = quantized && this.mode === 'quantized';
      return { index, t, own, isOutput, final, quantized, fakeQuant, raw: fakeQuant ? this.tensorName(`${own}/raw`) : final };
    });
    write(plans.map((p) => p.raw));
    for (const p of plans) {
      if (p.fakeQuant) this.quantizer(p.t, p.raw, p.final);
      this.keepRange(p.final, p.t);
      this.alias(p.index, layout, p.final);
      if (layout === 'cf' && p.isOutput) {
        this.node('Transpose', [p.final], [p.own], `${p.own}/to_nhwc`, [intsAttr('perm', TO_NATIVE)]);
        this.alias(p.index, 'native', p.own);
      }
    }
    return plans.map((p) => p.final);
  }

  /**
   * The file's range of tensor `params` kept for ONNX tensor `name` (int8/uint8/int16/uint16 only:
   * an int32 quantizer's range is no calibration anyone would re-quantize with).
   */
  keepRange(name: string, params: FlatTensor): void {
    if (!isQuantized(params) || QUANTIZER_TYPES[params.type] === undefined) return;
    this.ranges.set(name, quantizerRange(params.quantization.scale[0], params.quantization.zeroPoint[0] ?? 0, QUANTIZER_TYPES[params.type]));
  }

  /**
   * A value inside a decomposed operator that the file quantizes with tensor `params`'s scale (an
   * LSTM's hidden and cell state at each step, an SVDF's state): in 'quantized' mode it passes
   * through that quantizer; its range is kept either way.
   */
  requantize(params: number, from: string, base: string): string {
    const t = this.tensor(params);
    if (!isQuantized(t)) return from;
    if (this.mode !== 'quantized') {
      this.keepRange(from, t);
      return from;
    }
    const to = this.tensorName(`${base}/requantized`);
    this.quantizer(t, from, to);
    this.keepRange(to, t);
    return to;
  }

  /**
   * real -> stored -> real with the tensor's own scale and zero point, spelled as arithmetic:
   * clip(round(x / s) + zp, qmin, qmax) - zp, times s. Not as a QuantizeLinear/DequantizeLinear
   * pair: onnxruntime would fuse those pairs with their neighbours into integer kernels of its own
   * (with its own rounding, and type errors on int8 Gemm inputs in 1.30), where this must compute
   * what the file computes. Round is half to even, as QuantizeLinear's.
   */
  quantizer(t: FlatTensor, from: string, to: string): void {
    const q = t.quantization!;
    this.roundTo(from, to, this.own[t.index], q.scale[0], q.zeroPoint[0] ?? 0, INTEGER_LIMITS[t.type] ?? [-2147483648, 2147483647]);
  }

  private roundTo(from: string, to: string, own: string, scaleValue: number, zp: number, [qmin, qmax]: [number, number]): void {
    const scale = this.scalarInit(`${own}/scale`, 'float32', scaleValue);
    const low = this.scalarInit(`${own}/qmin`, 'float32', qmin - zp);
    const high = this.scalarInit(`${own}/qmax`, 'float32', qmax - zp);
    const divided = this.tensorName(`${own}/divided`);
    const rounded = this.tensorName(`${own}/rounded`);
    const clipped = this.tensorName(`${own}/clipped`);
    this.node('Div', [from, scale], [divided], `${own}/quantize_div`);
    this.node('Round', [divided], [rounded], `${own}/quantize_round`);
    // Clipping round(x / s) to [qmin - zp, qmax - zp] is clipping round(x / s) + zp to [qmin, qmax].
    this.node('Clip', [rounded, low, high], [clipped], `${own}/quantize_clip`);
    this.node('Mul', [clipped, scale], [to], `${own}/dequantize_mul`);
  }

  /** The graph inputs: float where the file's input is quantized (a quantizer follows in 'quantized' mode). */
  declareInputs(): void {
    for (const index of this.model.inputs) {
      const t = this.tensor(index);
      const own = this.own[index];
      this.outsideOrigin = own;
      const quantized = isQuantized(t);
      this.inputs.push(valueInfo(own, quantized ? 'float32' : dtypeOf(t, this.fileName), t.shape));
      let name = own;
      if (quantized) {
        this.keepRange(own, t);
        if (this.mode === 'quantized') {
          name = this.tensorName(`${own}/dequantized`);
          this.quantizer(t, own, name);
        }
      }
      this.alias(index, 'native', name);
    }
  }

  /** The graph outputs under the file's names and in its layout. */
  declareOutputs(): void {
    for (const index of this.model.outputs) {
      const t = this.tensor(index);
      const own = this.own[index];
      this.outsideOrigin = own;
      const name = this.read(index, 'native');
      if (name !== own) this.node('Identity', [name], [own], `${own}/output`);
      this.outputs.push(valueInfo(own, isQuantized(t) || t.type === TensorType.FLOAT16 ? 'float32' : dtypeOf(t, this.fileName), t.shape));
    }
  }
}

export function valueInfo(name: string, dtype: DType, dims: readonly number[]): onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: ONNX_DATA_TYPE[dtype], shape: onnx.TensorShapeProto.create({ dim: dims.map((d) => onnx.TensorShapeProto.Dimension.create(d >= 0 ? { dimValue: d } : { dimParam: 'N' })) }) }) }),
  });
}

/** Values of a row-major tensor of shape `dims` permuted by `perm` (numpy's transpose). */
export function transpose(values: Float32Array, dims: readonly number[], perm: readonly number[]): Float32Array {
  // Both conversions of a quantized file transpose the same (cached) weights: once is enough.
  const key = `${dims.join(',')}/${perm.join(',')}`;
  let done = transposed.get(values);
  if (!done) transposed.set(values, (done = new Map()));
  let out = done.get(key);
  if (!out) done.set(key, (out = transposeNow(values, dims, perm)));
  return out;
}

/** transpose's results by source array and layout; never written to. */
const transposed = new WeakMap<Float32Array, Map<string, Float32Array>>();

function transposeNow(values: Float32Array, dims: readonly number[], perm: readonly number[]): Float32Array {
  const rank = dims.length;
  const outDims = perm.map((p) => dims[p]);
  const inStrides = new Array<number>(rank);
  let stride = 1;
  for (let i = rank - 1; i >= 0; i--) { inStrides[i] = stride; stride *= dims[i]; }
  const out = new Float32Array(values.length);
  const index = new Array<number>(rank).fill(0);
  const permStrides = perm.map((p) => inStrides[p]);
  // The source offset follows the output index incrementally (no sum over the axes per element).
  let source = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = values[source];
    for (let k = rank - 1; k >= 0; k--) {
      source += permStrides[k];
      if (++index[k] < outDims[k]) break;
      source -= outDims[k] * permStrides[k];
      index[k] = 0;
    }
  }
  return out;
}
