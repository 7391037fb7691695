import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { loadDataset } from '../../src/core/io/dataset/loadDataset';
import { silentJob } from '../../src/core/jobs/Job';
import { outputTasks } from '../../src/core/metrics/taskMetrics';
import { ALL_INT8 } from '../../src/core/model/QTable';
import { bestThresholdMethod, Workbench } from '../../src/core/Workbench';
import { DEMO_PREPROCESS } from '../../src/demo/preprocess';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../support/models';

/** Issue #11: what an output is for, detected on real models, and the classifier's own figures. */
describe('task metrics on real models', () => {
  it('PP-OCR text-direction classifier: a classifier, scored by top-1/top-5 agreement; the text detector is not', async () => {
    const engine = ortNodeEngine(1);
    const cls = await Workbench.open(engine, REAL_MODELS.ppocrCls(), 'cls.onnx');
    expect(Object.values(outputTasks(cls.graph, cls.types))).toEqual(['classifier']);
    const det = await Workbench.open(engine, REAL_MODELS.ppocrDet(), 'det.onnx');
    expect(Object.values(outputTasks(det.graph, det.types))).toEqual(['other']);
    await det.dispose();

    const files = readdirSync(DEMO_IMAGE_DIR).slice(0, 6).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
    cls.setDataset(await loadDataset(files, cls.graph.inputs, { ...DEMO_PREPROCESS, inputSize: [48, 192] }, nodeImageDecoder));
    cls.setCalibrationSettings({ collect: 'all' });
    await cls.calibrate(silentJob);
    const evaluation = await cls.evaluate(ALL_INT8, 'outputs', silentJob);
    const [agreement] = Object.values(evaluation.agreement!);
    expect(agreement.top1).toBeGreaterThanOrEqual(0);
    expect(agreement.top1).toBeLessThanOrEqual(1);
    expect(agreement.top5).toBe(1); // two classes: the float one is always in the top 5
    // search_threshold's rows carry the agreement, and its recommendation keeps the most answers
    const rows = await cls.searchThreshold(silentJob);
    const best = rows.find((r) => r.method === bestThresholdMethod(rows))!;
    const top1 = (r: typeof best) => Object.values(r.agreement!)[0].top1;
    for (const r of rows) expect(top1(best)).toBeGreaterThanOrEqual(top1(r));
    await cls.dispose();
  }, 120_000);
});
