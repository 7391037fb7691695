import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { runStatisticsPass } from '../../src/core/calib/statisticsPass';
import { formatCaliTable, parseCaliTable } from '../../src/core/io/caliTable';
import { onnx } from '../../src/core/io/onnx/protobuf';
import { readTensorProto } from '../../src/core/io/onnx/tensorProto';
import { silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8, withPrecision } from '../../src/core/model/QTable';
import { exposeAllTensors } from '../../src/core/engine/tensorTypes';
import { bestThresholdMethod, Workbench } from '../../src/core/Workbench';
import type { TensorMap } from '../../src/core/model/tensor';
import type { Engine } from '../../src/core/engine/Engine';
import { GraphBuilder, randomSamples } from '../support/GraphBuilder';

const engine = ortNodeEngine(1);

function cnn(): Uint8Array {
  const b = new GraphBuilder({ seed: 17 });
  let x = b.input('x', [1, 3, 12, 12]);
  x = b.relu(b.conv(x, 8, 3, { name: 'conv1' }));
  x = b.conv(x, 8, 3, { name: 'conv2' });
  b.output(b.conv(b.relu(x), 4, 1, { name: 'conv3' }));
  return b.toBytes();
}

async function calibrated(on: Engine = engine) {
  const bench = await Workbench.open(on, cnn(), 'cnn.onnx');
  const samples = randomSamples('x', [1, 3, 12, 12], 6, 9);
  bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
  await bench.calibrate(silentJob);
  return { bench, samples };
}

/** Scale of the QuantizeLinear that stores `tensor` in the exported model. */
function storedScale(bytes: Uint8Array, tensor: string): number {
  const graph = onnx.ModelProto.decode(bytes).graph!;
  const q = graph.node.find((n) => n.opType === 'QuantizeLinear' && (n.input[0] === `${tensor}_prequant` || n.input[0] === tensor))!;
  return (readTensorProto(graph.initializer.find((t) => t.name === q.input[1])!, 'm').data as Float32Array)[0];
}

describe('statistics pass', () => {
  it('min and max are exact and the sampled values are elements of the tensor, the same each run', async () => {
    const { bench, samples } = await calibrated();
    const tensors = bench.activationTensors();
    const seen: { min: number; max: number; values: number[] }[][] = [];
    const run = () => runStatisticsPass(engine, bench.model, tensors, { samples, sampleNames: samples.map((_, i) => `s${i}`) }, { valuesPerTensor: 50 }, (t, o, s) => {
      (seen[s] ??= [])[t] = { min: o.min, max: o.max, values: Array.from(o.values) };
    }, silentJob);
    await run();
    const first = structuredClone(seen);
    await run();
    expect(seen).toEqual(first);
    const session = await engine.createSession(onnx.ModelProto.encode(exposeAllTensors(bench.model.proto)).finish());
    for (let s = 0; s < samples.length; s++) {
      const all: TensorMap = { ...(await session.run(samples[s])), x: samples[s].x };
      tensors.forEach((tensor, t) => {
        const data = Array.from(all[tensor].data as Float32Array);
        expect(seen[s][t].min).toBe(Math.min(...data));
        expect(seen[s][t].max).toBe(Math.max(...data));
        expect(seen[s][t].values).toHaveLength(Math.min(50, data.length));
        const present = new Set(data);
        expect(seen[s][t].values.every((v) => present.has(v))).toBe(true);
      });
    }
  });

  it('samples of different shapes are refused by name', async () => {
    const { bench } = await calibrated();
    const [a] = randomSamples('x', [1, 3, 12, 12], 1);
    const [b] = randomSamples('x', [1, 3, 10, 10], 1);
    await expect(runStatisticsPass(engine, bench.model, bench.activationTensors(), { samples: [a, b], sampleNames: ['a.npy', 'b.npy'] }, { valuesPerTensor: 8 }, () => {}, silentJob))
      .rejects.toThrow('sample 1 (b.npy) has input "x" of shape [1, 3, 10, 10] but sample 0 (a.npy) has [1, 3, 12, 12]; calibrate with samples of one shape');
  });
});

