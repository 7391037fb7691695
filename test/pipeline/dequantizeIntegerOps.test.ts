import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { loadDataset } from '../../src/core/io/dataset/loadDataset';
import { readOnnx } from '../../src/core/io/onnx/OnnxModel';
import { DataType, onnx } from '../../src/core/io/onnx/protobuf';
import { quantizedForm } from '../../src/core/io/onnx/quantizedForm';
import { silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8 } from '../../src/core/model/QTable';
import type { TensorMap } from '../../src/core/model/tensor';
import { Workbench } from '../../src/core/Workbench';
import { DEMO_PREPROCESS } from '../../src/demo/preprocess';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../support/models';
import { GraphBuilder, randomSamples } from '../support/GraphBuilder';
import { tensorRanges, toDynamic, toQOperator } from '../support/integerForms';
import { meanCosine, runModel } from '../support/runModel';

// De-quantizing QOperator and dynamic models (issue #9): the float model computes what the file
// computes but for the rounding of its activations, and re-quantizing it with the file's own ranges
// gives the file's outputs back.

const encode = (model: onnx.ModelProto) => onnx.ModelProto.encode(model).finish();
const INTEGER_FORM = /^QLinear|^QGemm$|Integer|QuantizeLinear|DequantizeLinear/;

/** A small network with every operator the QOperator path turns back: Conv(+Relu), Add, LeakyRelu, MaxPool, Pad, AveragePool, Sigmoid, Mul, Concat, Tanh (left float), GlobalAveragePool, Flatten, Gemm, MatMul, Softmax. */
function qoperatorSource(): onnx.ModelProto {
  const b = new GraphBuilder({ seed: 21 });
  const x = b.input('x', [1, 3, 8, 8]);
  const c1 = b.relu(b.conv(x, 8, 3, { name: 'conv1' }));
  const c2 = b.conv(c1, 8, 3, { name: 'conv2' });
  const leaky = b.node('LeakyRelu', [b.add(c1, c2)], { alpha: { float: 0.1 } })[0];
  const pooled = b.node('MaxPool', [leaky], { kernel_shape: [2, 2], strides: [2, 2] }, 1, [1, 8, 4, 4])[0];
  const padded = b.node('Pad', [pooled, b.constant(BigInt64Array.from([0, 0, 1, 1, 0, 0, 1, 1], BigInt), [8])], { mode: 'constant' }, 1, [1, 8, 6, 6])[0];
  const avg = b.node('AveragePool', [padded], { kernel_shape: [3, 3] }, 1, [1, 8, 4, 4])[0];
  const swish = b.node('Mul', [avg, b.node('Sigmoid', [avg])[0]])[0];
  const joined = b.node('Concat', [swish, pooled], { axis: 1 }, 1, [1, 16, 4, 4])[0];
  const features = b.flatten(b.globalAveragePool(b.node('Tanh', [joined])[0]));
  const logits = b.node('MatMul', [b.gemm(features, 10), b.weight([10, 6], 0.6)], {}, 1, [1, 6])[0];
  b.output(logits);
  b.output(b.softmax(logits));
  return b.toModel();
}

/** Conv(+bias)+Relu, Conv without bias, Flatten, MatMul + Add bias: what quantize_dynamic turns into ConvInteger/MatMulInteger. */
function dynamicSource(): onnx.ModelProto {
  const b = new GraphBuilder({ seed: 22 });
  const x = b.input('x', [1, 3, 8, 8]);
  const c = b.conv(b.relu(b.conv(x, 6, 3, { name: 'conv1' })), 4, 3, { name: 'conv2', bias: false });
  const m = b.node('MatMul', [b.flatten(c), b.weight([256, 10], 0.15)], {}, 1, [1, 10], 'fc')[0];
  b.output(b.add(m, b.weight([10], 0.1)));
  return b.toModel();
}

const samples = (count: number, seed: number) => randomSamples('x', [1, 3, 8, 8], count, seed) as TensorMap[];

