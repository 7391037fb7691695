import { describe, expect, it } from 'vitest';
import { decodeDetections, matchDetections } from './detections';
import { detectTaskSpecs, specForTask } from './detectTasks';
import { classifierAgreement, editDistance, greedyDecode, mapAgreement, sampleTaskFigures } from './taskMetrics';
import type { Tensor } from '../model/tensor';

const t = (dims: number[], data: ArrayLike<number>): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(data) });

describe('classifier agreement', () => {
  it('counts the rows whose float top-1 class is the quantized top-1, and is in the quantized top 5', () => {
    // 2 rows of 7 classes; row 0: same argmax (class 2); row 1: float picks 6, quantized picks 0 with 6 third
    const f = [0, 1, 9, 2, 3, 4, 5, /* row 1 */ 1, 2, 3, 4, 5, 6, 9];
    const q = [0, 1, 8, 2, 3, 4, 5, /* row 1 */ 9, 8, 3, 4, 5, 6, 7];
    expect(classifierAgreement(f, q, [2, 7])).toEqual({ top1: 0.5, top5: 1 });
    // row 1 with its float top class pushed to 6th place: out of the top 5 too
    const q2 = [0, 1, 8, 2, 3, 4, 5, /* row 1 */ 9, 8, 8, 8, 8, 8, 7];
    expect(classifierAgreement(f, q2, [2, 7])).toEqual({ top1: 0.5, top5: 0.5 });
  });

  it('with a label, the accuracy of both models', () => {
    const figures = sampleTaskFigures({ task: 'classifier' }, 'y', { y: t([1, 3], [0, 5, 1]) }, () => Float32Array.from([0, 1, 5]), 1);
    expect(figures!.values).toEqual({ top1: 0, top5: 1, accuracy: 0, floatAccuracy: 1 });
  });
});

/** A YOLO output [1, 4 + C, A] (channels first) from per-anchor rows [cx, cy, w, h, p0..pC-1]. */
function yolo(rows: number[][]): Tensor {
  const k = rows[0].length;
  const data = new Float32Array(k * rows.length);
  rows.forEach((row, a) => row.forEach((v, c) => (data[c * rows.length + a] = v)));
  return t([1, k, rows.length], data);
}

