import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { loadDataset } from '../../src/core/io/dataset/loadDataset';
import { silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8 } from '../../src/core/model/QTable';
import { bestThresholdMethod, Workbench } from '../../src/core/Workbench';
import { DEMO_PREPROCESS } from '../../src/demo/preprocess';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../support/models';

/** Issue #11: what an output is for, detected on real models, and the classifier's own figures. */
describe('task metrics on real models', () => {
  it('PP-OCR text-direction classifier: scored by top-1/top-5 agreement and, with labels, accuracy; search_threshold keeps the most answers', async () => {
    const engine = ortNodeEngine(1);
    const cls = await Workbench.open(engine, REAL_MODELS.ppocrCls(), 'cls.onnx');
    const files = readdirSync(DEMO_IMAGE_DIR).slice(0, 6).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
    cls.setDataset(await loadDataset(files, cls.graph.inputs, { ...DEMO_PREPROCESS, inputSize: [48, 192] }, nodeImageDecoder));
    cls.setCalibrationSettings({ collect: 'all' });
    await cls.calibrate(silentJob);
    const output = cls.graph.outputs[0].name;
    expect((await cls.taskSpecs())[output]).toEqual({ task: 'classifier' });
    const evaluation = await cls.evaluate(ALL_INT8, 'outputs', silentJob);
    const figures = evaluation.tasks![output];
    expect(figures.task).toBe('classifier');
    expect(figures.values.top1).toBeGreaterThanOrEqual(0);
    expect(figures.values.top1).toBeLessThanOrEqual(1);
    expect(figures.values.top5).toBe(1); // two classes: the float one is always in the top 5
    expect(figures.values.accuracy).toBeUndefined();

    // labels: every sample is of class 0 ("0 degrees"): the accuracy of both models, from the same run
    cls.setLabels(new Map(cls.sampleNames.map((n) => [n, 0])));
    const labelled = (await cls.evaluate(ALL_INT8, 'outputs', silentJob)).tasks![output].values;
    expect(labelled.floatAccuracy).toBeGreaterThanOrEqual(0);
    expect(labelled.accuracy).toBeLessThanOrEqual(1);
    cls.setLabels(null);

    // search_threshold's rows carry the task figures, and its recommendation keeps the most answers
    const rows = await cls.searchThreshold(silentJob);
    const best = rows.find((r) => r.method === bestThresholdMethod(rows))!;
    const top1 = (r: typeof best) => r.tasks![output].values.top1;
    for (const r of rows) expect(top1(best)).toBeGreaterThanOrEqual(top1(r));

    // the user may score it as 'other' (cosine only), and back; a task its shape cannot hold is refused by name
    await cls.setOutputTask(output, 'other');
    expect((await cls.evaluate(ALL_INT8, 'outputs', silentJob)).tasks).toBeUndefined();
    await expect(cls.setOutputTask(output, 'dense')).rejects.toThrow(new RegExp(`output ${output} .* cannot be scored as a dense`));
    expect((await cls.taskSpecs())[output]).toEqual({ task: 'other' }); // the refused choice changed nothing
    await cls.setOutputTask(output, null);
    expect((await cls.taskSpecs())[output]).toEqual({ task: 'classifier' });
    await cls.dispose();
  }, 120_000);

  it('PP-OCR text detector: a dense probability map, scored by the IoU of its thresholded text regions', async () => {
    const det = await Workbench.open(ortNodeEngine(1), REAL_MODELS.ppocrDet(), 'det.onnx');
    const files = readdirSync(DEMO_IMAGE_DIR).slice(0, 2).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
    det.setDataset(await loadDataset(files, det.graph.inputs, { ...DEMO_PREPROCESS, inputSize: [160, 160] }, nodeImageDecoder));
    await det.calibrate(silentJob);
    const output = det.graph.outputs[0].name;
    expect((await det.taskSpecs())[output]).toMatchObject({ task: 'dense', channelsLast: false });
    const evaluation = await det.evaluate(ALL_INT8, 'outputs', silentJob);
    expect(evaluation.tasks![output].values.iou).toBeGreaterThanOrEqual(0);
    expect(evaluation.tasks![output].values.iou).toBeLessThanOrEqual(1);
    await det.dispose();
  }, 120_000);
});
