import { describe, expect, it } from 'vitest';
import { nodeSearchPool } from '../../cli/nodeSearchPool';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { CancelledError } from '../../src/core/errors';
import { CancelToken, jobContext, silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8, qtableFromData, qtableToData, type Precision, type QTable } from '../../src/core/model/QTable';
import { nodeDepths } from '../../src/core/search/scoring/depth';
import { SEARCH_DEFAULTS } from '../../src/core/search/SearchRequest';
import type { SearchEvent } from '../../src/core/search/SearchSession';
import { lossOf, sampleScore, type SearchMetric } from '../../src/core/search/scoring/searchMetric';
import { onlyUnitQuantized, type UnitSensitivity } from '../../src/core/search/scoring/sensitivity';
import { quantUnits } from '../../src/core/search/scoring/units';
import { Simulator } from '../../src/core/sim/Simulator';
import { Workbench } from '../../src/core/Workbench';
import { GraphBuilder, seededRandom } from '../support/GraphBuilder';

/**
 * Issue #4's searches on built models with a planted answer, checked against the naive loop they
 * replace (a whole QDQ model per configuration, run on every sample).
 */

const RESCALED: SearchMetric = { kind: 'rescaled_cos', compare: [] };
const BASE = qtableToData(ALL_INT8);

/**
 * x -> conv_a -> Relu -> conv_b -> Relu -> conv_c -> Add(skip from the first Relu) -> conv_d.
 * conv_b's output channel 0 is 60 times the others (an outlier channel that takes the whole 8-bit
 * range) while conv_c reads mostly the small channels: quantizing that activation hurts most.
 */
