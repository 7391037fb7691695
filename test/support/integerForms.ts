import type { Engine } from '../../src/core/engine/Engine';
import { intAttribute } from '../../src/core/io/onnx/attributes';
import { AttributeType, DataType, onnx } from '../../src/core/io/onnx/protobuf';
import { readTensorProto } from '../../src/core/io/onnx/tensorProto';
import type { TensorMap } from '../../src/core/model/tensor';
import { exposeAllTensors } from '../../src/core/engine/tensorTypes';

// Quantized models written the way onnxruntime's Python quantizer writes them (quantize_static in
// QOperator format, quantize_dynamic), for tests of de-quantization: no npm package ships an ONNX
// QOperator or dynamic-int8 model, and onnxruntime's Python tools cannot be installed here. The
// node and tensor names, the operators, the fused Relu, the bias and weight conventions follow
// onnxruntime/python/tools/quantization (onnx_quantizer.py, operators/*.py).

const MS = 'com.microsoft';

/** Every tensor's [min, max] over the samples (graph inputs and node outputs), as calibration sees them. */
export async function tensorRanges(engine: Engine, model: onnx.ModelProto, samples: readonly TensorMap[]): Promise<Map<string, [number, number]>> {
  const session = await engine.createSession(onnx.ModelProto.encode(exposeAllTensors(model)).finish());
  const ranges = new Map<string, [number, number]>();
  try {
    for (const sample of samples) {
      const all = { ...sample, ...(await session.run(sample)) };
      for (const [name, tensor] of Object.entries(all)) {
        if (tensor.dtype !== 'float32') continue;
        let [min, max] = ranges.get(name) ?? [Infinity, -Infinity];
        for (const v of tensor.data as Float32Array) {
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
        ranges.set(name, [min, max]);
      }
    }
  } finally {
    await session.dispose();
  }
  return ranges;
}

/** onnxruntime's compute_scale_zp for uint8: the range widened to hold 0, zero point rounded. */
function uint8Params([min, max]: [number, number]): { scale: number; zeroPoint: number } {
  const rmin = Math.min(min, 0);
  const rmax = Math.max(max, 0);
  const scale = rmax > rmin ? Math.fround((rmax - rmin) / 255) : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-rmin / scale))) };
}

const floatValues = (t: onnx.TensorProto) => Float32Array.from(readTensorProto(t, 'float.onnx').data as Float32Array);
const scalarProto = (name: string, dataType: number, value: number) => onnx.TensorProto.create({ name, dims: [], dataType, ...(dataType === DataType.FLOAT ? { floatData: [value] } : { int32Data: [value] }) });
const vectorProto = (name: string, dataType: number, values: readonly number[]) => onnx.TensorProto.create({ name, dims: [values.length], dataType, ...(dataType === DataType.FLOAT ? { floatData: [...values] } : { int32Data: [...values] }) });
const node = (opType: string, input: string[], output: string[], name: string, attribute: onnx.IAttributeProto[] = [], domain = '') => onnx.NodeProto.create({ opType, input, output, name, attribute, domain });

/** Symmetric int8 per channel of `axis` (scale max|w|/127, zero point 0), as quantize_weight_per_channel. */
function int8PerChannel(w: Float32Array, dims: number[], axis: number): { q: number[]; scales: number[] } {
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = dims[axis];
  const scales = Array.from({ length: channels }, () => 0);
  w.forEach((v, i) => { const c = Math.floor(i / inner) % channels; scales[c] = Math.max(scales[c], Math.abs(v)); });
  for (let c = 0; c < channels; c++) scales[c] = Math.fround(scales[c] > 0 ? scales[c] / 127 : 1);
  const q = Array.from(w, (v, i) => Math.max(-127, Math.min(127, Math.round(v / scales[Math.floor(i / inner) % channels]))));
  return { q, scales };
}

/**
 * quantize_static(quant_format=QOperator, activation uint8, weight int8 per channel) of a float
 * model: QuantizeLinear at the inputs, integer operators (QLinearConv, QLinearMatMul, QGemm and the
 * com.microsoft QLinearAdd/Mul/Sigmoid/LeakyRelu/Concat/AveragePool/GlobalAveragePool/Softmax),
 * MaxPool/Pad/Flatten/Reshape/Transpose on the integer tensors, a Relu after a quantized operator
 * removed (its range given to the operator's output), DequantizeLinear before float operators and
 * at the graph outputs. `floatOps` stay float (as operators onnxruntime does not quantize).
 */
