import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../cli/ortNodeEngine';
import { GraphBuilder, randomSamples } from '../../../test/support/GraphBuilder';
import { DataType, int64ToNumber, onnx } from '../io/onnx/protobuf';
import { silentJob } from '../jobs/Job';
import { Workbench } from '../Workbench';
import { ALL_INT8, withPrecision, type QTable } from '../model/QTable';

async function calibratedCnn() {
  const b = new GraphBuilder({ seed: 11 });
  let x = b.input('x', [1, 3, 12, 12]);
  x = b.relu(b.conv(x, 8, 3, { name: 'conv1' }));
  x = b.conv(x, 8, 3, { name: 'conv2' });
  x = b.node('Sigmoid', [x], {}, 1, undefined, 'sig')[0];
  b.output(b.conv(x, 4, 1, { name: 'conv3' }));
  const bench = await Workbench.open(ortNodeEngine(1), b.toBytes(), 'cnn.onnx');
  const samples = randomSamples('x', [1, 3, 12, 12], 4);
  bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
  await bench.calibrate(silentJob);
  return bench;
}

async function exported(bench: Workbench, qtable: QTable) {
  const proto = onnx.ModelProto.decode(await bench.exportQdq(qtable));
  const graph = proto.graph!;
  const producer = new Map(graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  const init = new Map(graph.initializer.map((t) => [t.name, t]));
  const nodeNamed = (name: string) => graph.node.find((n) => n.name === name)!;
  return { proto, graph, producer, init, nodeNamed };
}

/** The graph onnxruntime actually runs after its optimizations. */
async function optimizedGraph(bytes: Uint8Array): Promise<onnx.GraphProto> {
  const optimized = join(mkdtempSync(join(tmpdir(), 'qbench-')), 'optimized.onnx');
  const session = await ort.InferenceSession.create(bytes, { optimizedModelFilePath: optimized, logSeverityLevel: 3 });
  await session.release();
  return onnx.ModelProto.decode(readFileSync(optimized)).graph!;
}

/** Operator types of the graph onnxruntime actually runs after its optimizations. */
async function optimizedOps(bytes: Uint8Array): Promise<string[]> {
  return (await optimizedGraph(bytes)).node.map((n) => n.opType);
}

describe('QDQ export', () => {
  it('all INT8: per-channel int8 weights, int32 bias, uint8 activations, Relu fused into its Conv', async () => {
    const bench = await calibratedCnn();
    const { proto, graph, producer, init, nodeNamed } = await exported(bench, ALL_INT8);
    expect(int64ToNumber(proto.opsetImport[0].version)).toBe(13);
    const conv1 = nodeNamed('conv1');
    const weightDq = producer.get(conv1.input[1])!;
    expect(weightDq.opType).toBe('DequantizeLinear');
    expect(int64ToNumber(weightDq.attribute.find((a) => a.name === 'axis')?.i)).toBe(0);
    expect(init.get(weightDq.input[0])!.dataType).toBe(DataType.INT8);
    expect(init.get(weightDq.input[1])!.dims.map(int64ToNumber)).toEqual([8]);
    const biasDq = producer.get(conv1.input[2])!;
    expect(init.get(biasDq.input[0])!.dataType).toBe(DataType.INT32);
    const inputDq = producer.get(conv1.input[0])!;
    expect(inputDq.opType).toBe('DequantizeLinear');
    expect(init.get(inputDq.input[2])!.dataType).toBe(DataType.UINT8);
    // conv1 -> Relu: no quantizer between them; the Relu's output is quantized
    const relu = graph.node.find((n) => n.opType === 'Relu')!;
    expect(producer.get(relu.input[0])).toBe(conv1);
    expect(graph.node.filter((n) => n.input[0] === relu.output[0]).map((n) => n.opType)).toEqual(['QuantizeLinear']);
    // the graph output keeps its name and is the dequantized value
    expect(producer.get(graph.output[0].name)!.opType).toBe('DequantizeLinear');
  });

  it('onnxruntime runs the exported model with fused int8 kernels (QLinearConv)', async () => {
    const bench = await calibratedCnn();
    const ops = await optimizedOps(await bench.exportQdq(ALL_INT8));
    expect(ops.filter((op) => op === 'QLinearConv')).toHaveLength(3);
    expect(ops).not.toContain('Conv');
  });

  it('FP32 layer: no quantizer around its own computation, float weights', async () => {
    const bench = await calibratedCnn();
    const qtable = withPrecision(ALL_INT8, 'conv2', 'FP32');
    const { producer, init, nodeNamed } = await exported(bench, qtable);
    const conv2 = nodeNamed('conv2');
    expect(init.get(conv2.input[1])!.dataType).toBe(DataType.FLOAT);
    expect(init.get(conv2.input[2])!.dataType).toBe(DataType.FLOAT);
    // the INT8 Relu before it stores int8; the FP32 Conv reads it dequantized by Cast/Sub/Mul, not by a
    // DequantizeLinear, or onnxruntime would quantize the Conv's weights itself (WeightBiasQuantization)
    expect(producer.get(conv2.input[0])!.opType).toBe('Mul');
    const ops = await optimizedOps(await bench.exportQdq(qtable));
    expect(ops.filter((op) => op === 'QLinearConv')).toHaveLength(2); // conv2 runs as a float Conv
    expect(ops.filter((op) => op.startsWith('Conv') || op === 'FusedConv')).toHaveLength(1);
  });

  it('FP32 Gemm reading a quantized tensor through an Identity and a Reshape (a TFLite FullyConnected): its weights stay float', async () => {
    // onnxruntime removes the Identity and moves the DequantizeLinear through the Reshape (QDQ
    // propagation), so a Gemm after them would read a DequantizeLinear and have its weights quantized.
    const b = new GraphBuilder({ seed: 5, opset: 13 });
    const x = b.relu(b.conv(b.input('x', [1, 3, 6, 6]), 4, 3, { name: 'conv' }));
    const shape = b.shapeOf(x);
    const [same] = b.node('Identity', [x], {}, 1, shape, 'identity');
    const [flat] = b.node('Reshape', [same, b.constant(BigInt64Array.from([1n, -1n]), [2])], {}, 1, [1, shape.reduce((a, d) => a * d, 1)], 'fc/flatten');
    const fc = b.gemm(flat, 5);
    b.output(b.node('Sigmoid', [fc], {}, 1, [1, 5], 'sigmoid')[0]); // an INT8 reader: the Gemm's output is quantized
    const bench = await Workbench.open(ortNodeEngine(1), b.toBytes(), 'fc.onnx');
    const samples = randomSamples('x', [1, 3, 6, 6], 3);
    bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
    await bench.calibrate(silentJob);
    const gemm = bench.graph.nodes.find((n) => n.opType === 'Gemm')!.name;
    const reshape = bench.graph.nodes.find((n) => n.opType === 'Reshape')!.name;
    const qtable = withPrecision(withPrecision(ALL_INT8, gemm, 'FP32'), reshape, 'FP32');
    const optimized = await optimizedGraph(await bench.exportQdq(qtable));
    expect(optimized.node.map((n) => n.opType)).not.toContain('QGemm');
    const runGemm = optimized.node.find((n) => n.opType === 'Gemm')!;
    expect(optimized.node.find((n) => n.output.includes(runGemm.input[1]))).toBeUndefined(); // a float initializer, no DequantizeLinear
    const { init, nodeNamed } = await exported(bench, qtable);
    expect(init.get(nodeNamed(gemm).input[1])!.dataType).toBe(DataType.FLOAT);
  });

  it('FP16 layer: computes in float16 through Cast nodes and float16 weights', async () => {
    const bench = await calibratedCnn();
    const { producer, init, nodeNamed } = await exported(bench, withPrecision(ALL_INT8, 'conv2', 'FP16'));
    const conv2 = nodeNamed('conv2');
    expect(init.get(conv2.input[1])!.dataType).toBe(DataType.FLOAT16);
    expect(producer.get(conv2.input[0])!.opType).toBe('Cast');
    expect(int64ToNumber(producer.get(conv2.input[0])!.attribute[0].i)).toBe(DataType.FLOAT16);
  });

  it('INT16 layer: opset 21 with int16 activations and int16 weights', async () => {
    const bench = await calibratedCnn();
    const { proto, producer, init, nodeNamed } = await exported(bench, withPrecision(ALL_INT8, 'conv2', 'INT16'));
    expect(int64ToNumber(proto.opsetImport[0].version)).toBe(21);
    expect(int64ToNumber(proto.irVersion)).toBe(10);
    const conv2 = nodeNamed('conv2');
    expect(init.get(producer.get(conv2.input[1])!.input[0])!.dataType).toBe(DataType.INT16);
    expect(init.get(producer.get(conv2.input[0])!.input[2])!.dataType).toBe(DataType.INT16);
  });
});
