import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8, qtableToData } from '../../src/core/model/QTable';
import { withBestMethods } from '../../src/core/search/bestMethods';
import type { SearchRequest } from '../../src/core/search/SearchRequest';
import { onlyUnitQuantized } from '../../src/core/search/scoring/sensitivity';
import { Workbench } from '../../src/core/Workbench';
import { GraphBuilder, randomSamples } from '../support/GraphBuilder';

/** x -> Conv -> Relu -> Conv -> Relu -> Conv -> y, calibrated with every method's statistics (model-wide method: max). */
async function calibratedBench(): Promise<Workbench> {
  const g = new GraphBuilder({ seed: 23, opset: 13 });
  const x = g.input('x', [1, 3, 10, 10]);
  const [r1] = g.node('Relu', [g.conv(x, 6, 3, { name: 'conv1' })], {}, 1, undefined, 'relu1');
  const [r2] = g.node('Relu', [g.conv(r1, 6, 3, { name: 'conv2' })], {}, 1, undefined, 'relu2');
  g.output(g.conv(r2, 3, 1, { name: 'conv3' }));
  const bench = await Workbench.open(ortNodeEngine(1), g.toBytes(), 'best.onnx');
  const samples = randomSamples('x', [1, 3, 10, 10], 4, 5);
  bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
  bench.setCalibrationSettings({ collect: 'all' });
  await bench.calibrate(silentJob);
  return bench;
}

/** A one-method ranking (MSE, which clips these activations where KL keeps their maximum), scored by plain cosine so its figures compare with evaluations. */
const ONE_METHOD: SearchRequest = {
  kind: 'sensitive', options: { methods: ['mse'], maxFloatLayers: 1, expected: 0, fpType: 'FP32' }, metric: { kind: 'cos', compare: [] }, base: qtableToData(ALL_INT8),
};

/** Issue #11: "use each layer's best method" applies exactly what the ranking measured, and Undo puts everything back. */
describe("each layer's best method on a real workbench", () => {
  it('sets the measured method on the ranked outputs and nothing else; a unit alone gives the very figure the ranking measured for it', async () => {
    const bench = await calibratedBench();
    const result = await bench.search(ONE_METHOD, silentJob, () => {});
    expect(result.ranking.length).toBeGreaterThan(0);
    // (after the search: it calibrated the tensors its QTables may quantize that calibration had skipped)
    const before = bench.caliTable().entries;
    const next = withBestMethods([], result.ranking, bench.layers);
    bench.replaceTensorOverrides(next);
    const after = bench.caliTable().entries;
    const ranked = new Set(next.map(([tensor]) => tensor));
    const mse = (await bench.searchContext()).methodTables.get('mse')!;
    for (const [tensor, entry] of after) expect(entry).toEqual(ranked.has(tensor) ? mse.get(tensor) : before.get(tensor));
    expect(ranked.has('x')).toBe(false); // the graph input is no unit's output: the ranking never measured it

    // The first unit reads the graph input, whose range did not move: alone, it is exactly what was measured.
    const first = result.ranking.find((u) => u.head === 'conv1')!;
    const alone = await bench.evaluate(onlyUnitQuantized({ head: first.head, layers: first.layers, position: first.position } as never), 'outputs', silentJob);
    expect(alone.output.cos).toBeCloseTo(first.perMethod[0].score, 6);
    await bench.dispose();
  });

  it('putting the previous overrides back (Undo) restores the cali table and the output figure exactly', async () => {
    const bench = await calibratedBench();
    bench.setTensorOverride('x', { threshold: 2 });
    const previous = [['x', { threshold: 2 }]] as const;
    const result = await bench.search(ONE_METHOD, silentJob, () => {});
    const beforeTable = bench.caliTable().entries;
    const beforeCos = (await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos;
    bench.replaceTensorOverrides(withBestMethods(previous, result.ranking, bench.layers));
    expect((await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos).not.toBe(beforeCos);
    bench.replaceTensorOverrides(previous);
    expect(bench.caliTable().entries).toEqual(beforeTable);
    expect((await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos).toBe(beforeCos);
    // and the reset clears every override: each tensor back at the model-wide method
    bench.replaceTensorOverrides([]);
    expect(bench.summary().overrides).toEqual([]);
    expect([...bench.caliTable().entries.values()].every((e) => e.source === 'max')).toBe(true);
    await bench.dispose();
  });
});
