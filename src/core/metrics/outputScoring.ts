import type { ValueInfo } from '../engine/Engine';
import { QbenchError } from '../errors';
import type { ModelGraph } from '../model/ModelGraph';
import type { Tensor, TensorMap } from '../model/tensor';
import { detectTaskSpecs, specForTask } from './detectTasks';
import { outputParts, type OutputPart, type OutputScoring } from './outputParts';
import type { OutputTask, TaskSpec } from './tasks';

/** Channels whose magnitudes differ by this factor or more are scored apart (a step sized for the large ones rounds the small ones away). */
const SPLIT_RATIO = 100;
/** Channel axes longer than this are not split by range (they are classes or anchors, not kinds of value). */
const MAX_SPLIT_EXTENT = 256;
/** More runs than this along an axis is noise, not parts. */
const MAX_RANGE_PARTS = 4;

/**
 * How an evaluation scores the outputs (issue #11): the parts of each output (the inputs of the
 * Concat that builds it, or else runs of channels whose float magnitudes lie far apart), each
 * output's task (detected from the first float sample unless the user chose one) and the samples'
 * true classes when known.
 */
export function outputScoring(
  graph: ModelGraph,
  types: ReadonlyMap<string, ValueInfo>,
  references: readonly TensorMap[],
  overrides: ReadonlyMap<string, OutputTask>,
  labels: readonly (number | null)[] | null,
): OutputScoring {
  const outputs = graph.outputs.map((o) => o.name);
  const concatParts = outputParts(graph, types);
  const split = new Set(concatParts.map((p) => p.output));
  const parts = [...concatParts];
  const first = references[0] ?? {};
  for (const output of outputs) if (!split.has(output) && first[output]) parts.push(...rangeParts(output, references));
  const detected = detectTaskSpecs(outputs, first);
  const specs: Record<string, TaskSpec> = {};
  for (const output of outputs) {
    const chosen = overrides.get(output);
    specs[output] = chosen ? specForTask(chosen, output, outputs, first) : detected[output] ?? { task: 'other' };
  }
  return { parts, specs, ...(labels && labels.some((l) => l !== null) ? { labels } : {}) };
}

/**
 * Parts of an output not built by a Concat whose channels have ranges far apart. The channel axis
 * of a rank-3 or rank-4 output is the shorter of axis 1 and the last (NCHW or NHWC, [N, 4 + C, A]
 * or [N, A, 4 + C]); spatial and time axes are never split. Where its largest channel magnitude is
 * at least SPLIT_RATIO times the smallest, the parts are the contiguous runs of channels on each
 * side of their geometric mean.
 */
export function rangeParts(output: string, references: readonly TensorMap[]): OutputPart[] {
  const first = references[0]?.[output];
  if (!first || first.dtype !== 'float32') return [];
  const dims = first.dims;
  if (dims.length !== 3 && dims.length !== 4) return [];
  const last = dims.length - 1;
  for (const axis of [dims[1] <= dims[last] ? 1 : last]) {
    const extent = dims[axis];
    if (!(extent >= 2 && extent <= MAX_SPLIT_EXTENT)) continue;
    const magnitude = channelMagnitudes(references.map((r) => r[output]).filter((t): t is Tensor => t?.dtype === 'float32' && sameDims(t.dims, dims)), axis);
    const positive = magnitude.filter((m) => m > 0);
    if (positive.length < 2) continue;
    const lo = Math.min(...positive);
    const hi = Math.max(...positive);
    if (hi / lo < SPLIT_RATIO) continue;
    const middle = Math.sqrt(lo * hi);
    const runs: [number, number][] = [];
    for (let c = 0; c < extent; c++) {
      const large = magnitude[c] >= middle;
      const last = runs[runs.length - 1];
      if (last && (magnitude[last[0]] >= middle) === large) last[1] = c + 1;
      else runs.push([c, c + 1]);
    }
    if (runs.length < 2 || runs.length > MAX_RANGE_PARTS) continue;
    return runs.map(([start, end]) => ({ output, name: `${output}:${axis}:${start}-${end}`, axis, start, end }));
  }
  return [];
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The largest |value| of each index along `axis`, over every sample. */
function channelMagnitudes(tensors: readonly Tensor[], axis: number): number[] {
  const dims = tensors[0].dims;
  const extent = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const result = new Array<number>(extent).fill(0);
  for (const t of tensors) {
    const data = t.data as ArrayLike<number>;
    for (let i = 0; i < data.length; i++) {
      const c = Math.floor(i / inner) % extent;
      const v = Math.abs(data[i]);
      if (v > result[c]) result[c] = v;
    }
  }
  return result;
}

/**
 * Each evaluation sample's true class from the user's labels: by sample name (as given, or its file
 * name alone), null where the labels do not say.
 */
export function sampleLabels(sampleNames: readonly string[], labels: ReadonlyMap<string, number> | null): (number | null)[] | null {
  if (!labels) return null;
  const baseName = (n: string) => n.split(/[\\/]/).pop() ?? n;
  return sampleNames.map((n) => labels.get(n) ?? labels.get(baseName(n)) ?? null);
}

/**
 * Labels from a text file: one line per sample, `<sample name> <class index>` (space, tab or comma
 * between), or `<class index>` alone in the samples' order. Blank lines and lines starting with #
 * are skipped.
 */
export function parseLabels(text: string, sampleNames: readonly string[], fileName: string): Map<string, number> {
  const labels = new Map<string, number>();
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  lines.forEach((line, i) => {
    const fields = line.split(/[\s,;]+/);
    const value = Number(fields[fields.length - 1]);
    if (!Number.isInteger(value) || value < 0) throw new QbenchError(`${fileName}, line ${i + 1}: "${line}" does not end with a class index (a whole number >= 0)`);
    const name = fields.length > 1 ? fields.slice(0, -1).join(' ') : sampleNames[i];
    if (name === undefined) throw new QbenchError(`${fileName}: line ${i + 1} gives a class without a sample name, and there are only ${sampleNames.length} samples`);
    labels.set(name, value);
  });
  if (labels.size === 0) throw new QbenchError(`${fileName}: no labels in the file (expected "<sample name> <class index>" per line)`);
  return labels;
}

/**
 * Labels from the samples' class folders (`cat/001.jpg`): folders named by a class index give that
 * index; otherwise the sorted folder names are numbered from 0 (torchvision's ImageFolder rule).
 */
export function labelsFromFolders(sampleNames: readonly string[]): Map<string, number> | null {
  const folderOf = (n: string) => {
    const parts = n.split(/[\\/]/);
    return parts.length >= 2 ? parts[parts.length - 2] : null;
  };
  const folders = sampleNames.map(folderOf);
  if (folders.some((f) => f === null)) return null;
  const names = [...new Set(folders as string[])].sort();
  const numeric = names.every((f) => /^\d+$/.test(f));
  const index = new Map(names.map((f, i) => [f, numeric ? Number(f) : i]));
  return new Map(sampleNames.map((n, i) => [n, index.get(folders[i]!)!]));
}
