import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { seededRandom } from '../../src/core/seededRandom';
import { CancelledError } from '../../src/core/errors';
import { loadDataset } from '../../src/core/io/dataset/loadDataset';
import { onnx } from '../../src/core/io/onnx/protobuf';
import { readTensorProto } from '../../src/core/io/onnx/tensorProto';
import { CancelToken, jobContext, silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8, withPrecision } from '../../src/core/model/QTable';
import { NO_CORRECTIONS, Workbench } from '../../src/core/Workbench';
import { DEMO_PREPROCESS } from '../../src/demo/preprocess';
import { GraphBuilder } from '../support/GraphBuilder';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../support/models';

/**
 * The workbench's correction toggles (issue #3 item 7): each applied through Workbench.setCorrections
 * on a model where its effect is known, with the measured output similarity it reports.
 */

/** conv1's weights: one large weight per channel, the rest small and mostly positive, so INT4 rounds them away with a mean error. */
function biasedConvModel(): Uint8Array {
  const b = new GraphBuilder({ seed: 51 });
  const x = b.input('x', [1, 3, 8, 8]);
  const w = new Float32Array(8 * 27);
  for (let i = 0; i < w.length; i++) w[i] = i % 27 === 0 ? 1 : b.random() * 0.12 - 0.02;
  const conv1 = b.node('Conv', [x, b.constant(w, [8, 3, 3, 3]), b.weight([8], 0.1)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 1, [1, 8, 8, 8], 'conv1')[0];
  b.output(b.conv(b.relu(conv1), 4, 3, { name: 'conv2' }));
  return b.toBytes();
}

function positiveSamples(count: number) {
  const random = seededRandom(17);
  const samples = Array.from({ length: count }, () => ({ x: { dtype: 'float32' as const, dims: [1, 3, 8, 8], data: Float32Array.from({ length: 192 }, () => 2 * random() ** 2) } }));
  return { samples, sampleNames: samples.map((_, i) => `s${i}`) };
}

/** The int32 bias the exported model stores for `layer`. */
function storedBias(bytes: Uint8Array, layer: string): number[] {
  const graph = onnx.ModelProto.decode(bytes).graph!;
  const conv = graph.node.find((n) => n.name === layer)!;
  const dq = graph.node.find((n) => n.output[0] === conv.input[2])!;
  return Array.from(readTensorProto(graph.initializer.find((t) => t.name === dq.input[0])!, 'm').data as Int32Array);
}

async function demoBench(images = 4): Promise<Workbench> {
  const bench = await Workbench.open(ortNodeEngine(2), REAL_MODELS.ppocrDet(), 'det.onnx');
  const files = readdirSync(DEMO_IMAGE_DIR).slice(0, images).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
  bench.setDataset(await loadDataset(files, bench.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder));
  bench.setCalibrationSettings({ method: 'kl' });
  await bench.calibrate(silentJob);
  return bench;
}

const countOps = (bench: Workbench, op: string) => bench.graph.nodes.filter((n) => n.opType === op).length;

describe('corrections in the workbench', () => {
  it('bias correction is kept when it raises the output similarity, and its shifted biases are what the export stores', async () => {
    const bench = await Workbench.open(ortNodeEngine(1), biasedConvModel(), 'biased.onnx');
    bench.setDataset(positiveSamples(8));
    const w4 = withPrecision(ALL_INT8, 'conv1', 'INT4');
    await bench.calibrate(silentJob, w4);
    const plainBias = storedBias(await bench.exportQdq(w4), 'conv1');
    const report = await bench.setCorrections({ ...NO_CORRECTIONS, biasCorrection: true }, w4, silentJob);
    const effect = report.effects.biasCorrection!;
    expect(effect).toMatchObject({ layers: 1, kept: true });
    expect(effect.after).toBeGreaterThan(effect.before); // 0.99178 -> 0.99537 when written
    expect(report.outputCos.before).toBeCloseTo(effect.before, 12);
    expect(report.outputCos.after).toBeCloseTo(effect.after, 12);
    expect(storedBias(await bench.exportQdq(w4), 'conv1')).not.toEqual(plainBias);
    expect((await bench.exportVerifiedQdq(w4, silentJob)).verification.measured.cos).toBeCloseTo(effect.after, 6);

    const off = await bench.setCorrections(NO_CORRECTIONS, w4, silentJob);
    expect(off.outputCos.after).toBeCloseTo(effect.before, 12);
    expect(storedBias(await bench.exportQdq(w4), 'conv1')).toEqual(plainBias);
    expect(bench.summary().correctionEffects.biasCorrection).toBeNull();
  });

  it('PP-OCRv4 det: bias correction lowers the similarity and is reverted; BN folding removes two BatchNorms and comes back off', async () => {
    const bench = await demoBench();
    const int8 = (await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos;

    const bias = await bench.setCorrections({ ...NO_CORRECTIONS, biasCorrection: true }, ALL_INT8, silentJob);
    expect(bias.effects.biasCorrection!.layers).toBeGreaterThan(0);
    expect(bias.effects.biasCorrection!.kept).toBe(false);
    expect(bias.effects.biasCorrection!.after).toBeLessThan(int8); // 0.9153 -> 0.9001 when written
    expect(bias.outputCos).toEqual({ before: int8, after: int8 });
    expect(bias.graphChanged).toBe(false);

    expect(countOps(bench, 'BatchNormalization')).toBe(3);
    const folded = await bench.setCorrections({ ...NO_CORRECTIONS, foldBatchNorm: true }, ALL_INT8, silentJob);
    expect(folded.graphChanged).toBe(true);
    expect(folded.effects.foldedBatchNorms).toBe(2);
    expect(folded.effects.skipped).toHaveLength(1);
    expect(countOps(bench, 'BatchNormalization')).toBe(1);
    expect([...bench.layers.values()].filter((l) => l.opType === 'BatchNormalization')).toHaveLength(1);
    // the float function is kept, so the similarity stays close; the folded BNs' ranges are no longer quantized apart
    expect(Math.abs(folded.outputCos.after - int8)).toBeLessThan(0.02);

    const unfolded = await bench.setCorrections(NO_CORRECTIONS, ALL_INT8, silentJob);
    expect(unfolded.graphChanged).toBe(true);
    expect(countOps(bench, 'BatchNormalization')).toBe(3);
    expect(unfolded.outputCos.after).toBeCloseTo(int8, 12);
  });

  it('threshold tuning replaces the KL thresholds while the method is KL, and only then', async () => {
    const b = new GraphBuilder({ seed: 17 });
    let x = b.input('x', [1, 3, 12, 12]);
    x = b.relu(b.conv(x, 8, 3, { name: 'conv1' }));
    x = b.conv(x, 8, 3, { name: 'conv2' });
    b.output(b.conv(b.relu(x), 4, 1, { name: 'conv3' }));
    const bench = await Workbench.open(ortNodeEngine(1), b.toBytes(), 'cnn.onnx');
    // Laplace inputs: heavy tails, so KL clips relu_8 well below its max and there is room to tune
    const random = seededRandom(5);
    const samples = Array.from({ length: 6 }, () => ({ x: { dtype: 'float32' as const, dims: [1, 3, 12, 12], data: Float32Array.from({ length: 432 }, () => (random() < 0.5 ? -1 : 1) * -Math.log(1 - random())) } }));
    bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
    bench.setCalibrationSettings({ method: 'kl', collect: 'all' });
    await bench.calibrate(silentJob);
    const kl = bench.caliTable().entries;

    const report = await bench.setCorrections({ ...NO_CORRECTIONS, tuneThresholds: true, tuneNum: 2 }, ALL_INT8, silentJob);
    const tuned = bench.caliTable().entries;
    const moved = [...tuned].filter(([t, e]) => e.threshold !== kl.get(t)!.threshold).map(([t]) => t);
    expect(report.effects.tunedTensors).toBe(moved.length);
    expect(moved.length).toBeGreaterThan(0); // relu_8: 7.69 -> 10.14 when written
    expect(report.outputCos.after).toBeGreaterThan(report.outputCos.before!); // 0.99966 -> 0.99982 when written
    for (const t of moved) expect(tuned.get(t)!.threshold).toBeGreaterThan(kl.get(t)!.threshold); // candidates run from th_KL up to absmax

    bench.setCalibrationSettings({ method: 'max' });
    for (const [t, e] of bench.caliTable().entries) expect(e.threshold).toBe(bench.tensorCalibration(t)!.entries.max!.threshold);
    bench.setCalibrationSettings({ method: 'kl' });
    expect(bench.caliTable().entries).toEqual(tuned);

    await bench.setCorrections(NO_CORRECTIONS, ALL_INT8, silentJob);
    expect(bench.caliTable().entries).toEqual(kl);
    await expect(bench.setCorrections({ ...NO_CORRECTIONS, tuneThresholds: true, tuneNum: 0 }, ALL_INT8, silentJob)).rejects.toThrow('tune_num must be a positive integer, got 0');
  });

  it('a cancelled change leaves the previous corrections, model and thresholds in force', async () => {
    const bench = await Workbench.open(ortNodeEngine(1), biasedConvModel(), 'biased.onnx');
    bench.setDataset(positiveSamples(4));
    await bench.calibrate(silentJob);
    const before = bench.summary();
    const model = bench.model;
    const token = new CancelToken();
    const job = jobContext((p) => { if (p.stage.includes('equaliz') || p.done > 0) token.cancel(); }, token);
    await expect(bench.setCorrections({ ...NO_CORRECTIONS, equalize: true, biasCorrection: true }, ALL_INT8, job)).rejects.toThrow(CancelledError);
    expect(bench.model).toBe(model);
    expect(bench.summary()).toEqual(before);
    expect((await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos).toBeGreaterThan(0.9);
  });
});
