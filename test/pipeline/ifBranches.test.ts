import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { AttributeType, onnx } from '../../src/core/io/onnx/protobuf';
import { silentJob } from '../../src/core/jobs/Job';
import type { TensorMap } from '../../src/core/model/tensor';
import type { LayerError } from '../../src/core/model/Evaluation';
import { ALL_INT8 } from '../../src/core/model/QTable';
import { SEARCH_DEFAULTS } from '../../src/core/search/SearchRequest';
import { Workbench } from '../../src/core/Workbench';
import { GraphBuilder, randomSamples } from '../support/GraphBuilder';
import { convLoopModel } from '../support/loopModel';
import { maxRelativeDifference, runModel } from '../support/runModel';

/**
 * A model whose layers sit inside an If: x -> ReduceSum > 0 ? Conv -> Relu : Conv -> Sigmoid, then
 * a Conv after the If. Each branch's layers are built by their own GraphBuilder (no inputs: they
 * read x from the main graph by name).
 */
function ifModel(): Uint8Array {
  const main = new GraphBuilder({ seed: 2, opset: 13 });
  const x = main.input('x', [1, 3, 8, 8]);
  const [sum] = main.node('ReduceSum', [x], { keepdims: 0 }, 1, []);
  const [cond] = main.node('Greater', [sum, main.constant(new Float32Array([0]), [])], {}, 1, []);
  const branch = (seed: number, activation: string, prefix: string) => {
    const b = new GraphBuilder({ seed, opset: 13 });
    b.input(x, [1, 3, 8, 8]);
    const y = b.node(activation, [b.conv(x, 4, 3, { name: `${prefix}_conv` })], {}, 1, undefined, `${prefix}_${activation}`)[0];
    b.output(y);
    const model = b.toModel();
    return onnx.GraphProto.create({ name: prefix, node: model.graph!.node, initializer: model.graph!.initializer, input: [], output: model.graph!.output });
  };
  const [joined] = main.node('If', [cond], {}, 1, [1, 4, 8, 8], 'the_if');
  const model = main.toModel();
  const ifNode = model.graph!.node.find((n) => n.name === 'the_if')!;
  ifNode.attribute = [
    onnx.AttributeProto.create({ name: 'then_branch', type: AttributeType.GRAPH, g: branch(5, 'Relu', 'pos') }),
    onnx.AttributeProto.create({ name: 'else_branch', type: AttributeType.GRAPH, g: branch(6, 'Sigmoid', 'neg') }),
  ];
  // the branch outputs are named after their last node's output; the If's output is its own
  const after = new GraphBuilder({ seed: 7, opset: 13 });
  after.input(joined, [1, 4, 8, 8]);
  const tail = after.toModel();
  const conv = onnx.NodeProto.create({ name: 'after_conv', opType: 'Conv', input: [joined, 'after_w'], output: ['y'], attribute: [{ name: 'pads', type: AttributeType.INTS, ints: [1, 1, 1, 1] }] });
  const weight = onnx.TensorProto.create({ name: 'after_w', dims: [2, 4, 3, 3], dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from({ length: 72 }, (_, i) => Math.sin(i) * 0.3) });
  model.graph!.node.push(conv);
  model.graph!.initializer.push(weight);
  model.graph!.output = [onnx.ValueInfoProto.create({ name: 'y', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [1, 2, 8, 8].map((d) => ({ dimValue: d })) } } } })];
  void tail;
  return onnx.ModelProto.encode(model).finish();
}

/** Samples whose sum is positive (then branch) or negative (else branch). */
function samplesTaking(then: number, otherwise: number) {
  const samples = randomSamples('x', [1, 3, 8, 8], then + otherwise, 3);
  samples.forEach((s, i) => {
    const shift = i < then ? 0.5 : -0.5;
    s.x.data.forEach((v, k) => { s.x.data[k] = v + shift; });
  });
  return { samples: samples.map((s) => ({ x: s.x })), sampleNames: samples.map((_, i) => `s${i}`) };
}

function quantizersIn(graph: onnx.IGraphProto, branch: string): number {
  const g = graph.node!.find((n) => n.opType === 'If')!.attribute!.find((a) => a.name === branch)!.g!;
  return g.node!.filter((n) => n.opType === 'QuantizeLinear').length;
}