describe('detections (issue #11)', () => {
  const anchors = Array.from({ length: 24 }, (_, a) => [20 * a, 50, 10, 10, 0.01, 0.02]);
  anchors[3] = [60, 50, 10, 10, 0.9, 0.05]; // class 0
  anchors[7] = [140, 50, 10, 10, 0.1, 0.8]; // class 1
  const float = yolo(anchors);

  it('a YOLO head is told by its shape and its probabilities, a CTC output by its distributions, a map by its range', () => {
    expect(detectTaskSpecs(['y'], { y: float }).y).toEqual({ task: 'detector', layout: { kind: 'yolo', channelsFirst: true, classes: 2 } });
    const softmaxRows = Array.from({ length: 4 * 5 }, (_, i) => (i % 5 === Math.floor(i / 5) ? 0.8 : 0.05));
    expect(detectTaskSpecs(['s'], { s: t([1, 4, 5], softmaxRows) }).s).toEqual({ task: 'sequence', timeFirst: false, blank: 0 });
    expect(detectTaskSpecs(['m'], { m: t([1, 1, 8, 8], Array.from({ length: 64 }, (_, i) => i / 64)) }).m).toMatchObject({ task: 'dense', channelsLast: false });
    expect(detectTaskSpecs(['r'], { r: t([1, 1, 8, 8], Array.from({ length: 64 }, (_, i) => i - 30)) }).r).toEqual({ task: 'other' });
    expect(detectTaskSpecs(['c'], { c: t([2, 10], new Array(20).fill(0.1)) }).c).toEqual({ task: 'classifier' });
    // SSD: scores [1, A, 1] beside boxes [1, A, 16]
    const ssd = detectTaskSpecs(['scores', 'regressors'], { scores: t([1, 16, 1], new Array(16).fill(-3)), regressors: t([1, 16, 16], new Array(256).fill(1)) });
    expect(ssd.scores).toEqual({ task: 'detector', layout: { kind: 'ssd', boxesOutput: 'regressors', classes: 1, logits: true } });
    expect(ssd.regressors).toEqual({ task: 'other' });
  });

  it('decodes the anchors above 0.25, and matches quantized to float detections by class and IoU', () => {
    const layout = { kind: 'yolo', channelsFirst: true, classes: 2 } as const;
    const found = decodeDetections(layout, float.data as Float32Array, float.dims, null);
    expect(found.map((d) => [d.anchor, d.cls])).toEqual([[3, 0], [7, 1]]);
    expect(found[0].box).toEqual([55, 45, 65, 55]);
    // every probability rounded to 0 (one quantizer on the Concat): nothing found, F1 0
    const zeroed = yolo(anchors.map((r) => [...r.slice(0, 4), 0, 0]));
    const lost = sampleTaskFigures({ task: 'detector', layout }, 'y', { y: float }, () => zeroed.data as Float32Array)!;
    expect(lost.values).toMatchObject({ f1: 0, recall: 0, floatDetections: 2, quantizedDetections: 0 });
    expect(lost.values.scoreDrift).toBeCloseTo(0.9, 6);
    // the box moved by a pixel, the class kept: matched
    const moved = yolo(anchors.map((r, a) => (a === 3 ? [61, 50, 10, 10, 0.85, 0.05] : r)));
    expect(sampleTaskFigures({ task: 'detector', layout }, 'y', { y: float }, () => moved.data as Float32Array)!.values.f1).toBe(1);
    // the same box under another class: not a match
    expect(matchDetections([found[0]], [{ ...found[0], cls: 1 }]).f1).toBe(0);
  });

  it('an output the user calls a detector is read from its shape; one that cannot be is refused by name', () => {
    expect(specForTask('detector', 'y', ['y'], { y: float })).toEqual({ task: 'detector', layout: { kind: 'yolo', channelsFirst: true, classes: 2 } });
    expect(() => specForTask('dense', 'y', ['y'], { y: float })).toThrow(/output y \[1, 6, 24\] cannot be scored as a dense/);
  });
});

describe('maps and sequences (issue #11)', () => {
  it('a map: IoU of the pixels above the threshold; several classes: the same arg-max per pixel', () => {
    const spec = { task: 'dense', channelsLast: false, threshold: 0.5 } as const;
    expect(mapAgreement(spec, [0.9, 0.9, 0.1, 0.1], [0.9, 0.1, 0.1, 0.9], [1, 1, 2, 2])).toBeCloseTo(1 / 3, 9);
    expect(mapAgreement(spec, [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 2, 2])).toBe(1);
    // 2 classes x 2 pixels, NCHW: pixel 0 class 0 in both, pixel 1 class 1 in float and class 0 quantized
    expect(mapAgreement({ ...spec, threshold: 0 }, [5, 1, 0, 3], [5, 3, 0, 1], [1, 2, 1, 2])).toBe(0.5);
  });

  it('CTC greedy decoding collapses repeats and drops blanks; agreement is 1 - edit distance / length', () => {
    const spec = { task: 'sequence', timeFirst: false, blank: 0 } as const;
    const steps = [1, 1, 0, 1, 2, 0, 0, 3]; // decodes to 1 1 2 3
    const probs = steps.flatMap((c) => [0, 1, 2, 3].map((k) => (k === c ? 0.9 : 0.1 / 3)));
    expect(greedyDecode(spec, probs, [1, 8, 4])).toEqual([1, 1, 2, 3]);
    expect(editDistance([1, 1, 2, 3], [1, 2, 3])).toBe(1);
    const other = [1, 0, 0, 2, 2, 0, 0, 3].flatMap((c) => [0, 1, 2, 3].map((k) => (k === c ? 0.9 : 0.1 / 3)));
    expect(sampleTaskFigures(spec, 's', { s: t([1, 8, 4], probs) }, () => Float32Array.from(other))!.values).toEqual({ chars: 0.75, exact: 0 });
  });
});
