import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { loadDataset } from '../../src/core/io/dataset/loadDataset';
import { silentJob } from '../../src/core/jobs/Job';
import type { ErrorMetrics } from '../../src/core/metrics/similarity';
import { primaryValue } from '../../src/core/metrics/taskMetrics';
import { AttributeType, onnx } from '../../src/core/io/onnx/protobuf';
import { ALL_INT8, withPrecision, type Precision, type QTable } from '../../src/core/model/QTable';
import { Workbench } from '../../src/core/Workbench';
import { DEMO_PREPROCESS } from '../../src/demo/preprocess';
import { CORPUS_MODELS } from '../corpus/corpusModels';
import { GraphBuilder, randomSamples } from '../support/GraphBuilder';
import { DEMO_IMAGE_DIR } from '../support/models';

/**
 * Issue #11 item 5: each layer's local error (only it quantized as the QTable says, fed float inputs)
 * next to its accumulated one, and the output gain of setting a layer to FP32.
 */

/** Only `layer` at `precision`; everything else FP32. */
const only = (layer: string, precision: Precision = 'INT8'): QTable => ({ defaultPrecision: 'FP32', layers: new Map([[layer, precision]]) });

/**
 * Equal to 1e-6: the cosine absolutely; MSE and SQNR as noise-to-signal ratios (MSE over the float
 * output's mean square), since the MSE's scale is the tensor's. The two figures come from two
 * models (the accumulated probe computes the float model twice, once per half, and onnxruntime may
 * fuse the halves' nodes differently), so a value on a rounding boundary can round apart.
 */
function expectSameMetrics(local: ErrorMetrics | undefined, accumulated: ErrorMetrics | undefined, layer: string) {
  expect(local, `${layer}: local`).toBeDefined();
  expect(accumulated, `${layer}: accumulated`).toBeDefined();
  expect(Math.abs(local!.cos - accumulated!.cos), `${layer}: cos`).toBeLessThan(1e-6);
  const signal = accumulated!.mse * 10 ** (accumulated!.sqnr / 10);
  if (accumulated!.mse > 0) expect(Math.abs(local!.mse - accumulated!.mse) / signal, `${layer}: mse`).toBeLessThan(1e-6);
  else expect(local!.mse, `${layer}: mse`).toBe(0);
  expect(Math.abs(10 ** (-local!.sqnr / 10) - 10 ** (-accumulated!.sqnr / 10)), `${layer}: sqnr`).toBeLessThan(1e-6);
}

/** Local against accumulated for `layer` alone quantized, and its float gain against the two evaluations. */
async function checkLayer(bench: Workbench, layer: string, precision: Precision = 'INT8') {
  const qtable = only(layer, precision);
  const evaluation = await bench.evaluate(qtable, 'layers', silentJob);
  const local = await bench.localErrors(qtable, silentJob);
  expectSameMetrics(local[layer], evaluation.layers.find((l) => l.layer === layer), layer);
  // Nothing else is quantized, so no other layer has a local error.
  expect(Object.keys(local)).toEqual([layer]);
}

async function checkFloatGain(bench: Workbench, qtable: QTable, layer: string) {
  const gain = await bench.floatGain(qtable, layer, silentJob);
  const now = await bench.evaluate(qtable, 'outputs', silentJob);
  const floated = await bench.evaluate(withPrecision(qtable, layer, 'FP32'), 'outputs', silentJob);
  const [before, after] = [now.output, floated.output];
  expect(gain.before).toEqual(before);
  expect(gain.after).toEqual(after);
  expect(gain.gain).toBe(after.cos - before.cos);
  // The task figure the header shows (the worst task output's), from the same two evaluations.
  const headline = (tasks: typeof now.tasks) => Math.min(...Object.values(tasks ?? {}).map(primaryValue));
  expect(now.tasks).toBeDefined();
  expect(gain.task).toMatchObject({ before: headline(now.tasks), after: headline(floated.tasks) });
  return gain;
}

function smallCnn(): Uint8Array {
  const b = new GraphBuilder({ seed: 3, opset: 13 });
  let x = b.input('x', [1, 3, 16, 16]);
  x = b.relu(b.conv(x, 8, 3, { name: 'conv1' }));
  const skip = x;
  x = b.conv(x, 8, 3, { name: 'conv2' });
  x = b.add(b.relu(x), skip);
  x = b.conv(x, 16, 3, { stride: 2, name: 'conv3' });
  x = b.flatten(b.globalAveragePool(x));
  b.output(b.softmax(b.gemm(x, 10)));
  return b.toBytes();
}

