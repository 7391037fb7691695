import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { derivedTensors } from '../../src/core/calib/derivedTensors';
import { runStatisticsPass, type SampleObservation } from '../../src/core/calib/statisticsPass';
import type { Engine } from '../../src/core/engine/Engine';
import type { Dataset } from '../../src/core/io/dataset/Dataset';
import { loadDataset } from '../../src/core/io/dataset/loadDataset';
import { onnx } from '../../src/core/io/onnx/protobuf';
import { silentJob } from '../../src/core/jobs/Job';
import { Workbench } from '../../src/core/Workbench';
import { DEMO_PREPROCESS } from '../../src/demo/preprocess';
import { SHARED_CORPUS } from '../corpus/corpusModels';
import { GraphBuilder, randomSamples } from '../support/GraphBuilder';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../support/models';

const engine = ortNodeEngine(2);

/** Every observation of a pass, and the extended model the pass ran. */
async function observe(bench: Workbench, dataset: Dataset, derive: boolean, valuesPerTensor: number | 'all' = 4096) {
  const seen: SampleObservation[][] = [];
  let reductions = 0;
  const counting: Engine = {
    name: engine.name,
    createSession(bytes, options) {
      reductions = onnx.ModelProto.decode(bytes).graph!.node.filter((n) => n.opType === 'ReduceMax' && n.name.includes('qbench')).length;
      return engine.createSession(bytes, options);
    },
  };
  await runStatisticsPass(counting, bench.model, bench.calibratedTensors(), dataset, { valuesPerTensor, derive }, (t, o, s) => {
    (seen[s] ??= [])[t] = { ...o, values: o.values.slice() };
  }, silentJob, bench.types);
  return { seen, reductions };
}

/** Bit for bit: min and max with Object.is (the sign of a zero included), the values element by element. */
function expectIdentical(derived: SampleObservation[][], observed: SampleObservation[][], tensors: readonly string[]) {
  expect(derived.length).toBe(observed.length);
  derived.forEach((sample, s) => sample.forEach((o, t) => {
    const reference = observed[s][t];
    const where = `sample ${s}, ${tensors[t]}`;
    expect(Object.is(o.min, reference.min), `${where} min ${o.min} vs ${reference.min}`).toBe(true);
    expect(Object.is(o.max, reference.max), `${where} max ${o.max} vs ${reference.max}`).toBe(true);
    expect(o.count, where).toBe(reference.count);
    expect(o.values.length, where).toBe(reference.values.length);
    for (let i = 0; i < o.values.length; i++) {
      if (!Object.is(o.values[i], reference.values[i])) expect(`${where} value ${i}: ${o.values[i]}`).toBe(`${where} value ${i}: ${reference.values[i]}`);
    }
  }));
}

describe('tensors derived from another observed tensor (statistics pass)', () => {
  it('PP-OCRv4 det (the demo): its HardSwish Add/Clip/Div and scalar Mul outputs derive, with statistics bit for bit those of observing them', async () => {
    const bench = await Workbench.open(engine, REAL_MODELS.ppocrDet(), 'det.onnx');
    const files = readdirSync(DEMO_IMAGE_DIR).slice(0, 3).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
    const dataset = await loadDataset(files, bench.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder);
    const tensors = bench.calibratedTensors();
    const derived = derivedTensors(bench.model, tensors);
    const count = derived.filter(Boolean).length;
    // 293 observed tensors; 153 follow from another through Add/Mul/Div by a scalar or a Clip
    expect(count).toBeGreaterThanOrEqual(150);
    const producers = new Map(bench.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n.opType] as const)));
    expect(new Set(tensors.filter((_, i) => derived[i]).map((t) => producers.get(t)))).toEqual(new Set(['Add', 'Mul', 'Div', 'Clip']));
    const withDerived = await observe(bench, dataset, true);
    const observed = await observe(bench, dataset, false);
    expect(observed.reductions).toBe(tensors.length);
    expect(withDerived.reductions).toBe(tensors.length - count);
    expectIdentical(withDerived.seen, observed.seen, tensors);
    await bench.dispose();
  }, 180_000);

  it('ShuffleNet (ONNX test suite): Reshape outputs derive from their input, every element sampled too', async () => {
    const file = join(SHARED_CORPUS, 'onnx-opset9', 'light_shufflenet.onnx');
    if (!existsSync(file)) return; // the shared corpus lies beside the repository in CI
    const bench = await Workbench.open(engine, new Uint8Array(readFileSync(file)), 'light_shufflenet.onnx');
    const input = bench.graph.inputs[0];
    const samples = randomSamples(input.name, [1, 3, 224, 224], 2, 5);
    const dataset = { samples, sampleNames: ['a', 'b'] };
    const tensors = bench.calibratedTensors();
    const derived = derivedTensors(bench.model, tensors);
    const producers = new Map(bench.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n.opType] as const)));
    expect(tensors.filter((_, i) => derived[i]).some((t) => producers.get(t) === 'Reshape')).toBe(true);
    for (const values of [512, 'all'] as const) {
      const withDerived = await observe(bench, dataset, true, values);
      const observed = await observe(bench, dataset, false, values);
      expect(withDerived.reductions).toBeLessThan(observed.reductions);
      expectIdentical(withDerived.seen, observed.seen, tensors);
    }
    await bench.dispose();
  }, 180_000);

  it('decreasing maps swap the extremes; a constant of more than one element and Relu are not derived; a chain may pass through tensors nobody observes', async () => {
    const b = new GraphBuilder({ seed: 3, opset: 13 });
    const x = b.input('x', [1, 2, 4, 4]);
    const scalar = (v: number) => b.constant(new Float32Array([v]), []);
    const [negated] = b.node('Mul', [x, scalar(-0.75)], {}, 1, [1, 2, 4, 4], 'neg');
    const [subtracted] = b.node('Sub', [scalar(0.5), negated], {}, 1, [1, 2, 4, 4], 'sub');
    const [clipped] = b.node('Clip', [subtracted, scalar(-0.25), scalar(1)], {}, 1, [1, 2, 4, 4], 'clip');
    const [perChannel] = b.node('Mul', [clipped, b.constant(new Float32Array([2, 3]), [1, 2, 1, 1])], {}, 1, [1, 2, 4, 4], 'per_channel');
    const [relu] = b.node('Relu', [perChannel], {}, 1, [1, 2, 4, 4], 'relu');
    const [divided] = b.node('Div', [relu, scalar(3)], {}, 1, [1, 2, 4, 4], 'div');
    const [flat] = b.node('Flatten', [divided], { axis: 1 }, 1, [1, 32], 'flat');
    b.output(flat);
    const bench = await Workbench.open(engine, b.toBytes(), 'maps.onnx');
    const tensors = [x, negated, subtracted, clipped, perChannel, relu, flat];
    const derived = derivedTensors(bench.model, tensors);
    expect(derived.map((d) => d && [tensors[d.root], d.decreasing])).toEqual([null, [x, true], [x, false], [x, false], null, null, [relu, false]]);
    const samples = randomSamples('x', [1, 2, 4, 4], 3, 8);
    const dataset = { samples, sampleNames: ['a', 'b', 'c'] };
    const run = async (derive: boolean) => {
      const seen: SampleObservation[][] = [];
      await runStatisticsPass(engine, bench.model, tensors, dataset, { valuesPerTensor: 10, derive }, (t, o, s) => { (seen[s] ??= [])[t] = { ...o, values: o.values.slice() }; }, silentJob, bench.types);
      return seen;
    };
    expectIdentical(await run(true), await run(false), tensors);
    await bench.dispose();
  });
});
