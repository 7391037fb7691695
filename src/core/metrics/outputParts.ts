import type { ValueInfo } from '../engine/Engine';
import type { ModelGraph } from '../model/ModelGraph';
import type { Tensor } from '../model/tensor';
import { errorSums, metricsFromSums, type ErrorMetrics, type ErrorSums } from './similarity';
import { sampleTaskFigures, type TaskFigures } from './taskMetrics';
import type { TaskSpec } from './tasks';

/**
 * A part of a model output scored on its own (issue #11). An output built by a Concat holds values
 * of different kinds side by side (YOLO: 4 box coordinates in pixels and 80 class probabilities);
 * scored as one tensor, the large part hides the small one, so a quantizer that rounds every
 * probability to 0 still gives cos 0.9996. Each Concat input becomes a part: a slice along the
 * Concat's axis.
 */
export interface OutputPart {
  readonly output: string;
  /** The Concat input it comes from (the tensor name). */
  readonly name: string;
  readonly axis: number;
  /** [start, end) along the axis. */
  readonly start: number;
  readonly end: number;
}

/** The key of an output's figures (the output name) or of one part's (`output[part]`). */
export function partKey(part: Pick<OutputPart, 'output' | 'name'>): string {
  return `${part.output}[${part.name}]`;
}

/**
 * The parts of each graph output: the inputs of the Concat that produces it, when their extents
 * along the axis are known; none otherwise (the output is scored whole only).
 */
export function outputParts(graph: ModelGraph, types: ReadonlyMap<string, ValueInfo>): OutputPart[] {
  const producer = new Map(graph.nodes.filter((n) => !n.scope).flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const parts: OutputPart[] = [];
  for (const { name: output } of graph.outputs) {
    const concat = producer.get(output);
    if (!concat || concat.opType !== 'Concat' || concat.inputs.length < 2) continue;
    const rank = types.get(output)?.dims?.length;
    if (rank === undefined) continue;
    const axisAttr = Number(concat.attributes.axis ?? 0);
    const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
    const extents = concat.inputs.map((t) => types.get(t)?.dims?.[axis]);
    if (extents.some((e) => typeof e !== 'number' || !(e > 0))) continue;
    let start = 0;
    concat.inputs.forEach((input, k) => {
      const end = start + (extents[k] as number);
      parts.push({ output, name: input, axis, start, end });
      start = end;
    });
  }
  return parts;
}

/** Error sums of one part of an output: the elements whose index along the part's axis is in [start, end). */
export function partSums(reference: ArrayLike<number>, actual: ArrayLike<number>, dims: readonly number[], part: OutputPart): ErrorSums {
  const outer = dims.slice(0, part.axis).reduce((a, b) => a * b, 1);
  const inner = dims.slice(part.axis + 1).reduce((a, b) => a * b, 1);
  const length = dims[part.axis];
  let ff = 0;
  let qq = 0;
  let dd = 0;
  for (let o = 0; o < outer; o++) {
    const from = (o * length + part.start) * inner;
    const to = (o * length + part.end) * inner;
    for (let i = from; i < to; i++) {
      const f = reference[i];
      const q = actual[i];
      ff += f * f;
      qq += q * q;
      dd += (f - q) * (f - q);
    }
  }
  return { ff, qq, dd, count: outer * (part.end - part.start) * inner };
}

/** One sample's figures: each output whole (keyed by name) and each part (keyed by partKey); each task output's task figures. */
export interface OutputSample {
  readonly figures: Record<string, ErrorMetrics>;
  readonly tasks: Record<string, TaskFigures>;
}

/**
 * How outputs are scored (issue #11): the parts of outputs built by a Concat, each output's task,
 * and each evaluation sample's true class when the user gave labels. Plain data: it crosses to the
 * search pool's workers with the search context.
 */
export interface OutputScoring {
  readonly parts: readonly OutputPart[];
  readonly specs: Readonly<Record<string, TaskSpec>>;
  /** The true class of each evaluation sample (null where unknown), for a classifier's accuracy. */
  readonly labels?: readonly (number | null)[];
}

export const NO_SCORING: OutputScoring = { parts: [], specs: {} };

/** Sample `index` compared: outputs missing from `actual` are left out; task outputs also get their task figures. */
export function compareOutputs(
  reference: Readonly<Record<string, Tensor>>,
  actual: (name: string) => ArrayLike<number> | undefined,
  outputs: readonly string[],
  scoring: OutputScoring = NO_SCORING,
  index = -1,
): OutputSample {
  const figures: Record<string, ErrorMetrics> = {};
  const tasks: Record<string, TaskFigures> = {};
  for (const name of outputs) {
    const f = reference[name];
    if (!f || f.dtype !== 'float32') continue;
    const q = actual(name);
    if (!q) continue;
    figures[name] = metricsFromSums(errorSums(f.data as ArrayLike<number>, q));
    for (const part of scoring.parts) if (part.output === name) figures[partKey(part)] = metricsFromSums(partSums(f.data as ArrayLike<number>, q, f.dims, part));
    const spec = scoring.specs[name];
    const task = spec ? sampleTaskFigures(spec, name, reference, actual, scoring.labels?.[index]) : null;
    if (task) tasks[name] = task;
  }
  return { figures, tasks };
}

/** The float value range [lo, hi] of each output (by name) and each part (by partKey) over samples. */
export function valueRanges(
  references: readonly Readonly<Record<string, { readonly dtype: string; readonly dims: readonly number[]; readonly data: ArrayLike<number> | ArrayLike<bigint> }>>[],
  outputs: readonly string[],
  parts: readonly OutputPart[],
): Record<string, [number, number]> {
  const ranges: Record<string, [number, number]> = {};
  const widen = (key: string, v: number) => {
    const r = (ranges[key] ??= [Infinity, -Infinity]);
    if (v < r[0]) r[0] = v;
    if (v > r[1]) r[1] = v;
  };
  for (const sample of references) {
    for (const name of outputs) {
      const t = sample[name];
      if (!t || t.dtype !== 'float32') continue;
      const data = t.data as ArrayLike<number>;
      for (let i = 0; i < data.length; i++) widen(name, data[i]);
      for (const part of parts) {
        if (part.output !== name) continue;
        const outer = t.dims.slice(0, part.axis).reduce((a, b) => a * b, 1);
        const inner = t.dims.slice(part.axis + 1).reduce((a, b) => a * b, 1);
        const length = t.dims[part.axis];
        for (let o = 0; o < outer; o++) for (let i = (o * length + part.start) * inner; i < (o * length + part.end) * inner; i++) widen(partKey(part), data[i]);
      }
    }
  }
  return ranges;
}