describe('local error and float gain on a test graph', () => {
  let bench: Workbench;
  beforeAll(async () => {
    bench = await Workbench.open(ortNodeEngine(1), smallCnn(), 'small.onnx');
    const samples = randomSamples('x', [1, 3, 16, 16], 4);
    bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
    await bench.calibrate(silentJob);
  });
  afterAll(() => bench.dispose());

  it('with only layer L quantized, L\'s local error equals its accumulated error, for every quantizable layer', async () => {
    const layers = [...bench.layers.values()].filter((l) => l.quantizable).map((l) => l.name);
    expect(layers.length).toBeGreaterThan(6);
    for (const layer of layers) await checkLayer(bench, layer);
    await checkLayer(bench, 'conv2', 'INT16');
    await checkLayer(bench, 'conv3', 'FP16');
  });

  it('all INT8: the first layer reads the graph input, so local equals accumulated; downstream layers differ; float layers have none', async () => {
    const qtable = withPrecision(ALL_INT8, 'conv3', 'FP32');
    const evaluation = await bench.evaluate(qtable, 'layers', silentJob);
    const local = await bench.localErrors(qtable, silentJob);
    const accumulated = new Map(evaluation.layers.map((l) => [l.layer, l]));
    expectSameMetrics(local.conv1, accumulated.get('conv1'), 'conv1');
    expect(local.conv3).toBeUndefined();
    const gemm = bench.graph.nodes.find((n) => n.opType === 'Gemm')!.name;
    // The Gemm reads what every quantized layer before it passed on: its accumulated error is larger than its own.
    expect(accumulated.get(gemm)!.mse).toBeGreaterThan(local[gemm].mse);
  });

  it('the float gain of L is the measured difference of the output figure between the QTable and the QTable with L at FP32', async () => {
    const gain = await checkFloatGain(bench, ALL_INT8, 'conv2');
    expect(gain.precision).toBe('INT8');
    const none = await checkFloatGain(bench, withPrecision(ALL_INT8, 'conv3', 'FP32'), 'conv3');
    expect(none.gain).toBe(0);
  });
});

describe('local error and float gain on a corpus model (PP-OCRv4 det)', () => {
  let bench: Workbench;
  beforeAll(async () => {
    const model = CORPUS_MODELS.find((m) => m.id === 'ppocr_v4_det')!;
    bench = await Workbench.open(ortNodeEngine(2), new Uint8Array(readFileSync(model.file)), 'det.onnx');
    const files = readdirSync(DEMO_IMAGE_DIR).sort().slice(0, 2).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
    // The corpus run's size for this model (--input_size 160,160).
    bench.setDataset(await loadDataset(files, bench.graph.inputs, { ...DEMO_PREPROCESS, inputSize: [160, 160] }, nodeImageDecoder));
    await bench.calibrate(silentJob);
  }, 120_000);
  afterAll(() => bench.dispose());

  it('local equals accumulated with one layer quantized (a Conv, a GlobalAveragePool, a Sigmoid, a Resize); the float gain is the measured difference', async () => {
    const opOf = new Map(bench.graph.nodes.map((n) => [n.name, n.opType]));
    const quantizable = [...bench.layers.values()].filter((l) => l.quantizable);
    const pick = (op: string) => quantizable.find((l) => l.opType === op)?.name;
    const layers = ['Conv', 'GlobalAveragePool', 'Sigmoid', 'Resize'].map(pick).filter((l): l is string => Boolean(l));
    expect(layers.map((l) => opOf.get(l))).toEqual(['Conv', 'GlobalAveragePool', 'Sigmoid', 'Resize']);
    for (const layer of layers) await checkLayer(bench, layer);

    const all = await bench.localErrors(ALL_INT8, silentJob);
    expect(Object.keys(all).length).toBeGreaterThan(200);
    for (const m of Object.values(all)) expect(m.cos).toBeGreaterThan(-1.0000001);
    await checkFloatGain(bench, ALL_INT8, layers[1]);
  }, 300_000);
});

/** x -> conv `before` -> If (sum > 0 ? Relu : Sigmoid, one node a branch) -> conv `after`. */
function ifModel(): Uint8Array {
  const b = new GraphBuilder({ seed: 9, opset: 13 });
  const before = b.conv(b.input('x', [1, 3, 8, 8]), 4, 3, { name: 'before' });
  const [sum] = b.node('ReduceSum', [before], { keepdims: 0 }, 1, []);
  const [cond] = b.node('Greater', [sum, b.constant(new Float32Array([0]), [])], {}, 1, []);
  const [joined] = b.node('If', [cond], {}, 1, [1, 4, 8, 8], 'the_if');
  b.output(b.conv(joined, 2, 3, { name: 'after' }));
  const model = b.toModel();
  const branch = (op: string) => {
    const out = onnx.ValueInfoProto.create({ name: `${op}_out`, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [1, 4, 8, 8].map((d) => ({ dimValue: d })) } } } });
    return onnx.GraphProto.create({ name: op, node: [onnx.NodeProto.create({ name: `branch_${op}`, opType: op, input: [before], output: [out.name] })], output: [out] });
  };
  model.graph!.node.find((n) => n.name === 'the_if')!.attribute = [
    onnx.AttributeProto.create({ name: 'then_branch', type: AttributeType.GRAPH, g: branch('Relu') }),
    onnx.AttributeProto.create({ name: 'else_branch', type: AttributeType.GRAPH, g: branch('Sigmoid') }),
  ];
  return onnx.ModelProto.encode(model).finish();
}

describe('local errors beside control flow', () => {
  it('the main graph\'s quantized layers around an If get a local error (the one after it reads the float If\'s output), layers inside its branches none', async () => {
    const bench = await Workbench.open(ortNodeEngine(1), ifModel(), 'if.onnx');
    const samples = randomSamples('x', [1, 3, 8, 8], 3, 5);
    bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
    await bench.calibrate(silentJob);
    const local = await bench.localErrors(ALL_INT8, silentJob);
    expect(Object.keys(local)).toContain('before');
    expect(Object.keys(local)).toContain('after');
    expect(Object.keys(local).some((l) => l.startsWith('branch_'))).toBe(false);
    // Only `after` quantized: it reads the If's float output in both models.
    await checkLayer(bench, 'after');
    await bench.dispose();
  });
});
