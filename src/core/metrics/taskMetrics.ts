import type { Tensor } from '../model/tensor';
import { decodeImage, matchDetections } from './detections';
import { PRIMARY_FIGURE, type OutputTask, type TaskSpec } from './tasks';

export type { OutputTask } from './tasks';

/**
 * An output's figures in its task's terms (issue #11), averaged over samples when they come from an
 * evaluation. Every value but the counts and the drift is a fraction in [0, 1], higher is better:
 * - classifier: top1, top5 (agreement with float), and accuracy / floatAccuracy when labels are given;
 * - detector: f1, precision, recall (quantized detections matched to float ones), floatDetections and
 *   quantizedDetections (per image), scoreDrift (|float - quantized| best class score);
 * - dense: iou (of the thresholded map, or pixel agreement of the arg-max for several classes);
 * - sequence: chars (1 - edit distance / length of the greedy-decoded sequences), exact.
 */
export interface TaskFigures {
  readonly task: Exclude<OutputTask, 'other'>;
  readonly values: Readonly<Record<string, number>>;
}

/** The headline figure of a task's figures (top-1 agreement, detection F1, map IoU, decoded text agreement). */
export function primaryValue(figures: TaskFigures): number {
  return figures.values[PRIMARY_FIGURE[figures.task].key];
}

/**
 * The task output whose headline figure is the lowest (what the header shows, never a mean), or
 * null when no output has a task.
 */
export function worstTaskOutput(tasks: Readonly<Record<string, TaskFigures>> | undefined): { readonly output: string; readonly figures: TaskFigures } | null {
  let worst: { output: string; figures: TaskFigures } | null = null;
  for (const [output, figures] of Object.entries(tasks ?? {})) if (!worst || primaryValue(figures) < primaryValue(worst.figures)) worst = { output, figures };
  return worst;
}

/** A classifier's agreement with float on one sample: the fraction of rows whose float top-1 class is the quantized top-1, and is among the quantized top 5. */
export interface Agreement {
  readonly top1: number;
  readonly top5: number;
}

/** Agreement over the rows of an [N, C, ...] output (C classes per row). */
export function classifierAgreement(reference: ArrayLike<number>, actual: ArrayLike<number>, dims: readonly number[]): Agreement {
  const rows = dims[0] || 1;
  const classes = reference.length / rows;
  let top1 = 0;
  let top5 = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    const best = argMax(reference, base, classes);
    if (argMax(actual, base, classes) === best) top1++;
    // the float top-1 is within the quantized top 5 when fewer than 5 classes score above it
    let above = 0;
    for (let c = 0; c < classes && above < 5; c++) if (c !== best && actual[base + c] > actual[base + best]) above++;
    if (above < 5) top5++;
  }
  return { top1: top1 / rows, top5: top5 / rows };
}

function argMax(values: ArrayLike<number>, base: number, length: number): number {
  let best = 0;
  for (let c = 1; c < length; c++) if (values[base + c] > values[base + best]) best = c;
  return best;
}

/**
 * One sample's task figures of output `name`, or null for 'other' (or when the quantized output is
 * missing). `label`: the sample's true class, for a classifier's accuracy.
 */
export function sampleTaskFigures(
  spec: TaskSpec,
  name: string,
  reference: Readonly<Record<string, Tensor>>,
  actual: (name: string) => ArrayLike<number> | undefined,
  label?: number | null,
): TaskFigures | null {
  const f = reference[name];
  const q = actual(name);
  if (spec.task === 'other' || !f || f.dtype !== 'float32' || !q) return null;
  const data = f.data as ArrayLike<number>;
  switch (spec.task) {
    case 'classifier': {
      const { top1, top5 } = classifierAgreement(data, q, f.dims);
      const classes = data.length / (f.dims[0] || 1);
      const values: Record<string, number> = { top1, top5 };
      if (typeof label === 'number' && label >= 0 && label < classes) {
        values.accuracy = argMax(q, 0, classes) === label ? 1 : 0;
        values.floatAccuracy = argMax(data, 0, classes) === label ? 1 : 0;
      }
      return { task: 'classifier', values };
    }
    case 'detector': {
      const layout = spec.layout;
      const boxesF = layout.kind === 'ssd' ? (reference[layout.boxesOutput]?.data as ArrayLike<number> | undefined) ?? null : null;
      const boxesQ = layout.kind === 'ssd' ? actual(layout.boxesOutput) ?? null : null;
      const images = f.dims[0] || 1;
      const sums = { precision: 0, recall: 0, f1: 0, floatDetections: 0, quantizedDetections: 0, scoreDrift: 0 };
      for (let row = 0; row < images; row++) {
        const float = decodeImage(layout, data, f.dims, boxesF, row);
        const quantized = decodeImage(layout, q, f.dims, boxesQ, row);
        const m = matchDetections(float.detections, quantized.detections);
        sums.precision += m.precision;
        sums.recall += m.recall;
        sums.f1 += m.f1;
        sums.floatDetections += m.floatCount;
        sums.quantizedDetections += m.quantizedCount;
        sums.scoreDrift += Math.abs(float.bestScore - quantized.bestScore);
      }
      return { task: 'detector', values: Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / images])) };
    }
    case 'dense':
      return { task: 'dense', values: { iou: mapAgreement(spec, data, q, f.dims) } };
    case 'sequence':
      return { task: 'sequence', values: sequenceAgreement(spec, data, q, f.dims) };
  }
}

