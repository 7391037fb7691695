import { QbenchError } from '../errors';
import type { Tensor } from '../model/tensor';
import type { OutputTask, TaskSpec } from './tasks';

/**
 * Each output's task, told from its shape and its float values on one sample (issue #11). The
 * rules are conservative: an output that fits none of them, or fits one only by shape, is 'other'
 * and keeps cosine and SQNR; the user can change any of them in the page or with --task.
 *
 * - classifier: [N, C] or [N, C, 1, 1] with C >= 2;
 * - detector, YOLO: one [N, 4 + C, A] or [N, A, 4 + C] with A >= 4 (4 + C) and class scores in [0, 1];
 * - detector, SSD: two [N, A, *] outputs with the same A >= 16, one holding boxes (its last
 *   dimension >= 4) and one class scores;
 * - dense map: [N, C, H, W] or [N, H, W, C] with H, W >= 8;
 * - sequence (CTC): [N, T, C] (or [T, 1, C]) with C >= 3 whose rows are probabilities
 *   (softmax: in [0, 1], summing to 1) or log-probabilities.
 */
export function detectTaskSpecs(outputs: readonly string[], sample: Readonly<Record<string, Tensor>>): Record<string, TaskSpec> {
  const specs: Record<string, TaskSpec> = {};
  const float = (name: string) => {
    const t = sample[name];
    return t && t.dtype === 'float32' ? { dims: t.dims, data: t.data as ArrayLike<number> } : null;
  };
  for (const [scores, boxes] of ssdPairs(outputs, float)) {
    const t = float(scores)!;
    const logits = !inRange(t.data, 0, t.data.length, 1);
    specs[scores] = { task: 'detector', layout: { kind: 'ssd', boxesOutput: boxes, classes: t.dims[2], logits } };
    specs[boxes] = { task: 'other' };
  }
  for (const name of outputs) {
    if (specs[name]) continue;
    const t = float(name);
    specs[name] = t ? specOf(t.dims, t.data) : { task: 'other' };
  }
  return specs;
}

function specOf(dims: readonly number[], data: ArrayLike<number>): TaskSpec {
  if ((dims.length === 2 || (dims.length === 4 && dims[2] === 1 && dims[3] === 1)) && dims[1] >= 2) return { task: 'classifier' };
  if (dims.length === 3) {
    // A CTC output's rows are distributions; a YOLO head's are not (its boxes are in pixels): test that first.
    const sequence = sequenceLayout(dims, data);
    if (sequence) return sequence;
    const yolo = yoloLayout(dims, data);
    if (yolo) return yolo;
  }
  if (dims.length === 4) {
    const channelsLast = dims[3] < dims[1];
    const [h, w] = channelsLast ? [dims[1], dims[2]] : [dims[2], dims[3]];
    // Probability maps only: a regression map (offsets, depths) has no thresholded meaning; the user can still choose 'dense' for logits.
    if (h >= 8 && w >= 8 && inRange(data, 0, data.length, 1)) return { task: 'dense', channelsLast, threshold: mapThreshold(data) };
  }
  return { task: 'other' };
}

/**
 * Where a probability map counts as "on": 0.5, or half its float maximum when the map never gets
 * there (M-LSD's line-centre scores peak at 0.13: a fixed 0.5 would find nothing in float and in
 * quantized alike, and call a collapse perfect agreement). Logit maps: 0.
 */
function mapThreshold(data: ArrayLike<number>): number {
  if (!inRange(data, 0, data.length, 1)) return 0;
  let max = 0;
  for (let i = 0; i < data.length; i++) if (data[i] > max) max = data[i];
  return Math.min(0.5, max / 2);
}

/** Whether data[from, to) lies within [0, hi] (a little slack for float noise). */
function inRange(data: ArrayLike<number>, from: number, to: number, hi: number): boolean {
  for (let i = from; i < to; i++) if (!(data[i] >= -1e-3 && data[i] <= hi + 1e-3)) return false;
  return true;
}

function yoloLayout(dims: readonly number[], data: ArrayLike<number>): TaskSpec | null {
  const channelsFirst = dims[1] < dims[2];
  const [k, anchors] = channelsFirst ? [dims[1], dims[2]] : [dims[2], dims[1]];
  if (k < 5 || anchors < 4 * k) return null;
  // the class scores of the first image must be probabilities
  for (let a = 0; a < anchors; a++) {
    for (let c = 4; c < k; c++) {
      const v = channelsFirst ? data[c * anchors + a] : data[a * k + c];
      if (!(v >= -1e-3 && v <= 1 + 1e-3)) return null;
    }
  }
  return { task: 'detector', layout: { kind: 'yolo', channelsFirst, classes: k - 4 } as const };
}