export function toQOperator(float: onnx.ModelProto, ranges: ReadonlyMap<string, [number, number]>, floatOps: ReadonlySet<string> = new Set()): onnx.ModelProto {
  const graph = float.graph!;
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const consumers = new Map<string, onnx.NodeProto[]>();
  for (const n of graph.node) for (const i of n.input) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const range = new Map(ranges);
  // adjust_tensor_ranges: a Relu/Clip's input takes its output's range when the Relu is its only reader.
  for (const n of graph.node) if ((n.opType === 'Relu' || n.opType === 'Clip') && consumers.get(n.input[0])?.length === 1) range.set(n.input[0], range.get(n.output[0])!);
  const nodes: onnx.NodeProto[] = [];
  const inits: onnx.TensorProto[] = [];
  const quantized = new Map<string, { q: string; s: string; zp: string }>();
  const floatReady = new Set<string>([...graph.input.map((i) => i.name), ...graph.initializer.map((t) => t.name)]);
  const paramsOf = (tensor: string) => {
    const { scale, zeroPoint } = uint8Params(range.get(tensor)!);
    const s = `${tensor}_scale`;
    const zp = `${tensor}_zero_point`;
    inits.push(scalarProto(s, DataType.FLOAT, scale), scalarProto(zp, DataType.UINT8, zeroPoint));
    return { q: `${tensor}_quantized`, s, zp };
  };
  const quantizeInput = (tensor: string) => {
    const known = quantized.get(tensor);
    if (known) return known;
    const stored = initializers.get(tensor);
    if (stored) {
      // a constant operand (Add's, Mul's) is stored quantized with its own range
      const values = floatValues(stored);
      const { scale, zeroPoint } = uint8Params([Math.min(...values), Math.max(...values)]);
      const p = { q: `${tensor}_quantized`, s: `${tensor}_scale`, zp: `${tensor}_zero_point` };
      inits.push(onnx.TensorProto.create({ name: p.q, dims: stored.dims, dataType: DataType.UINT8, int32Data: Array.from(values, (v) => Math.max(0, Math.min(255, Math.round(v / scale) + zeroPoint))) }));
      inits.push(scalarProto(p.s, DataType.FLOAT, scale), scalarProto(p.zp, DataType.UINT8, zeroPoint));
      quantized.set(tensor, p);
      return p;
    }
    const p = paramsOf(tensor);
    nodes.push(node('QuantizeLinear', [tensor, p.s, p.zp], [p.q], `${tensor}_QuantizeLinear`));
    quantized.set(tensor, p);
    return p;
  };
  const dequantizeOutput = (tensor: string) => {
    if (floatReady.has(tensor)) return;
    const p = quantized.get(tensor)!;
    nodes.push(node('DequantizeLinear', [p.q, p.s, p.zp], [tensor], `${tensor}_DequantizeLinear`));
    floatReady.add(tensor);
  };
  const outputOf = (n: onnx.NodeProto) => {
    const p = paramsOf(n.output[0]);
    quantized.set(n.output[0], p);
    return p;
  };
  const weightInit = (name: string, axis: number) => {
    const w = initializers.get(name)!;
    const dims = w.dims.map(Number);
    const { q, scales } = int8PerChannel(floatValues(w), dims, axis);
    inits.push(onnx.TensorProto.create({ name: `${name}_quantized`, dims, dataType: DataType.INT8, int32Data: q }));
    inits.push(vectorProto(`${name}_scale`, DataType.FLOAT, scales), vectorProto(`${name}_zero_point`, DataType.INT8, scales.map(() => 0)));
    return { q: `${name}_quantized`, s: `${name}_scale`, zp: `${name}_zero_point`, scales };
  };
  const biasInit = (name: string, inputScale: string, weightScales: number[]) => {
    const xs = Number(inits.find((t) => t.name === inputScale)!.floatData[0]);
    const values = floatValues(initializers.get(name)!);
    inits.push(onnx.TensorProto.create({ name: `${name}_quantized`, dims: [values.length], dataType: DataType.INT32, int32Data: Array.from(values, (v, i) => Math.round(v / (xs * weightScales[i]))) }));
    return `${name}_quantized`;
  };
  for (const n of graph.node) {
    const op = n.opType;
    const name = `${n.name}_quant`;
    if (floatOps.has(op) || ((op === 'Relu' || op === 'Clip') && !quantized.has(n.input[0]))) {
      for (const i of n.input) if (i && !floatReady.has(i)) dequantizeOutput(i);
      nodes.push(n);
      for (const o of n.output) floatReady.add(o);
      continue;
    }
    if ((op === 'Relu' || op === 'Clip') && quantized.has(n.input[0])) {
      quantized.set(n.output[0], quantized.get(n.input[0])!); // QuantizeClipRelu: the node goes
      continue;
    }
    if (op === 'Conv') {
      const x = quantizeInput(n.input[0]);
      const w = weightInit(n.input[1], 0);
      const bias = n.input[2] ? [biasInit(n.input[2], x.s, w.scales)] : [];
      const y = outputOf(n);
      nodes.push(node('QLinearConv', [x.q, x.s, x.zp, w.q, w.s, w.zp, y.s, y.zp, ...bias], [y.q], name, n.attribute));
    } else if (op === 'Gemm') {
      const a = quantizeInput(n.input[0]);
      const transB = intAttribute(n, 'transB', 0);
      const w = weightInit(n.input[1], transB ? 0 : 1);
      const bias = n.input[2] ? biasInit(n.input[2], a.s, w.scales) : '';
      const y = outputOf(n);
      nodes.push(node('QGemm', [a.q, a.s, a.zp, w.q, w.s, w.zp, bias, y.s, y.zp], [y.q], name, n.attribute.filter((x) => x.name !== 'beta'), MS));
    } else if (op === 'MatMul' && initializers.has(n.input[1])) {
      const a = quantizeInput(n.input[0]);
      const w = weightInit(n.input[1], 1);
      const y = outputOf(n);
      nodes.push(node('QLinearMatMul', [a.q, a.s, a.zp, w.q, w.s, w.zp, y.s, y.zp], [y.q], name));
    } else if (op === 'Add' || op === 'Mul') {
      const a = quantizeInput(n.input[0]);
      const b = quantizeInput(n.input[1]);
      const y = outputOf(n);
      nodes.push(node(`QLinear${op}`, [a.q, a.s, a.zp, b.q, b.s, b.zp, y.s, y.zp], [y.q], name, [], MS));
    } else if (op === 'Sigmoid' || op === 'LeakyRelu' || op === 'AveragePool' || op === 'GlobalAveragePool' || op === 'Softmax') {
      const x = quantizeInput(n.input[0]);
      const y = outputOf(n);
      const attributes = [...n.attribute];
      if (op === 'GlobalAveragePool' || op === 'AveragePool') attributes.push(onnx.AttributeProto.create({ name: 'channels_last', type: AttributeType.INT, i: 0 }));
      if (op === 'Softmax') attributes.push(onnx.AttributeProto.create({ name: 'opset', type: AttributeType.INT, i: 13 }));
      nodes.push(node(`QLinear${op}`, [x.q, x.s, x.zp, y.s, y.zp], [y.q], name, attributes, MS));
    } else if (op === 'Concat') {
      const inputs = n.input.map(quantizeInput);
      const y = outputOf(n);
      nodes.push(node('QLinearConcat', [y.s, y.zp, ...inputs.flatMap((x) => [x.q, x.s, x.zp])], [y.q], name, n.attribute, MS));
    } else if (['MaxPool', 'Reshape', 'Transpose', 'Flatten', 'Squeeze', 'Unsqueeze', 'Pad'].includes(op)) {
      // Direct8BitOp / QMaxPool / QPad: the integer tensor passes with its input's parameters.
      const x = quantizeInput(n.input[0]);
      const out = { q: `${n.output[0]}_quantized`, s: x.s, zp: x.zp };
      quantized.set(n.output[0], out);
      const inputs = [x.q, ...n.input.slice(1)];
      if (op === 'Pad' && inputs.length === 2) inputs.push(x.zp); // the pad value 0 is the zero point
      nodes.push(node(op, inputs, [out.q], n.name, n.attribute));
    } else {
      throw new Error(`toQOperator: no rule for ${op}`);
    }
  }
  for (const o of graph.output) dequantizeOutput(o.name);
  return onnx.ModelProto.create({
    ...float,
    opsetImport: [...float.opsetImport, { domain: MS, version: 1 }],
    graph: onnx.GraphProto.create({ ...graph, node: nodes, initializer: [...graph.initializer.filter((t) => nodes.some((x) => x.input.includes(t.name))), ...inits] }),
  });
}

