import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../cli/ortNodeEngine';
import { GraphBuilder, seededRandom } from '../../../test/support/GraphBuilder';
import type { CaliEntry } from '../model/CaliTable';
import type { Engine } from '../engine/Engine';
import { DataError } from '../errors';
import type { Dataset } from '../io/dataset/Dataset';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { onnx } from '../io/onnx/protobuf';
import type { TensorMap } from '../model/tensor';
import { CancelToken, jobContext, silentJob, type JobProgress } from '../jobs/Job';
import { roundHalfEven } from '../quant/rounding';
import { dequantizeWeight, quantizeWeightSymmetric } from '../quant/weightQuant';
import { exposeAllTensors } from '../engine/tensorTypes';
import { Workbench } from '../Workbench';
import { measureTuningLosses, tunedEntry, tuneThresholds, tuningCandidates } from './tuneThresholds';

function cnn(): Uint8Array {
  const b = new GraphBuilder({ seed: 61 });
  let x = b.input('x', [1, 3, 12, 12]);
  x = b.relu(b.conv(x, 8, 3, { name: 'conv1' }));
  x = b.relu(b.conv(x, 8, 3, { name: 'conv2' }));
  b.output(b.conv(x, 4, 3, { name: 'conv3' }));
  return b.toBytes();
}

/** Heavy-tailed (Laplace) inputs: KL clips their tails, so there is room between th_KL and absmax. */
function laplaceSamples(count: number): TensorMap[] {
  const random = seededRandom(71);
  return Array.from({ length: count }, () => ({
    x: { dtype: 'float32' as const, dims: [1, 3, 12, 12], data: Float32Array.from({ length: 432 }, () => (random() < 0.5 ? -1 : 1) * -Math.log(1 - random()) * 0.5) },
  }));
}

/** A KL-calibrated workbench and what tuning needs from it. */
async function klCalibrated() {
  const engine = ortNodeEngine(1);
  const bench = await Workbench.open(engine, cnn(), 'cnn.onnx');
  const list = laplaceSamples(8);
  const dataset: Dataset = { samples: list, sampleNames: list.map((_, i) => `s${i}`) };
  bench.setDataset(dataset);
  bench.setCalibrationSettings({ method: 'kl' });
  await bench.calibrate(silentJob);
  const cali = bench.caliTable().entries;
  const absmax = new Map<string, number>();
  const ranges = new Map<string, { min: number; max: number }>();
  for (const tensor of cali.keys()) {
    const view = bench.tensorCalibration(tensor)!;
    absmax.set(tensor, Math.max(Math.abs(view.min), Math.abs(view.max)));
    ranges.set(tensor, { min: view.min, max: view.max });
  }
  return { engine, bench, model: bench.model, dataset, cali, absmax, ranges };
}

/**
 * The loss measured without the tuner's graph: the float tensor and the consumer's float output come
 * out of the float model, the tensor is fake-quantized here in JavaScript (int8, scale th/127, round
 * half to even), and a one-Conv model with int8 fake-quantized weights runs on it.
 */
async function independentLoss(engine: Engine, model: OnnxModel, dataset: Dataset, tensor: string, consumer: string, threshold: number, tuneNum: number): Promise<number> {
  const conv = model.graph.nodes.find((n) => n.name === consumer)!;
  const all = await engine.createSession(onnx.ModelProto.encode(exposeAllTensors(model.proto)).finish());
  const b = new GraphBuilder();
  // a graph input comes from the sample itself
  const valueOf = async (s: number, name: string) => dataset.samples[s][name] ?? (await all.run(dataset.samples[s], [name]))[name];
  const dims = (await valueOf(0, tensor)).dims as number[];
  const input = b.input('t', dims);
  const weight = model.weight(conv.inputs[1]);
  const fake = dequantizeWeight(quantizeWeightSymmetric(weight, 0, 'int8'));
  const attrs = Object.fromEntries(Object.entries(conv.attributes).map(([k, v]) => [k, v as number | number[]]));
  b.output(b.node('Conv', [input, b.constant(fake, [...weight.dims]), b.constant(model.weight(conv.inputs[2]).data as Float32Array, [weight.dims[0]])], attrs, 1, [1])[0]);
  const single = await engine.createSession(b.toBytes());
  const scale = Math.fround(threshold / 127);
  let total = 0;
  for (let s = 0; s < tuneNum; s++) {
    const t = (await valueOf(s, tensor)).data as Float32Array;
    const q = Float32Array.from(t, (v) => Math.max(-128, Math.min(127, roundHalfEven(v / scale))) * scale);
    const out = await single.run({ t: { dtype: 'float32', dims, data: q } });
    const y = Object.values(out)[0].data as Float32Array;
    const ref = (await valueOf(s, conv.outputs[0])).data as Float32Array;
    let dd = 0;
    let l1 = 0;
    ref.forEach((r, i) => {
      dd += (r - y[i]) ** 2;
      l1 += Math.abs(r);
    });
    total += Math.sqrt(dd) / l1;
  }
  await all.dispose();
  await single.dispose();
  return total / tuneNum;
}

