import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { silentJob } from '../../src/core/jobs/Job';
import { partKey } from '../../src/core/metrics/outputParts';
import { collapseWarnings } from '../../src/core/metrics/collapseWarnings';
import { ALL_INT8, type QTable } from '../../src/core/model/QTable';
import { Workbench } from '../../src/core/Workbench';
import { randomSamples } from '../support/GraphBuilder';
import { yoloHead } from '../support/yoloHead';

describe('outputs scored part by part (issue #11)', () => {
  it('a Concat of boxes and probabilities: each part has its own figures and the headline is the worst part, named', async () => {
    const bench = await Workbench.open(ortNodeEngine(1), yoloHead(), 'yolo_head.onnx');
    const samples = randomSamples('x', [1, 16, 64], 4, 3).map((s) => ({ x: { ...s.x, data: s.x.data.map((v) => Math.abs(v) * 4) } }));
    bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
    await bench.calibrate(silentJob);
    const evaluation = await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    const output = bench.graph.outputs[0].name;
    const box = evaluation.perPart![partKey({ output, name: bench.graph.nodes.find((n) => n.name === 'box_head')!.outputs[0] })]!;
    const cls = evaluation.perPart![partKey({ output, name: bench.graph.nodes.find((n) => n.name === 'cls_sigmoid')!.outputs[0] })]!;
    // whole, the output looks fine; its probabilities are broken, and the headline says so
    expect(evaluation.perOutput[output].cos).toBeGreaterThan(0.99);
    expect(box.cos).toBeGreaterThan(0.99);
    expect(cls.cos).toBeLessThan(evaluation.perOutput[output].cos - 0.05);
    expect(evaluation.worst).toEqual({ output, part: bench.graph.nodes.find((n) => n.name === 'cls_sigmoid')!.outputs[0] });
    expect(evaluation.output).toEqual(cls);
    // a collapse warning names the Concat and the fix
    const { parts, ranges } = await bench.outputParts();
    const warnings = collapseWarnings({ evaluation, graph: bench.graph, parts, ranges });
    // the lost part, and the detector's own figure falling off a cliff (it detects nothing)
    expect(warnings.map((w) => [w.kind, w.layer])).toEqual([['collapsed-part', 'detections'], ['task-cliff', 'detections']]);
    expect(warnings[0].message).toMatch(/keep detections in float/);
    expect(warnings[1].message).toMatch(/detection F1 \d/);
    // the evaluation's own warnings also give the quantizer's step (1.95 here: probabilities of 0 to 1 round to 0)
    expect(evaluation.warnings!.map((w) => [w.kind, w.layer])).toEqual([['collapsed-part', 'detections'], ['task-cliff', 'detections']]);
    expect(evaluation.warnings![0].message).toMatch(/detections \(a step of \d/);
    // in the task's own terms: a detector, and it detects nothing the float model detects
    expect((await bench.taskSpecs())[output]).toEqual({ task: 'detector', layout: { kind: 'yolo', channelsFirst: true, classes: 8 } });
    const lost = evaluation.tasks![output].values;
    expect(lost.floatDetections).toBeGreaterThan(1);
    expect(lost.f1).toBeLessThan(0.1);
    // the exported model is measured the same way: measured = predicted, worst part for worst part
    const { verification } = await bench.exportVerifiedQdq(ALL_INT8, silentJob);
    expect(verification.measured.cos).toBeCloseTo(verification.predicted.cos, 6);
    expect(verification.tasks!.measured[output].values.f1).toBeCloseTo(lost.f1, 6);
    // keeping the Concat float gives the probabilities their own quantizer: that part recovers
    const fixed: QTable = { defaultPrecision: 'INT8', layers: new Map([['detections', 'FP32']]) };
    const repaired = await bench.evaluate(fixed, 'outputs', silentJob);
    expect(repaired.output.cos).toBeGreaterThan(0.99);
    expect(repaired.tasks![output].values.f1).toBeGreaterThan(0.9);
    expect(collapseWarnings({ evaluation: repaired, graph: bench.graph, parts, ranges })).toEqual([]);
    expect(repaired.warnings).toBeUndefined();
    await bench.dispose();
  });
});