/**
 * A dense map's agreement: one channel -> IoU of the pixels above the threshold (1 when neither map
 * has any); several -> the fraction of pixels whose arg-max class is the same.
 */
export function mapAgreement(spec: Extract<TaskSpec, { task: 'dense' }>, f: ArrayLike<number>, q: ArrayLike<number>, dims: readonly number[]): number {
  const channels = spec.channelsLast ? dims[3] : dims[1];
  if (channels === 1) {
    let both = 0;
    let either = 0;
    for (let i = 0; i < f.length; i++) {
      const a = f[i] > spec.threshold;
      const b = q[i] > spec.threshold;
      if (a && b) both++;
      if (a || b) either++;
    }
    return either === 0 ? 1 : both / either;
  }
  const [n, h, w] = spec.channelsLast ? [dims[0], dims[1], dims[2]] : [dims[0], dims[2], dims[3]];
  const plane = h * w;
  let same = 0;
  for (let img = 0; img < n; img++) {
    for (let p = 0; p < plane; p++) {
      let bestF = 0;
      let bestQ = 0;
      for (let c = 1; c < channels; c++) {
        const at = spec.channelsLast ? ((img * plane + p) * channels + c) : ((img * channels + c) * plane + p);
        const at0F = spec.channelsLast ? ((img * plane + p) * channels + bestF) : ((img * channels + bestF) * plane + p);
        const at0Q = spec.channelsLast ? ((img * plane + p) * channels + bestQ) : ((img * channels + bestQ) * plane + p);
        if (f[at] > f[at0F]) bestF = c;
        if (q[at] > q[at0Q]) bestQ = c;
      }
      if (bestF === bestQ) same++;
    }
  }
  return n * plane ? same / (n * plane) : 1;
}

/** CTC greedy decoding of sequence `seq`: the arg-max per step, repeats collapsed, blanks dropped. */
export function greedyDecode(spec: Extract<TaskSpec, { task: 'sequence' }>, values: ArrayLike<number>, dims: readonly number[], seq = 0): number[] {
  const [steps, batch, classes] = spec.timeFirst ? [dims[0], dims[1], dims[2]] : [dims[1], dims[0], dims[2]];
  const best = Array.from({ length: steps }, (_, t) => argMax(values, spec.timeFirst ? (t * batch + seq) * classes : (seq * steps + t) * classes, classes));
  return collapseCtc(best, spec.blank);
}

/**
 * CTC's rule on the arg-max class of each step: repeats collapsed, then the blank dropped (a blank
 * between two equal classes keeps both).
 * @example collapseCtc([0, 3, 3, 0, 3, 5, 5], 0) // [3, 3, 5]
 */
export function collapseCtc(steps: ArrayLike<number>, blank: number): number[] {
  const decoded: number[] = [];
  let previous = -1;
  for (let t = 0; t < steps.length; t++) {
    if (steps[t] !== previous && steps[t] !== blank) decoded.push(steps[t]);
    previous = steps[t];
  }
  return decoded;
}

/** Levenshtein distance between two label sequences. */
export function editDistance(a: readonly number[], b: readonly number[]): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next.push(Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length];
}

function sequenceAgreement(spec: Extract<TaskSpec, { task: 'sequence' }>, f: ArrayLike<number>, q: ArrayLike<number>, dims: readonly number[]): { chars: number; exact: number } {
  const batch = spec.timeFirst ? dims[1] : dims[0];
  let chars = 0;
  let exact = 0;
  for (let s = 0; s < batch; s++) {
    const a = greedyDecode(spec, f, dims, s);
    const b = greedyDecode(spec, q, dims, s);
    const longest = Math.max(a.length, b.length);
    const distance = editDistance(a, b);
    chars += longest === 0 ? 1 : 1 - distance / longest;
    if (distance === 0) exact++;
  }
  return { chars: chars / batch, exact: exact / batch };
}

/** The mean of per-sample task figures of one output (each value averaged over the samples that have it). */
export function meanTaskFigures(list: readonly TaskFigures[]): TaskFigures | null {
  if (list.length === 0) return null;
  const sums = new Map<string, { sum: number; count: number }>();
  for (const figures of list) {
    for (const [key, value] of Object.entries(figures.values)) {
      const s = sums.get(key) ?? { sum: 0, count: 0 };
      s.sum += value;
      s.count++;
      sums.set(key, s);
    }
  }
  return { task: list[0].task, values: Object.fromEntries([...sums].map(([k, { sum, count }]) => [k, sum / count])) };
}

const percent = (v: number) => `${(100 * v).toFixed(1)} %`;

/** Task figures in words, for the CLI and tooltips: "top-1 agreement 97.0 %, top-5 100.0 %". */
export function taskFiguresText(t: TaskFigures): string {
  const v = t.values;
  switch (t.task) {
    case 'classifier':
      return `top-1 agreement ${percent(v.top1)}, top-5 ${percent(v.top5)}${v.accuracy !== undefined ? `, accuracy ${percent(v.accuracy)} (float ${percent(v.floatAccuracy)})` : ''}`;
    case 'detector':
      return `detection F1 ${percent(v.f1)} (precision ${percent(v.precision)}, recall ${percent(v.recall)}; ${v.floatDetections.toFixed(1)} float and ${v.quantizedDetections.toFixed(1)} quantized detections per image; best class score drift ${v.scoreDrift.toPrecision(3)})`;
    case 'dense':
      return `map IoU ${percent(v.iou)}`;
    case 'sequence':
      return `decoded agreement ${percent(v.chars)} (exact sequences ${percent(v.exact)})`;
  }
}