/**
 * quantize_dynamic of a float model: each Conv and MatMul with a stored weight reads its input
 * through DynamicQuantizeLinear, runs as ConvInteger/MatMulInteger, is Cast to float and scaled by
 * Mul(x_scale, w_scale); a Conv bias is added after by Reshape + Add. Conv weights: int8 per tensor
 * (symmetric); MatMul weights: uint8 per column with their own zero points (per_channel=True).
 */
export function toDynamic(float: onnx.ModelProto): onnx.ModelProto {
  const graph = float.graph!;
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const nodes: onnx.NodeProto[] = [];
  const inits: onnx.TensorProto[] = [];
  const dynamicInputs = new Map<string, [string, string, string]>();
  const quantizeInput = (tensor: string) => {
    let known = dynamicInputs.get(tensor);
    if (!known) {
      known = [`${tensor}_quantized`, `${tensor}_scale`, `${tensor}_zero_point`];
      nodes.push(node('DynamicQuantizeLinear', [tensor], known, `${tensor}_QuantizeLinear`));
      dynamicInputs.set(tensor, known);
    }
    return known;
  };
  for (const n of graph.node) {
    const weight = initializers.get(n.input[1] ?? '');
    if ((n.opType !== 'Conv' && n.opType !== 'MatMul') || !weight) {
      nodes.push(n);
      continue;
    }
    const [xq, xs, xzp] = quantizeInput(n.input[0]);
    const dims = weight.dims.map(Number);
    const w = floatValues(weight);
    const wq = `${weight.name}_quantized`;
    const ws = `${weight.name}_scale`;
    const wzp = `${weight.name}_zero_point`;
    if (n.opType === 'Conv') {
      const scale = Math.fround(Math.max(...w.map(Math.abs)) / 127);
      inits.push(onnx.TensorProto.create({ name: wq, dims, dataType: DataType.INT8, int32Data: Array.from(w, (v) => Math.round(v / scale)) }), scalarProto(ws, DataType.FLOAT, scale), scalarProto(wzp, DataType.INT8, 0));
    } else {
      // per column: uint8 asymmetric, one (scale, zero point) per output feature
      const [k, cols] = dims;
      const scales: number[] = [];
      const zeroPoints: number[] = [];
      for (let c = 0; c < cols; c++) {
        const column = Array.from({ length: k }, (_, r) => w[r * cols + c]);
        const p = uint8Params([Math.min(...column), Math.max(...column)]);
        scales.push(p.scale);
        zeroPoints.push(p.zeroPoint);
      }
      inits.push(onnx.TensorProto.create({ name: wq, dims, dataType: DataType.UINT8, int32Data: Array.from(w, (v, i) => Math.max(0, Math.min(255, Math.round(v / scales[i % cols]) + zeroPoints[i % cols]))) }));
      inits.push(vectorProto(ws, DataType.FLOAT, scales), vectorProto(wzp, DataType.UINT8, zeroPoints));
    }
    const name = `${n.name}_quant`;
    const integerOut = `${n.output[0]}_output_quantized`;
    const hasBias = n.opType === 'Conv' && !!n.input[2];
    const scaled = hasBias ? `${n.output[0]}quant_scaled_output` : n.output[0];
    nodes.push(
      node(n.opType === 'Conv' ? 'ConvInteger' : 'MatMulInteger', [xq, wq, xzp, wzp], [integerOut], name, n.opType === 'Conv' ? n.attribute : []),
      node('Cast', [integerOut], [`${integerOut}_cast_output`], `${integerOut}_cast`, [onnx.AttributeProto.create({ name: 'to', type: AttributeType.INT, i: DataType.FLOAT })]),
      node('Mul', [xs, ws], [`${name}_scales_mul:0`], `${name}_scales_mul`),
      node('Mul', [`${integerOut}_cast_output`, `${name}_scales_mul:0`], [scaled], `${name}_output_scale_mul`),
    );
    if (hasBias) {
      inits.push(onnx.TensorProto.create({ name: `${n.output[0]}_bias_reshape_shape`, dims: [4], dataType: DataType.INT64, int64Data: [1, -1, 1, 1] }));
      nodes.push(
        node('Reshape', [n.input[2], `${n.output[0]}_bias_reshape_shape`], [`${n.output[0]}_bias_reshape_output`], `${n.output[0]}_bias_reshape`),
        node('Add', [scaled, `${n.output[0]}_bias_reshape_output`], [n.output[0]], `${n.output[0]}_bias_add`),
      );
    }
  }
  const used = new Set(nodes.flatMap((x) => x.input));
  return onnx.ModelProto.create({
    ...float,
    graph: onnx.GraphProto.create({ ...graph, node: nodes, initializer: [...graph.initializer.filter((t) => used.has(t.name)), ...inits] }),
  });
}