/**
 * The all-INT8 export of a calibrated model holds more than `quantizers` QuantizeLinear inside the
 * body of its `op`; the simulation predicts the exported file's outputs exactly; the output cos is
 * above `cos` and below 1 (something was quantized). Disposes the workbench.
 */
async function expectQuantizedBody(bench: Workbench, op: string, samples: readonly TensorMap[], expected: { quantizers: number; cos: number }): Promise<void> {
  const bytes = await bench.exportQdq(ALL_INT8, silentJob);
  const body = onnx.ModelProto.decode(bytes).graph!.node!.find((n) => n.opType === op)!.attribute!.find((a) => a.name === 'body')!.g!;
  expect(body.node!.filter((n) => n.opType === 'QuantizeLinear').length).toBeGreaterThan(expected.quantizers);
  const predicted = await bench.simulatedOutputs(ALL_INT8, 'outputs', silentJob);
  expect(maxRelativeDifference(predicted, await runModel(bench.engine, bytes, samples))).toBe(0);
  const cos = (await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos;
  expect(cos).toBeGreaterThan(expected.cos);
  expect(cos).toBeLessThan(1);
  await expectBodyLayerErrors(bench);
  await bench.dispose();
}

/** Every quantizable layer inside a body gets its own accumulated error in a full evaluation (the heatmap colours it). */
async function expectBodyLayerErrors(bench: Workbench): Promise<Map<string, LayerError>> {
  const evaluation = await bench.evaluate(ALL_INT8, 'layers', silentJob);
  const byLayer = new Map(evaluation.layers.map((l) => [l.layer, l]));
  const inBodies = bench.graph.nodes.filter((n) => n.scope && bench.layers.get(n.name)?.quantizable);
  expect(inBodies.length).toBeGreaterThan(0);
  for (const node of inBodies) {
    const error = byLayer.get(node.name);
    expect(error, node.name).toBeDefined();
    expect(error!.cos, node.name).toBeGreaterThan(0.9);
    expect(error!.cos, node.name).toBeLessThanOrEqual(1);
    expect(error!.mse, node.name).toBeGreaterThan(0);
  }
  return byLayer;
}


describe('layers inside a Loop body (issue #9)', () => {
  it('are calibrated on every iteration the samples run and quantized inside the body; predicted = exported', async () => {
    const engine = ortNodeEngine(1);
    const bench = await Workbench.open(engine, convLoopModel(), 'loop.onnx');
    expect(bench.graph.nodes.find((n) => n.name === 'body_conv')!.scope).toBe('the_loop/body');
    const samples = randomSamples('x', [1, 4, 6, 6], 3, 5);
    bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
    await bench.calibrate(silentJob);
    expect(bench.caliTable().entries.has('h_in')).toBe(true); // the carried value, over 3 iterations x 3 samples
    await expectQuantizedBody(bench, 'Loop', samples, { quantizers: 1, cos: 0.99 });
  }, 180_000);
});

/**
 * A Scan over a [5, 1, 4] sequence: the body carries h [1, 4] and for each step x_t [1, 4] computes
 * h' = Relu(MatMul(x_t, W) + MatMul(h, U)), emitting h' as the scan output too.
 */
function scanModel(): Uint8Array {
  const f = onnx.TensorProto.DataType.FLOAT;
  const info = (name: string, dims: number[]) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: f, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const weight = (name: string, seed: number) => onnx.TensorProto.create({ name, dims: [4, 4], dataType: f, floatData: Array.from({ length: 16 }, (_, i) => Math.sin(i * seed) * 0.4) });
  const body = onnx.GraphProto.create({
    name: 'scan_body',
    node: [
      onnx.NodeProto.create({ name: 'step_in', opType: 'MatMul', input: ['x_t', 'W'], output: ['xw'] }),
      onnx.NodeProto.create({ name: 'step_rec', opType: 'MatMul', input: ['h', 'U'], output: ['hu'] }),
      onnx.NodeProto.create({ name: 'step_add', opType: 'Add', input: ['xw', 'hu'], output: ['pre'] }),
      onnx.NodeProto.create({ name: 'step_relu', opType: 'Relu', input: ['pre'], output: ['h_next'] }),
      onnx.NodeProto.create({ name: 'step_copy', opType: 'Identity', input: ['h_next'], output: ['y_t'] }),
    ],
    initializer: [weight('W', 1), weight('U', 2)],
    input: [info('h', [1, 4]), info('x_t', [1, 4])],
    output: [info('h_next', [1, 4]), info('y_t', [1, 4])],
  });
  const graph = onnx.GraphProto.create({
    name: 'scan_model',
    node: [onnx.NodeProto.create({ name: 'the_scan', opType: 'Scan', input: ['h0', 'seq'], output: ['h_last', 'ys'], attribute: [
      { name: 'body', type: AttributeType.GRAPH, g: body },
      { name: 'num_scan_inputs', type: AttributeType.INT, i: 1 },
    ] })],
    input: [info('h0', [1, 4]), info('seq', [5, 1, 4])],
    output: [info('h_last', [1, 4]), info('ys', [5, 1, 4])],
  });
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph })).finish();
}

