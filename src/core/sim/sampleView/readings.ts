import type { ClassScore } from './SampleOutputs';

/**
 * What a person reads out of a classifier's or a CTC model's raw output: the best classes with
 * their scores, and the arg-max of each step (collapsed by metrics/taskMetrics collapseCtc).
 */

/** The `k` highest scores of `scores[from, from + count)`, best first (class = offset from `from`). */
export function topK(scores: ArrayLike<number>, from: number, count: number, k = 5): ClassScore[] {
  const best: ClassScore[] = [];
  for (let c = 0; c < count; c++) {
    const score = scores[from + c];
    if (Number.isNaN(score)) continue;
    if (best.length === k && !(score > best[k - 1].score)) continue;
    let at = best.length;
    while (at > 0 && !(best[at - 1].score >= score)) at--;
    best.splice(at, 0, { cls: c, score });
    if (best.length > k) best.pop();
  }
  return best;
}

/** The arg-max class of every step of a [steps, classes] sequence whose step t, class c is at `at(t, c)`. */
export function argMaxPerStep(steps: number, classes: number, at: (t: number, c: number) => number): Int32Array {
  const best = new Int32Array(steps);
  for (let t = 0; t < steps; t++) {
    let cls = 0;
    for (let c = 1; c < classes; c++) if (at(t, c) > at(t, cls)) cls = c;
    best[t] = cls;
  }
  return best;
}


/** Points a plot is sent at most: more than a panel's width in pixels, small to send. */
export const MAX_PLOT_POINTS = 2048;

/**
 * Float and quantized values downsampled for a plot: the output is cut into at most `maxPoints`
 * equal runs and each run is shown by its element with the largest |float - quantized|, so the
 * plot of the difference keeps every spike a uniform sample would step over.
 */
export function plotSeries(float: Float32Array, quantized: Float32Array, maxPoints = MAX_PLOT_POINTS) {
  const total = Math.min(float.length, quantized.length);
  const points = Math.min(total, maxPoints);
  const positions = new Float64Array(points);
  const f = new Float32Array(points);
  const q = new Float32Array(points);
  const difference = new Float32Array(points);
  let maxDifference = 0;
  for (let k = 0; k < points; k++) {
    const [start, end] = [Math.floor((k * total) / points), Math.floor(((k + 1) * total) / points)];
    let pick = start;
    let largest = -1;
    for (let i = start; i < end; i++) {
      const d = Math.abs(float[i] - quantized[i]);
      if (d > largest) [pick, largest] = [i, d];
    }
    positions[k] = pick;
    f[k] = float[pick];
    q[k] = quantized[pick];
    difference[k] = quantized[pick] - float[pick];
    if (largest > maxDifference) maxDifference = largest;
  }
  return { positions, float: f, quantized: q, difference, total, maxDifference };
}
