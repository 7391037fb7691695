import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import type { Engine } from '../../src/core/engine/Engine';
import { silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8, type QTable } from '../../src/core/model/QTable';
import { Workbench } from '../../src/core/Workbench';
import { randomSamples } from '../support/GraphBuilder';
import { yoloHead } from '../support/yoloHead';

/** Issue #11, "see the outputs": one evaluation sample through the float and the quantized model, read as a detector. */
describe('the output viewer job', () => {
  it('a YOLO head: float boxes found, the quantized ones lost with the probabilities; the QTable\'s session is built once', async () => {
    const inner = ortNodeEngine(1);
    let sessions = 0;
    const engine: Engine = { name: inner.name, createSession: (bytes, options) => (sessions++, inner.createSession(bytes, options)) };
    const bench = await Workbench.open(engine, yoloHead(), 'yolo_head.onnx');
    const samples = randomSamples('x', [1, 16, 64], 4, 3).map((s) => ({ x: { ...s.x, data: s.x.data.map((v) => Math.abs(v) * 4) } }));
    bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}.npy`) });
    await bench.calibrate(silentJob);

    const first = await bench.sampleOutputs(ALL_INT8, 1);
    expect(first).toMatchObject({ index: 1, sampleCount: 4, sampleName: 's1.npy' });
    expect(first.inputs).toEqual([{ name: 'x', dims: [1, 16, 64], thumbnail: null, size: null }]);
    const [view] = first.outputs;
    expect(view.task).toBe('detector');
    if (view.task !== 'detector') return;
    expect(view.floatCount).toBeGreaterThan(0);
    expect(view.float.length).toBe(Math.min(view.floatCount, 100));
    expect(view.quantizedCount).toBe(0); // every probability rounds to 0 under the Concat's one quantizer
    expect(view.units).toBe('pixels');

    // another sample of the same QTable runs on the cached session
    const built = sessions;
    const second = await bench.sampleOutputs(ALL_INT8, 2);
    expect(second.index).toBe(2);
    expect(sessions).toBe(built);

    // the Concat kept float: the quantized model finds (about) what float finds
    const fixed: QTable = { defaultPrecision: 'INT8', layers: new Map([['detections', 'FP32']]) };
    const repaired = (await bench.sampleOutputs(fixed, 1)).outputs[0];
    if (repaired.task !== 'detector') throw new Error(repaired.task);
    expect(repaired.quantizedCount).toBeGreaterThan(0);
    expect(repaired.f1).toBeGreaterThan(0.5);

    await expect(bench.sampleOutputs(ALL_INT8, 4)).rejects.toThrow(/no evaluation sample 4: there are 4/);
    await bench.dispose();
  });
});