describe('tuneThresholds', () => {
  it('candidates run evenly from th_KL to absmax: 22 of them by default (TPU-MLIR tune_steps 21)', () => {
    const c = tuningCandidates(1, 3.1, 22);
    expect(c).toHaveLength(22);
    expect(c[0]).toBe(1);
    expect(c[21]).toBe(3.1);
    expect(c[1]).toBeCloseTo(1.1, 12);
  });

  it('tuned thresholds lie in [th_KL, absmax], are candidates, and lose no more than th_KL (measured independently)', async () => {
    const { engine, model, dataset, cali, absmax, ranges, bench } = await klCalibrated();
    const tunings = await measureTuningLosses(model, engine, dataset, cali, absmax, { types: bench.types, tuneNum: 5 });
    // x feeds conv1 and each Relu output the next Conv; conv3's output feeds nothing
    const reader = new Map(['conv1', 'conv2', 'conv3'].map((c) => [bench.graph.nodes.find((n) => n.name === c)!.inputs[0], c]));
    expect(tunings.length).toBeGreaterThanOrEqual(2);
    expect(tunings[0].tensor).toBe('x');
    for (const t of tunings) expect(t.consumers).toEqual([reader.get(t.tensor)]);
    expect(tunings.some((t) => t.threshold > cali.get(t.tensor)!.threshold)).toBe(true);
    const table = await tuneThresholds(model, engine, dataset, cali, absmax, { types: bench.types, ranges });
    for (const tuning of tunings) {
      const kl = cali.get(tuning.tensor)!;
      expect(kl.source).toBe('kl');
      const top = absmax.get(tuning.tensor)!;
      expect(tuning.candidates).toEqual(tuningCandidates(kl.threshold, top, 22));
      expect(tuning.threshold).toBeGreaterThanOrEqual(kl.threshold);
      expect(tuning.threshold).toBeLessThanOrEqual(top);
      expect(tuning.candidates).toContain(tuning.threshold);
      expect(table.get(tuning.tensor)).toEqual(tunedEntry(kl, tuning.threshold, ranges.get(tuning.tensor)));
      const atKl = await independentLoss(engine, model, dataset, tuning.tensor, tuning.consumers[0], kl.threshold, 5);
      const atTuned = await independentLoss(engine, model, dataset, tuning.tensor, tuning.consumers[0], tuning.threshold, 5);
      expect(atTuned).toBeLessThanOrEqual(atKl * (1 + 1e-6));
      // and the tuner's own numbers are these
      expect(tuning.losses[0]).toBeCloseTo(atKl, 5);
      expect(tuning.losses[tuning.candidates.indexOf(tuning.threshold)]).toBeCloseTo(atTuned, 5);
      expect(Math.min(...tuning.losses)).toBe(tuning.losses[tuning.candidates.indexOf(tuning.threshold)]);
    }
    // entries that were not tuned come back as they were
    for (const [tensor, entry] of cali) if (!tunings.some((t) => t.tensor === tensor)) expect(table.get(tensor)).toBe(entry);
  });

  it('tuned min/max: the observed range clipped to ±threshold, or without ranges the KL-clipped sides moved out', () => {
    const kl: CaliEntry = { threshold: 2, min: -2, max: 1.5, source: 'kl' };
    expect(tunedEntry(kl, 3, { min: -4, max: 1.5 })).toEqual({ threshold: 3, min: -3, max: 1.5, source: 'kl' });
    expect(tunedEntry(kl, 3)).toEqual({ threshold: 3, min: -3, max: 1.5, source: 'kl' });
  });

  it('batches the tensors under maxNodesPerSession, reports progress per batch and stops when cancelled', async () => {
    const { engine, model, dataset, cali, absmax, bench } = await klCalibrated();
    const seen: JobProgress[] = [];
    // one tensor costs 22 x (Q + DQ + Conv copy + Sub + ReduceSumSquare + Reshape) + 2 = 134 nodes: one batch each
    const tunings = await measureTuningLosses(model, engine, dataset, cali, absmax, { types: bench.types, maxNodesPerSession: 100, job: jobContext((p) => seen.push(p)) });
    const n = tunings.length;
    expect(n).toBeGreaterThanOrEqual(2);
    expect(seen.map((p) => `${p.stage} ${p.done}/${p.total}`)).toEqual(Array.from({ length: n + 1 }, (_, i) => `tuning thresholds ${i}/${n}`));
    const together: JobProgress[] = [];
    await measureTuningLosses(model, engine, dataset, cali, absmax, { types: bench.types, job: jobContext((p) => together.push(p)) });
    expect(together.map((p) => `${p.done}/${p.total}`)).toEqual(['0/1', '1/1']);
    const token = new CancelToken();
    const job = jobContext((p) => { if (p.done === 1) token.cancel(); }, token);
    await expect(measureTuningLosses(model, engine, dataset, cali, absmax, { types: bench.types, maxNodesPerSession: 100, job })).rejects.toThrow('cancelled');
  });

  it('only KL entries with room above th_KL are tuned; bad options and an empty dataset are refused', async () => {
    const { engine, model, dataset, cali, absmax, bench } = await klCalibrated();
    const asMax = new Map([...cali].map(([t, e]) => [t, { ...e, source: 'max' as const }]));
    expect(await measureTuningLosses(model, engine, dataset, asMax, absmax, { types: bench.types })).toEqual([]);
    const noRoom = new Map([...absmax].map(([t]) => [t, cali.get(t)!.threshold + 0.005]));
    expect(await measureTuningLosses(model, engine, dataset, cali, noRoom, { types: bench.types })).toEqual([]);
    await expect(tuneThresholds(model, engine, dataset, cali, absmax, { candidates: 1 })).rejects.toThrow(new RangeError('candidates must be an integer of at least 2, got 1'));
    await expect(tuneThresholds(model, engine, { samples: [], sampleNames: [] }, cali, absmax)).rejects.toThrow(new DataError('threshold tuning needs at least one sample; the dataset is empty'));
  });
});