describe('de-quantizing QOperator and dynamic models', () => {
  it('a QOperator model (QLinearConv, QGemm, QLinearMatMul, QLinearAdd/Mul/Sigmoid/LeakyRelu/Concat/AveragePool/GlobalAveragePool/Softmax) opens as float, computes what the file computes, and re-quantized with its ranges gives the file back', async () => {
    const engine = ortNodeEngine(1);
    const float = qoperatorSource();
    const calibration = samples(8, 5);
    const qop = toQOperator(float, await tensorRanges(engine, float, calibration), new Set(['Tanh']));
    const bytes = encode(qop);
    const file = readOnnx(bytes, 'net.qop.onnx');
    expect(quantizedForm(file.graph.nodes)?.form).toBe('qoperator');
    expect(file.graph.nodes.filter((n) => n.domain === 'com.microsoft').length).toBeGreaterThanOrEqual(8);
    const evaluation = samples(6, 9);
    const original = await runModel(engine, bytes, evaluation);
    // the file is a fair quantization of its float model (the test writer is right)
    expect(meanCosine(await runModel(engine, encode(float), evaluation), original)).toBeGreaterThan(0.99);

    const bench = await Workbench.open(engine, bytes, 'net.qop.onnx', { dequantize: true });
    const ops = bench.graph.nodes.map((n) => n.opType);
    expect(ops.filter((op) => INTEGER_FORM.test(op))).toEqual([]);
    expect(ops.sort()).toEqual(['Add', 'AveragePool', 'Concat', 'Conv', 'Conv', 'Flatten', 'Gemm', 'GlobalAveragePool', 'LeakyRelu', 'MatMul', 'MaxPool', 'Mul', 'Pad', 'Relu', 'Sigmoid', 'Softmax', 'Tanh']);
    expect(bench.findings.quantized).toBeNull();
    expect(bench.findings.notes[0]).toMatch(/^opened de-quantized from QOperator form: 12 integer operators turned back into float ones \(QLinearConv x2 → Conv, QLinearAdd x1 → Add, QLinearLeakyRelu x1 → LeakyRelu, QLinearAveragePool x1 → AveragePool, QLinearSigmoid x1 → Sigmoid, QLinearMul x1 → Mul, QLinearConcat x1 → Concat, QLinearGlobalAveragePool x1 → GlobalAveragePool, QGemm x1 → Gemm, QLinearMatMul x1 → MatMul, QLinearSoftmax x1 → Softmax\), 5 quantizers \(QuantizeLinear\/DequantizeLinear\/DynamicQuantizeLinear\) removed, the ranges of 17 quantized tensors imported as the calibration, \d+ stored integer tensors turned back into float \(weights keep their integer rounding\), 1 Relu folded into a quantizer put back; the file computes 1 layer in float$/);
    // graph outputs keep their names
    expect(bench.graph.outputs.map((o) => o.name)).toEqual(float.graph!.output.map((o) => o.name));

    const dequantized = await runModel(engine, bench.model, evaluation);
    const asFloat = meanCosine(original, dequantized);
    expect(asFloat).toBeGreaterThanOrEqual(0.999);

    bench.setDataset({ samples: evaluation, sampleNames: evaluation.map((_, i) => `s${i}`) });
    await bench.calibrate(silentJob);
    // the calibration in force holds the file's ranges: conv1's output (its Relu put back) is [0, 255 * scale]
    const scaleOf = (name: string) => qop.graph!.initializer.find((t) => t.name === name)!.floatData[0];
    const relu = bench.graph.nodes.find((n) => n.name === 'conv1/RestoredRelu')!.outputs[0];
    expect(bench.caliTable().entries.get(relu)).toMatchObject({ min: 0, source: 'imported' });
    expect(bench.caliTable().entries.get(relu)!.max).toBeCloseTo(255 * scaleOf('conv_2_scale'), 6);
    // the file's own precisions: INT8 but for its float Tanh
    expect([...bench.fileQTable!.layers]).toEqual([['Tanh_26', 'FP32']]);
    const reproduced = meanCosine(original, await runModel(engine, await bench.exportQdq(bench.fileQTable!, silentJob), evaluation));
    expect(reproduced).toBeGreaterThanOrEqual(0.999);
    const allInt8 = meanCosine(original, await runModel(engine, await bench.exportQdq(ALL_INT8, silentJob), evaluation));
    expect(allInt8).toBeGreaterThanOrEqual(0.999);
    const inFile = (await bench.measureQuantizedOriginal(silentJob))!.cos;
    expect(inFile).toBeCloseTo(asFloat, 4);
    console.log(`QOperator: file vs float ${meanCosine(await runModel(engine, encode(float), evaluation), original).toFixed(6)}, file vs de-quantized ${asFloat.toFixed(6)}, file vs re-quantized ${reproduced.toFixed(6)} (all INT8 ${allInt8.toFixed(6)}), in-file figure ${inFile.toFixed(6)}`);
    await bench.dispose();
  }, 180_000);

  it('PP-OCRv4 det in QOperator form (249 integer operators, BatchNormalization/HardSigmoid/Resize/ConvTranspose left float, hardswish Clips folded): the float model again, and the file reproduced by re-quantizing with its ranges and its float layers', async () => {
    const engine = ortNodeEngine(2);
    const source = readOnnx(REAL_MODELS.ppocrDet(), 'det.onnx');
    const files = ['document.jpg', 'receipt.jpg', 'plate.jpg'].map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
    const preprocess = { ...DEMO_PREPROCESS, inputSize: [128, 128] as [number, number] };
    const data = (await loadDataset(files, source.graph.inputs, preprocess, nodeImageDecoder)).samples;
    const integerOps = new Set(['Conv', 'Relu', 'Clip', 'Add', 'Mul', 'Sigmoid', 'GlobalAveragePool', 'Concat']);
    const leftFloat = new Set(source.proto.graph!.node.map((n) => n.opType).filter((op) => !integerOps.has(op)));
    const bytes = encode(toQOperator(source.proto, await tensorRanges(engine, source.proto, data), leftFloat));
    const original = await runModel(engine, bytes, data);
    const float = await runModel(engine, source.encode(), data);

    const bench = await Workbench.open(engine, bytes, 'det.qop.onnx', { dequantize: true });
    expect(bench.findings.notes[0]).toMatch(/^opened de-quantized from QOperator form: 249 integer operators .*, 11 Relus and 23 Clips \(0\.\.n\) folded into a quantizer put back; the file computes 47 layers in float$/);
    const dequantized = await runModel(engine, bench.model, data);
    // the float model it was made from, but for the weights' rounding; the file differs from both by its own quantization
    const sourceVsDequantized = meanCosine(float, dequantized);
    expect(sourceVsDequantized).toBeGreaterThanOrEqual(0.995);
    const fileVsFloat = meanCosine(float, original);
    const fileVsDequantized = meanCosine(original, dequantized);
    expect(Math.abs(fileVsDequantized - fileVsFloat)).toBeLessThan(0.01);
    bench.setDataset({ samples: data, sampleNames: files.map((f) => f.name) });
    await bench.calibrate(silentJob);
    const reproduced = meanCosine(original, await runModel(engine, await bench.exportQdq(bench.fileQTable!, silentJob), data));
    expect(reproduced).toBeGreaterThanOrEqual(0.999);
    const allInt8 = meanCosine(original, await runModel(engine, await bench.exportQdq(ALL_INT8, silentJob), data));
    expect(allInt8).toBeGreaterThan(0.95);
    console.log(`PP-OCRv4 det QOperator: source float vs de-quantized ${sourceVsDequantized.toFixed(6)}, file vs source float ${fileVsFloat.toFixed(6)}, file vs de-quantized ${fileVsDequantized.toFixed(6)}, file vs re-quantized with its float layers FP32 ${reproduced.toFixed(6)}, all INT8 ${allInt8.toFixed(6)}`);
    await bench.dispose();
  }, 120_000);

  it('a dynamic model (DynamicQuantizeLinear + ConvInteger/MatMulInteger + Cast + Mul, bias Reshape/Add) opens as float with the stored weights, no ranges imported', async () => {
    const engine = ortNodeEngine(1);
    const float = dynamicSource();
    const bytes = encode(toDynamic(float));
    expect(quantizedForm(readOnnx(bytes, 'net.dyn.onnx').graph.nodes)?.form).toBe('dynamic');
    const evaluation = samples(6, 9);
    const original = await runModel(engine, bytes, evaluation);
    expect(meanCosine(await runModel(engine, encode(float), evaluation), original)).toBeGreaterThan(0.99);

    const bench = await Workbench.open(engine, bytes, 'net.dyn.onnx', { dequantize: true });
    // the float model again: the Conv bias folded back, the MatMul's bias Add as it was
    expect(bench.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Conv', 'Flatten', 'MatMul', 'Add']);
    expect(bench.graph.nodes.find((n) => n.name === 'conv1')?.inputs).toHaveLength(3);
    expect(bench.findings.quantized).toBeNull();
    expect(bench.findings.notes[0]).toMatch(/^opened de-quantized from dynamic quantization: 3 integer operators turned back into float ones \(ConvInteger x2 → Conv, MatMulInteger x1 → MatMul\), 3 quantizers \(QuantizeLinear\/DequantizeLinear\/DynamicQuantizeLinear\) removed, 3 stored integer tensors turned back into float .*\. Dynamic quantization computes its activation ranges at run time and stores none: the calibration comes from your samples$/);
    const dequantized = await runModel(engine, bench.model, evaluation);
    const asFloat = meanCosine(original, dequantized);
    expect(asFloat).toBeGreaterThanOrEqual(0.999);
    // the weights are the file's, rounding included: the float model differs from the source float model
    expect(meanCosine(await runModel(engine, encode(float), evaluation), dequantized)).toBeLessThan(1);

    bench.setDataset({ samples: evaluation, sampleNames: evaluation.map((_, i) => `s${i}`) });
    await bench.calibrate(silentJob);
    const requantized = meanCosine(original, await runModel(engine, await bench.exportQdq(ALL_INT8, silentJob), evaluation));
    expect(requantized).toBeGreaterThan(0.99);
    console.log(`dynamic: file vs de-quantized ${asFloat.toFixed(6)}, file vs static re-quantization (calibrated on the samples) ${requantized.toFixed(6)}`);
    await bench.dispose();
  }, 180_000);

  it('QLinearWhere turns back into Where, a stored integer input dequantized with its own parameters', async () => {
    const engine = ortNodeEngine(1);
    const f = DataType.FLOAT;
    const scalar = (name: string, dataType: number, value: number) => onnx.TensorProto.create({ name, dims: [], dataType, ...(dataType === f ? { floatData: [value] } : { int32Data: [value] }) });
    const model = onnx.ModelProto.create({
      irVersion: 8, opsetImport: [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }],
      graph: {
        name: 'where',
        input: [
          onnx.ValueInfoProto.create({ name: 'x', type: { tensorType: { elemType: f, shape: { dim: [{ dimValue: 2 }, { dimValue: 5 }] } } } }),
          onnx.ValueInfoProto.create({ name: 'cond', type: { tensorType: { elemType: DataType.BOOL, shape: { dim: [{ dimValue: 2 }, { dimValue: 5 }] } } } }),
        ],
        output: [onnx.ValueInfoProto.create({ name: 'y', type: { tensorType: { elemType: f } } })],
        initializer: [
          scalar('x_s', f, 2 / 255), scalar('x_zp', DataType.UINT8, 128), scalar('w_s', f, 2.2 / 255), scalar('w_zp', DataType.UINT8, 120),
          onnx.TensorProto.create({ name: 'other_q', dims: [5], dataType: DataType.UINT8, int32Data: [10, 60, 110, 160, 250] }),
        ],
        node: [
          { name: 'xq', opType: 'QuantizeLinear', input: ['x', 'x_s', 'x_zp'], output: ['x_q'] },
          { name: 'where_quant', opType: 'QLinearWhere', domain: 'com.microsoft', input: ['cond', 'x_q', 'x_s', 'x_zp', 'other_q', 'x_s', 'x_zp', 'w_s', 'w_zp'], output: ['w_q'] },
          { name: 'ydq', opType: 'DequantizeLinear', input: ['w_q', 'w_s', 'w_zp'], output: ['y'] },
        ],
      },
    });
    const bytes = encode(model);
    const bench = await Workbench.open(engine, bytes, 'where.onnx', { dequantize: true });
    expect(bench.graph.nodes.map((n) => n.opType)).toEqual(['Where']);
    expect(bench.graph.nodes[0].name).toBe('where');
    const random = Array.from({ length: 10 }, (_, i) => Math.sin(i * 1.7) * 0.9);
    const feeds = [0, 1].map((k) => ({ x: { dtype: 'float32' as const, dims: [2, 5], data: Float32Array.from(random, (v) => v * (k + 1) * 0.5) }, cond: { dtype: 'bool' as const, dims: [2, 5], data: Uint8Array.from(random, (v, i) => (v > 0 || i === k ? 1 : 0)) } }));
    expect(meanCosine(await runModel(engine, bytes, feeds), await runModel(engine, bench.model, feeds))).toBeGreaterThanOrEqual(0.999);
    await bench.dispose();
  });

  it('refuses, naming the operator and the node, what it cannot turn back: an integer operator it does not know, an integer tensor a float operator computes on', async () => {
    const engine = ortNodeEngine(1);
    const qop = toQOperator(qoperatorSource(), await tensorRanges(engine, qoperatorSource(), samples(2, 5)), new Set(['Tanh']));
    const attention = onnx.ModelProto.create({ ...qop, graph: onnx.GraphProto.create({ ...qop.graph!, node: qop.graph!.node.map((n) => (n.opType === 'QLinearSoftmax' ? onnx.NodeProto.create({ ...n, opType: 'QAttention', name: 'attention_quant' }) : n)) }) });
    await expect(Workbench.open(engine, encode(attention), 'attention.onnx', { dequantize: true })).rejects.toThrow(/^attention\.onnx: de-quantizing QAttention is not supported \(node "attention_quant"\); qbench turns QLinearConv, QLinearMatMul, QGemm, .* back into float operators; qbench cannot de-quantize this model$/);
    const maxPool = qop.graph!.node.find((n) => n.opType === 'MaxPool')!;
    const cast = onnx.ModelProto.create({ ...qop, graph: onnx.GraphProto.create({ ...qop.graph!, node: qop.graph!.node.map((n) => (n === maxPool ? onnx.NodeProto.create({ ...n, opType: 'Erf', attribute: [] }) : n)) }) });
    await expect(Workbench.open(engine, encode(cast), 'erf.onnx', { dequantize: true })).rejects.toThrow(new RegExp(`^erf\\.onnx: Erf "${maxPool.name}" computes on the integer tensor "\\w+_quantized" \\(written by QLinearLeakyRelu "\\w+"\\), which has no float form; qbench cannot de-quantize this model$`));
  });
});
