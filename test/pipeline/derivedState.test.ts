import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8, type QTable } from '../../src/core/model/QTable';
import { TARGET_SCHEMES } from '../../src/core/quant/schemes';
import { Workbench } from '../../src/core/Workbench';
import { GraphBuilder, randomSamples } from '../support/GraphBuilder';

/** x -> Conv -> Relu -> Conv -> y: enough for a cali table, a simulator and a search context. */
async function calibratedBench(): Promise<Workbench> {
  const g = new GraphBuilder({ seed: 4, opset: 13 });
  const x = g.input('x', [1, 3, 8, 8]);
  const [r] = g.node('Relu', [g.conv(x, 4, 3, { name: 'conv1' })], {}, 1, undefined, 'relu1');
  g.output(g.conv(r, 2, 3, { name: 'conv2' }));
  const bench = await Workbench.open(ortNodeEngine(1), g.toBytes(), 'derived.onnx');
  const samples = randomSamples('x', [1, 3, 8, 8], 3, 11);
  bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
  bench.setCalibrationSettings({ collect: 'all' });
  await bench.calibrate(silentJob);
  return bench;
}

const OTHER: QTable = { defaultPrecision: 'INT8', layers: new Map([['conv2', 'INT16']]) };

/**
 * Issue #10: the cali table, the simulator and the search context are derived from the session's
 * record; an edit recomputes exactly what depends on what it changed, once, and nothing else.
 */
describe('derived values of a workbench session', () => {
  it('a calibration builds the cali table and the simulator once; evaluating other QTables rebuilds nothing', async () => {
    const bench = await calibratedBench();
    await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    await bench.evaluate(OTHER, 'layers', silentJob);
    bench.caliTable();
    expect(bench.derivedBuilds()).toEqual({ caliTable: 1, simulator: 1, searchContext: 0 });
    await bench.dispose();
  });

  it('a scheme or weight change rebuilds the simulator, not the cali table; a tensor override or a method change rebuilds both', async () => {
    const bench = await calibratedBench();
    await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    bench.setScheme(TARGET_SCHEMES.one);
    await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    expect(bench.derivedBuilds()).toMatchObject({ caliTable: 1, simulator: 2 });
    bench.setWeightOptions({ scaleMethod: 'mse' });
    await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    expect(bench.derivedBuilds()).toMatchObject({ caliTable: 1, simulator: 3 });
    bench.setTensorOverride(bench.calibratedTensors()[1], { threshold: 0.5 });
    await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    expect(bench.derivedBuilds()).toMatchObject({ caliTable: 2, simulator: 4 });
    expect(bench.setCalibrationSettings({ method: 'kl' })).toEqual({ needsCalibration: false });
    await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    expect(bench.derivedBuilds()).toMatchObject({ caliTable: 3, simulator: 5 });
    await bench.dispose();
  });

  it('the search context stays the same object until something it holds changes', async () => {
    const bench = await calibratedBench();
    const first = await bench.searchContext();
    expect(await bench.searchContext()).toBe(first);
    await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    expect(await bench.searchContext()).toBe(first);
    bench.setTensorOverride(bench.calibratedTensors()[1], { method: 'max' });
    const second = await bench.searchContext();
    expect(second).not.toBe(first);
    expect(bench.derivedBuilds().searchContext).toBe(2);
    await bench.dispose();
  });

  it('a correction change that fails puts the previous session back: same figures, nothing rebuilt for them', async () => {
    const bench = await calibratedBench();
    const before = (await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos;
    const builds = bench.derivedBuilds();
    // cancelled in the middle of the change: after the "before" figure (counted on a dry run), inside the new calibration
    let evaluationChecks = 0;
    await bench.evaluate(ALL_INT8, 'outputs', { progress: () => {}, throwIfCancelled: () => void evaluationChecks++, cancelled: false });
    const limit = evaluationChecks + 2;
    let checks = 0;
    let cancelledAt = 0;
    const cancelled = {
      progress: () => {},
      throwIfCancelled: () => {
        if (++checks > limit) {
          cancelledAt = checks;
          throw Object.assign(new Error('cancelled'), { name: 'CancelledError' });
        }
      },
      get cancelled() { return checks > limit; },
    };
    await expect(bench.setCorrections({ ...bench.corrections, equalize: true }, ALL_INT8, cancelled)).rejects.toThrow();
    expect(cancelledAt).toBeGreaterThan(0);
    expect(bench.corrections.equalize).toBe(false);
    expect((await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos).toBe(before);
    expect(bench.derivedBuilds()).toEqual(builds);
    await bench.dispose();
  });
});