describe('layers inside a Scan body (issue #9)', () => {
  it('are calibrated on every step of the scanned sequence and quantized inside the body; predicted = exported', async () => {
    const engine = ortNodeEngine(1);
    const bench = await Workbench.open(engine, scanModel(), 'scan.onnx');
    expect(bench.graph.nodes.find((n) => n.name === 'step_in')!.scope).toBe('the_scan/body');
    const random = randomSamples('seq', [5, 1, 4], 3, 9);
    const samples = random.map((s, i) => ({ seq: s.seq, h0: { dtype: 'float32' as const, dims: [1, 4], data: new Float32Array([0.1 * i, 0.2, -0.1, 0.3]) } }));
    bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
    await bench.calibrate(silentJob);
    expect(bench.caliTable().entries.has('x_t')).toBe(true); // the slices, over 5 steps x 3 samples
    await expectQuantizedBody(bench, 'Scan', samples, { quantizers: 2, cos: 0.98 });
  }, 180_000);
});

describe('layers inside If branches (issue #9)', () => {
  it('are listed with their scope, calibrated on the branches the samples take, and quantized inside them; predicted = exported', async () => {
    const engine = ortNodeEngine(1);
    const bench = await Workbench.open(engine, ifModel(), 'if.onnx');
    const pos = bench.graph.nodes.find((n) => n.name === 'pos_conv')!;
    expect(pos.scope).toBe('the_if/then_branch');
    expect(bench.layers.get('neg_conv')!.quantizable).toBe(true);
    const dataset = samplesTaking(2, 2);
    bench.setDataset(dataset);
    await bench.calibrate(silentJob);
    const bytes = await bench.exportQdq(ALL_INT8, silentJob);
    const graph = onnx.ModelProto.decode(bytes).graph!;
    expect(quantizersIn(graph, 'then_branch')).toBeGreaterThan(0);
    expect(quantizersIn(graph, 'else_branch')).toBeGreaterThan(0);
    const predicted = await bench.simulatedOutputs(ALL_INT8, 'outputs', silentJob);
    const exported = await runModel(engine, bytes, dataset.samples);
    expect(maxRelativeDifference(predicted, exported)).toBe(0);
    const evaluation = await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    expect(evaluation.output.cos).toBeGreaterThan(0.99);
    expect(evaluation.output.cos).toBeLessThan(1);
    // Each branch's last layer computes the If's output on the samples that take it: two samples
    // each way, so the If's error (main graph) is the mean of the two branch layers' own errors.
    const errors = await expectBodyLayerErrors(bench);
    const [ifError, thenLast, elseLast] = ['the_if', 'pos_Relu', 'neg_Sigmoid'].map((l) => errors.get(l)!);
    expect((thenLast.cos + elseLast.cos) / 2).toBeCloseTo(ifError.cos, 5);
    expect((thenLast.mse + elseLast.mse) / 2).toBeCloseTo(ifError.mse, 6);
    expect(errors.get('pos_conv')!.cos).toBeGreaterThan(thenLast.cos - 0.05);
    await bench.dispose();
  }, 180_000);

  it('the sensitive-layer ranking ranks the layers inside the branches too (their cone starts at the If)', async () => {
    const bench = await Workbench.open(ortNodeEngine(1), ifModel(), 'if.onnx');
    bench.setDataset(samplesTaking(2, 2));
    await bench.calibrate(silentJob);
    const result = await bench.search({ kind: 'sensitive', metric: { kind: 'cos', compare: [] }, base: { defaultPrecision: 'INT8', layers: [] }, options: { ...SEARCH_DEFAULTS.sensitive, methods: ['max'] } }, silentJob, () => {});
    const ranked = result.ranking.map((r) => r.head);
    expect(ranked).toEqual(expect.arrayContaining(['pos_conv', 'neg_conv', 'after_conv']));
    expect(result.ranking.find((r) => r.head === 'pos_conv')!.best.loss).toBeGreaterThan(0);
    await bench.dispose();
  }, 180_000);

  it('a branch no sample takes keeps its layers float (no ranges), and the model still runs', async () => {
    const engine = ortNodeEngine(1);
    const bench = await Workbench.open(engine, ifModel(), 'if.onnx');
    bench.setDataset(samplesTaking(3, 0));
    await bench.calibrate(silentJob);
    const graph = onnx.ModelProto.decode(await bench.exportQdq(ALL_INT8, silentJob)).graph!;
    expect(quantizersIn(graph, 'then_branch')).toBeGreaterThan(0);
    expect(quantizersIn(graph, 'else_branch')).toBe(0);
    expect((await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos).toBeGreaterThan(0.99);
    await bench.dispose();
  }, 180_000);

  it('Silero VAD v5 (its whole network in an If, with nested Ifs and LSTMs): quantized inside the branch its 16 kHz samples take', async () => {
    const engine = ortNodeEngine(1);
    const file = join(import.meta.dirname, '..', '..', 'node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx');
    const bench = await Workbench.open(engine, new Uint8Array(readFileSync(file)), 'silero_vad_v5.onnx');
    expect(bench.findings.nothingToQuantize).toBeNull();
    const random = randomSamples('input', [1, 512], 3, 4);
    const samples = random.map((s) => ({ input: { ...s.input, data: s.input.data.map((v) => v * 0.1) }, state: { dtype: 'float32' as const, dims: [2, 1, 128], data: new Float32Array(256) }, sr: { dtype: 'int64' as const, dims: [], data: new BigInt64Array([16000n]) } }));
    bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
    await bench.calibrate(silentJob);
    const bytes = await bench.exportQdq(ALL_INT8, silentJob);
    const graph = onnx.ModelProto.decode(bytes).graph!;
    expect(quantizersIn(graph, 'then_branch')).toBeGreaterThan(20);
    expect(quantizersIn(graph, 'else_branch')).toBe(0); // 8 kHz: no sample took it
    const predicted = await bench.simulatedOutputs(ALL_INT8, 'outputs', silentJob);
    expect(maxRelativeDifference(predicted, await runModel(engine, bytes, samples))).toBe(0);
    expect((await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos).toBeGreaterThan(0.99);
    // Every quantized layer of the branches the samples take (nested Ifs included) gets its own
    // error; the untaken ones (the 8 kHz branch, the state-reset branches) get none: no sample runs them.
    const evaluation = await bench.evaluate(ALL_INT8, 'layers', silentJob);
    const measured = new Map(evaluation.layers.map((l) => [l.layer, l]));
    const observed = bench.caliTable().entries;
    const inBodies = bench.graph.nodes.filter((n) => n.scope && bench.layers.get(n.name)?.quantizable);
    const takenScopes = new Set(bench.graph.nodes.filter((n) => n.scope && n.outputs.some((o) => observed.has(o))).map((n) => n.scope));
    const taken = inBodies.filter((n) => takenScopes.has(n.scope));
    expect(taken.length).toBeGreaterThan(50);
    const missing = taken.filter((n) => !measured.has(n.name)).map((n) => `${n.scope}/${n.name}`);
    expect(missing).toEqual([]);
    for (const n of taken) expect(measured.get(n.name)!.cos, n.name).toBeGreaterThan(0.9);
    expect(inBodies.filter((n) => !takenScopes.has(n.scope)).some((n) => measured.has(n.name))).toBe(false);
    // ...and the evaluation says they run FP32 although the QTable says INT8 (the page shows them so).
    expect(new Set(evaluation.floatForLackOfRanges)).toEqual(new Set(inBodies.filter((n) => !takenScopes.has(n.scope)).map((n) => n.name)));
    await bench.dispose();
  }, 120_000);
});
void readdirSync;