function sequenceLayout(dims: readonly number[], data: ArrayLike<number>): TaskSpec | null {
  const classes = dims[2];
  if (classes < 3) return null;
  const timeFirst = dims[1] === 1 && dims[0] > 1;
  const steps = timeFirst ? dims[0] : dims[1];
  if (steps < 2) return null;
  // every row (time step) of the first sequence a distribution: probabilities or log-probabilities
  for (let t = 0; t < steps; t++) {
    const base = t * classes;
    let sum = 0;
    let expSum = 0;
    let probabilities = true;
    for (let c = 0; c < classes; c++) {
      const v = data[base + c];
      if (!(v >= -1e-3 && v <= 1 + 1e-3)) probabilities = false;
      sum += v;
      expSum += Math.exp(v);
    }
    const isDistribution = (probabilities && Math.abs(sum - 1) < 1e-2) || Math.abs(expSum - 1) < 1e-2;
    if (!isDistribution) return null;
  }
  return { task: 'sequence', timeFirst, blank: 0 };
}

/** [scores, boxes] pairs of SSD-style outputs: rank 3, the same images and anchors. */
function ssdPairs(outputs: readonly string[], float: (name: string) => { dims: readonly number[]; data: ArrayLike<number> } | null): [string, string][] {
  const candidates = outputs.filter((n) => {
    const t = float(n);
    return t !== null && t.dims.length === 3 && t.dims[1] >= 16;
  });
  const pairs: [string, string][] = [];
  const used = new Set<string>();
  for (const a of candidates) {
    for (const b of candidates) {
      if (a === b || used.has(a) || used.has(b)) continue;
      const [ta, tb] = [float(a)!, float(b)!];
      if (ta.dims[0] !== tb.dims[0] || ta.dims[1] !== tb.dims[1]) continue;
      const boxes = boxesOf(a, ta.dims[2], b, tb.dims[2]);
      if (!boxes) continue;
      pairs.push(boxes === a ? [b, a] : [a, b]);
      used.add(a).add(b);
    }
  }
  return pairs;
}

/**
 * Which of two [N, A, *] outputs holds the boxes: the one named so; else the one exactly 4 wide
 * (SSD: boxes [N, A, 4], scores [N, A, 91]); else, next to a one-class score [N, A, 1], the one at
 * least 4 wide (BlazeFace: 16 = a box and 6 key points); else none.
 */
function boxesOf(a: string, widthA: number, b: string, widthB: number): string | null {
  const named = /box|loc|regress|bbox/i;
  if (named.test(a) && !named.test(b) && widthA >= 4) return a;
  if (named.test(b) && !named.test(a) && widthB >= 4) return b;
  if (widthA === 4 && widthB !== 4) return a;
  if (widthB === 4 && widthA !== 4) return b;
  if (widthB === 1 && widthA >= 4) return a;
  if (widthA === 1 && widthB >= 4) return b;
  return null;
}

/**
 * The spec of a task the user chose for an output, read from its shape alone (the values may not
 * look like the task's, which is why the user chose it). A task the shape cannot hold is refused.
 */
export function specForTask(task: OutputTask, output: string, outputs: readonly string[], sample: Readonly<Record<string, Tensor>>): TaskSpec {
  const t = sample[output];
  const dims = t?.dims ?? [];
  const refuse = (why: string): never => {
    throw new QbenchError(`output ${output} [${dims.join(', ')}] cannot be scored as a ${task}: ${why}`);
  };
  switch (task) {
    case 'other':
      return { task: 'other' };
    case 'classifier':
      if (dims.length < 2 || dims.slice(2).some((d) => d !== 1) || !(dims[1] >= 2)) refuse('a classifier output is [N, C] (or [N, C, 1, 1]) with C >= 2');
      return { task: 'classifier' };
    case 'detector': {
      if (dims.length !== 3) refuse('a detector output is [N, 4 + C, A], [N, A, 4 + C], or SSD scores [N, A, C] next to boxes [N, A, 4]');
      const pair = ssdPairs(outputs, (n) => (sample[n]?.dtype === 'float32' ? { dims: sample[n].dims, data: sample[n].data as ArrayLike<number> } : null)).find(([scores]) => scores === output);
      if (pair) return { task: 'detector', layout: { kind: 'ssd', boxesOutput: pair[1], classes: dims[2], logits: !inRange(t.data as ArrayLike<number>, 0, t.data.length, 1) } };
      const channelsFirst = dims[1] < dims[2];
      const k = channelsFirst ? dims[1] : dims[2];
      if (k < 5) refuse('the box-and-class axis needs 4 box values and at least one class');
      return { task: 'detector', layout: { kind: 'yolo', channelsFirst, classes: k - 4 } };
    }
    case 'dense': {
      if (dims.length !== 4) refuse('a dense map is [N, C, H, W] or [N, H, W, C]');
      return { task: 'dense', channelsLast: dims[3] < dims[1], threshold: mapThreshold(t.data as ArrayLike<number>) };
    }
    case 'sequence':
      if (dims.length !== 3 || !(dims[2] >= 2)) refuse('a CTC output is [N, T, C] (or [T, 1, C]) with C >= 2 classes, blank first');
      return { task: 'sequence', timeFirst: dims[1] === 1 && dims[0] > 1, blank: 0 };
  }
}