function plantedModel(): Uint8Array {
  const b = new GraphBuilder({ seed: 11 });
  const x = b.input('x', [1, 3, 12, 12]);
  const a = b.relu(b.conv(x, 8, 3, { name: 'conv_a' }));
  const wB = new Float32Array(8 * 8 * 9);
  for (let i = 0; i < wB.length; i++) wB[i] = (b.random() * 2 - 1) * 0.2 * (i < 72 ? 60 : 1);
  const convB = b.node('Conv', [a, b.constant(wB, [8, 8, 3, 3]), b.weight([8], 0.05)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 1, [1, 8, 12, 12], 'conv_b')[0];
  const wC = new Float32Array(8 * 8 * 9);
  for (let i = 0; i < wC.length; i++) wC[i] = (b.random() * 2 - 1) * 0.2 * (Math.floor(i / 9) % 8 === 0 ? 0.002 : 1);
  const convC = b.node('Conv', [b.relu(convB), b.constant(wC, [8, 8, 3, 3]), b.weight([8], 0.05)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 1, [1, 8, 12, 12], 'conv_c')[0];
  b.output(b.conv(b.add(convC, a), 4, 1, { name: 'conv_d' }));
  return b.toBytes();
}

function samples(count: number, seed = 5) {
  const random = seededRandom(seed);
  const list = Array.from({ length: count }, () => ({ x: { dtype: 'float32' as const, dims: [1, 3, 12, 12], data: Float32Array.from({ length: 432 }, () => random() * 2 - 1) } }));
  return { samples: list, sampleNames: list.map((_, i) => `s${i}`) };
}

async function calibratedBench(bytes = plantedModel(), count = 6): Promise<Workbench> {
  const bench = await Workbench.open(ortNodeEngine(1), bytes, 'planted.onnx');
  bench.setDataset(samples(count));
  await bench.calibrate(silentJob);
  return bench;
}

/** The naive loop's score of one configuration: the whole QDQ model, every sample. */
async function naiveScore(bench: Workbench, qtable: QTable, cali: Parameters<typeof Simulator.prototype.buildQdq>[0] extends never ? never : ReadonlyMap<string, import('../../src/core/model/CaliTable').CaliEntry>, metric: SearchMetric): Promise<number> {
  const ctx = await bench.searchContext();
  const simulator = new Simulator({ ...ctx, cali, engine: bench.engine, floatOutputs: ctx.references });
  const outputs = await simulator.simulatedOutputs(qtable, 'outputs', silentJob);
  await simulator.dispose();
  const compared = ctx.model.graph.outputs.map((o) => ({ tensor: o.name, weight: 1 / ctx.model.graph.outputs.length }));
  const scores = outputs.map((out, i) => sampleScore(metric, compared, ctx.references[i], out));
  return scores.reduce((a, b) => a + b, 0) / scores.length;
}

describe('sensitivity ranking', () => {
  it('equals the naive loop, unit by unit and method by method, and ranks the units around the planted outlier activation first', async () => {
    const bench = await calibratedBench();
    const events: SearchEvent[] = [];
    const result = await bench.search({ kind: 'sensitive', metric: RESCALED, base: BASE, options: { ...SEARCH_DEFAULTS.sensitive, maxFloatLayers: 1, expected: 0.99999 } }, silentJob, (e) => events.push(e));
    const ctx = await bench.searchContext();
    const units = quantUnits(ctx.model.graph, ctx.layers);
    expect(result.ranking.map((r) => r.head).sort()).toEqual(units.map((u) => u.head).sort());
    for (const r of result.ranking) {
      for (const m of r.perMethod) {
        const tail = r.layers[r.layers.length - 1];
        const cali = new Map(ctx.cali);
        for (const t of ctx.layers.get(tail)!.floatOutputs) cali.set(t, ctx.methodTables.get(m.method)!.get(t)!);
        const naive = await naiveScore(bench, onlyUnitQuantized(units.find((u) => u.head === r.head)!), cali, RESCALED);
        expect(Math.abs(m.score - naive), `${r.head} ${m.method}`).toBeLessThan(1e-6);
      }
    }
    // Quantizing a unit quantizes its inputs and its output: the outlier activation is conv_b's output
    // and conv_c's input, so those two, and only they, stand out (8.1e-4, 7.6e-4 vs 4.3e-5 when written).
    const ranked = [...result.ranking].sort((a, b) => b.best.loss - a.best.loss);
    expect(ranked.slice(0, 2).map((r) => r.head).sort()).toEqual(['conv_b', 'conv_c']);
    for (const other of ranked.slice(2)) expect(other.best.loss * 10).toBeLessThan(ranked[1].best.loss);
    // every unit was streamed as it was measured, before the result
    expect(events.filter((e) => e.type === 'sensitivity').map((e) => (e as { result: UnitSensitivity }).result.head).sort()).toEqual(units.map((u) => u.head).sort());
    // the most sensitive unit goes float first
    expect(result.qtable.layers.map(([layer]) => layer)).toContain(ranked[0].head);
  });

  it('gives the same ranking on a pool of two worker threads as in one thread', async () => {
    const bench = await calibratedBench();
    const single = await bench.search({ kind: 'sensitive', metric: RESCALED, base: BASE, options: { ...SEARCH_DEFAULTS.sensitive, maxFloatLayers: 0 } }, silentJob, () => {});
    const pools: { close(): Promise<void> }[] = [];
    bench.setSearchPools(async (ctx) => {
      const pool = await nodeSearchPool(ctx, 2);
      pools.push(pool);
      return pool;
    });
    try {
      const pooled = await bench.search({ kind: 'sensitive', metric: RESCALED, base: BASE, options: { ...SEARCH_DEFAULTS.sensitive, maxFloatLayers: 0 } }, silentJob, () => {});
      expect(pooled.runners).toBe(2);
      const order = (r: typeof single) => [...r.ranking].sort((a, b) => b.best.loss - a.best.loss).map((u) => u.head);
      expect(order(pooled)).toEqual(order(single));
      const byHead = new Map(single.ranking.map((r) => [r.head, r.best.loss]));
      for (const r of pooled.ranking) expect(Math.abs(r.best.loss - byHead.get(r.head)!)).toBeLessThan(1e-6);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
  });

  it('a cancelled search stops, rejects with CancelledError and leaves the workbench usable', async () => {
    const bench = await calibratedBench();
    const before = (await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos;
    const token = new CancelToken();
    let streamed = 0;
    const job = jobContext(() => {}, token);
    await expect(bench.search({ kind: 'sensitive', metric: RESCALED, base: BASE, options: SEARCH_DEFAULTS.sensitive }, job, (e) => {
      if (e.type === 'sensitivity' && ++streamed === 1) token.cancel();
    })).rejects.toThrow(CancelledError);
    expect(streamed).toBeLessThan(quantUnits(bench.graph, bench.layers).length);
    expect((await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos).toBe(before);
  });
});

describe('bisection', () => {
  it('finds the cut a brute force over every depth finds, front INT16 (mode true)', async () => {
    const bench = await calibratedBench();
    const metric: SearchMetric = { kind: 'mae', compare: [] };
    const result = await bench.search({ kind: 'bisection', metric, base: BASE, options: { qerrorRatio: 0.3, mode: 'true' } }, silentJob, () => {});
    const ctx = await bench.searchContext();
    const depths = new Map([...nodeDepths(ctx.model.graph)].filter(([l]) => ctx.layers.get(l)?.quantizable));
    const configOf = (cut: number): QTable => ({ defaultPrecision: 'INT8', layers: new Map([...depths].filter(([, d]) => d <= cut).map(([l]) => [l, 'INT16' as Precision])) });
    const q16 = lossOf('mae', await naiveScore(bench, { defaultPrecision: 'INT16', layers: new Map() }, ctx.cali, metric));
    const q8 = lossOf('mae', await naiveScore(bench, ALL_INT8, ctx.cali, metric));
    const target = q16 + 0.3 * Math.abs(q8 - q16);
    expect(result.baselines.int16).toBeCloseTo(q16, 9);
    expect(result.baselines.int8).toBeCloseTo(q8, 9);
    // brute force: the smallest cut whose error is under the target
    const maxDepth = Math.max(...depths.values());
    let smallest = -1;
    for (let cut = 0; cut <= maxDepth && smallest < 0; cut++) if (lossOf('mae', await naiveScore(bench, configOf(cut), ctx.cali, metric)) < target) smallest = cut;
    expect(smallest).toBeGreaterThan(0);
    expect([...qtableFromData(result.qtable).layers].sort()).toEqual([...configOf(smallest).layers].sort());
    expect(result.met).toBe(true);
  });
});

describe('searches on a built model', () => {
  it('search_qtable, run_qtable and fp_forward give QTables that score what the naive loop scores', async () => {
    const bench = await calibratedBench();
    const ctx = await bench.searchContext();
    const strict = { ...RESCALED };
    const qtable = await bench.search({ kind: 'qtable', metric: strict, base: BASE, options: { ...SEARCH_DEFAULTS.qtable, expected: 0.99999 } }, silentJob, () => {});
    const run = await bench.search({ kind: 'run_qtable', metric: strict, base: BASE, options: { ...SEARCH_DEFAULTS.run_qtable, expected: 0.99999, minLayerCos: 0.9999 } }, silentJob, () => {});
    const fp = await bench.search({ kind: 'fp_forward', metric: strict, base: BASE, options: { ...SEARCH_DEFAULTS.fp_forward, outputs: ['conv_c'] } }, silentJob, () => {});
    expect([...fp.qtable.layers].map(([l]) => l).sort()).toEqual(['conv_c', 'conv_d', bench.graph.nodes.find((n) => n.opType === 'Add')!.name].sort());
    for (const result of [qtable, run, fp]) {
      expect(result.qtable.layers.length, result.kind).toBeGreaterThan(0);
      expect(result.score, result.kind).toBeCloseTo(await naiveScore(bench, qtableFromData(result.qtable), ctx.cali, strict), 6);
      expect(result.visited.length, result.kind).toBeGreaterThan(0);
      for (const v of result.visited) expect(v.weightBytes).toBeGreaterThan(0);
    }
    // the planted layer is the one search_qtable keeps float first
    expect(qtable.qtable.layers.map(([l]) => l)).toContain('conv_b');
  });
});