describe('calibration in the workbench', () => {
  it('a per-tensor method or typed threshold changes that tensor only, in the exported model too', async () => {
    const { bench } = await calibrated();
    // conv3's output is the graph output, quantized where it is produced (conv2's feeds a fused Relu)
    const target = bench.graph.nodes.find((n) => n.name === 'conv3')!.outputs[0];
    const other = bench.graph.nodes.find((n) => n.name === 'conv2')!.outputs[0];
    const before = bench.caliTable().entries;
    bench.setTensorOverride(target, { threshold: 0.5 });
    const after = bench.caliTable().entries;
    expect(after.get(target)).toEqual({ threshold: 0.5, min: Math.max(before.get(target)!.min, -0.5), max: Math.min(before.get(target)!.max, 0.5), source: 'user' });
    expect(after.get(other)).toEqual(before.get(other));
    const range = after.get(target)!;
    expect(storedScale(await bench.exportQdq(ALL_INT8), target)).toBe(Math.fround(Math.max((Math.max(0, range.max) - Math.min(0, range.min)) / 255, 1e-5)));
    bench.setTensorOverride(target, { method: 'percentile9999' });
    expect(bench.caliTable().entries.get(target)!.source).toBe('percentile9999');
    bench.setTensorOverride(target, null);
    expect(bench.caliTable().entries.get(target)).toEqual(before.get(target));
  });

  it('a cali_table written by qbench reads back and replaces the thresholds (TPU-MLIR op names)', async () => {
    const { bench } = await calibrated();
    bench.setCalibrationSettings({ method: 'kl' });
    const text = formatCaliTable(bench.caliTable(), { nodes: bench.graph.nodes });
    expect(text).toMatch(/\nconv_\d+_Conv \d+\.\d{7} -?\d+\.\d{7} \d+\.\d{7}\n/);
    const parsed = parseCaliTable(text, 'cnn_cali_table', bench.graph.nodes);
    expect(parsed.unknownTensors).toEqual([]);
    bench.setCalibrationSettings({ method: 'max' });
    bench.setImportedTable(parsed.table);
    const imported = bench.caliTable().entries;
    for (const [tensor, entry] of parsed.table.entries) {
      expect(imported.get(tensor)!.threshold).toBeCloseTo(entry.threshold, 6);
      expect(imported.get(tensor)!.source).toBe('imported');
    }
  });

  it('search_threshold evaluates every method on the all-INT8 model; its best, applied, gives that figure', async () => {
    const { bench } = await calibrated();
    const methodBefore = bench.settings.method;
    const rows = await bench.searchThreshold(silentJob);
    expect(rows.map((r) => r.method).sort()).toEqual(['aciq_gauss', 'aciq_laplace', 'kl', 'kl_tensorrt', 'max', 'minmax_percentile', 'moving_average', 'mse', 'percentile9999']);
    expect(bench.settings.method).toBe(methodBefore); // no setting changes behind the caller's back
    const best = rows.reduce((a, b) => (b.output.cos > a.output.cos ? b : a));
    expect(bestThresholdMethod(rows)).toBe(best.method);
    bench.setCalibrationSettings({ method: bestThresholdMethod(rows) });
    const evaluation = await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    expect(evaluation.output.cos).toBeCloseTo(best.output.cos, 12);
  });

  it('calibration skips tensors fused into their activation, and a QTable that un-fuses one calibrates it then', async () => {
    const { bench } = await calibrated();
    const conv1 = bench.graph.nodes.find((n) => n.name === 'conv1')!.outputs[0];
    const relu = bench.graph.nodes.find((n) => n.opType === 'Relu' && n.inputs[0] === conv1)!;
    expect(bench.calibratedTensors()).not.toContain(conv1);
    expect(bench.caliTable().entries.has(conv1)).toBe(false);
    const evaluation = await bench.evaluate(withPrecision(ALL_INT8, relu.name, 'FP32'), 'outputs', silentJob);
    expect(evaluation.output.cos).toBeGreaterThan(0.9);
    expect(bench.caliTable().entries.get(conv1)!.max).toBeGreaterThan(0);
  });

  it('the left-out tensors can be observed ahead of the edit that un-fuses one: the same ranges, and the edit runs no calibration pass', async () => {
    // Sessions created: the edit's QDQ model, plus a float model with observations when it calibrates.
    const counting = (): { sessions: number; engine: Engine } => {
      const counter: { sessions: number; engine: Engine } = { sessions: 0, engine };
      counter.engine = { name: engine.name, createSession: (bytes, options) => (counter.sessions++, engine.createSession(bytes, options)) };
      return counter;
    };
    const [ahead, during] = [counting(), counting()];
    const a = (await calibrated(ahead.engine)).bench;
    const b = (await calibrated(during.engine)).bench;
    const conv1 = a.graph.nodes.find((n) => n.name === 'conv1')!.outputs[0];
    const relu = a.graph.nodes.find((n) => n.opType === 'Relu' && n.inputs[0] === conv1)!;
    for (const bench of [a, b]) await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    expect(await a.calibrateRemainingTensors(silentJob)).toBeGreaterThan(0);
    expect(a.caliTable().entries.get(conv1)!.max).toBeGreaterThan(0);
    expect(await a.calibrateRemainingTensors(silentJob)).toBe(0);
    const edit = withPrecision(ALL_INT8, relu.name, 'FP32');
    const sessions = [ahead.sessions, during.sessions];
    const [ea, eb] = [await a.evaluate(edit, 'outputs', silentJob), await b.evaluate(edit, 'outputs', silentJob)];
    expect(ea.output.cos).toBe(eb.output.cos);
    expect(a.caliTable().entries.get(conv1)).toEqual(b.caliTable().entries.get(conv1));
    expect(during.sessions - sessions[1]).toBeGreaterThan(ahead.sessions - sessions[0]);
  });

  it("keeping one method's statistics calibrates for it, and another method needs a new pass", async () => {
    const bench = await Workbench.open(engine, cnn(), 'cnn.onnx');
    const samples = randomSamples('x', [1, 3, 12, 12], 4, 9);
    bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
    bench.setCalibrationSettings({ collect: 'method', method: 'kl' });
    await bench.calibrate(silentJob);
    expect(bench.caliTable().entries.values().next().value!.source).toBe('kl');
    expect(Object.keys(bench.tensorCalibration('x')!.entries)).toEqual(['kl']);
    expect(bench.setCalibrationSettings({ method: 'mse' })).toEqual({ needsCalibration: true });
  });

  it('a new count of evaluation samples is used by the next evaluation, without a new calibration', async () => {
    const { bench } = await calibrated();
    expect((await bench.evaluate(ALL_INT8, 'outputs', silentJob)).sampleCount).toBe(6);
    expect(bench.setCalibrationSettings({ evaluationSamples: 2 })).toEqual({ needsCalibration: false });
    expect((await bench.evaluate(ALL_INT8, 'outputs', silentJob)).sampleCount).toBe(2);
    expect(bench.summary().evaluationSampleCount).toBe(2);
  });
});
