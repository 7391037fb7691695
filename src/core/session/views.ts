import type { CalibrationSettings, TensorOverride } from '../calib/Calibration';
import type { CorrectionEffects, Corrections } from '../corrections/CorrectionState';
import type { CaliEntry, CalibrationMethod } from '../model/CaliTable';
import type { Evaluation } from '../model/Evaluation';
import { primaryValue } from '../metrics/taskMetrics';

// The plain data a workbench hands out about its session: what the page and the CLI show.

export interface CalibrationSummary {
  readonly settings: CalibrationSettings;
  readonly sampleCount: number;
  readonly evaluationSampleCount: number;
  readonly tensorCount: number;
  readonly elapsedMs: number;
  /** The CaliTable in use, tensor by tensor. */
  readonly table: readonly (readonly [string, CaliEntry])[];
  readonly overrides: readonly (readonly [string, TensorOverride])[];
  readonly imported: boolean;
  readonly corrections: Corrections;
  readonly correctionEffects: CorrectionEffects;
}

/** search_threshold's comparison: the all-INT8 model under each method (docs/algorithms.md §5). */
export interface ThresholdSearchRow {
  readonly method: CalibrationMethod;
  readonly output: Evaluation['output'];
  /** The task outputs' figures under this method (top-1 agreement, detection F1...). */
  readonly tasks?: Evaluation['tasks'];
  /** What the all-INT8 evaluation under this method warned of (a collapsed output or part). */
  readonly warnings?: Evaluation['warnings'];
}

/**
 * The method search_threshold recommends (issue #11): the best task figure (the worst over the
 * task outputs of top-1 agreement, detection F1, map IoU, decoded agreement; then a classifier's
 * top-5), so that it never picks a method that changes more answers than another; the output cosine
 * breaks ties, and decides alone for a model without a task output. A method that clips the top
 * logit can keep the best cosine and lose top-1 (MobileNetV2: MSE, cos 0.9949, top-1 74.0 % of
 * 79.6 %, where KL kept 78.75 %).
 */
export function bestThresholdMethod(rows: readonly ThresholdSearchRow[]): CalibrationMethod {
  const better = (a: ThresholdSearchRow, b: ThresholdSearchRow): boolean => {
    const [ta, tb] = [taskScore(a.tasks), taskScore(b.tasks)];
    if (tb.primary !== ta.primary) return tb.primary > ta.primary;
    if (tb.top5 !== ta.top5) return tb.top5 > ta.top5;
    return b.output.cos > a.output.cos;
  };
  return rows.reduce((a, b) => (better(a, b) ? b : a)).method;
}

/** A method this far under the median output cosine of all methods is far below the others. */
const OUTLIER_GAP = 0.1;

/**
 * search_threshold's rows with a 'method-outlier' warning on each method whose all-INT8 output
 * cosine is far below the others' (KL in TensorRT's form or ACIQ clipping a layer to nothing): the
 * table must not list 0.000000 without a flag.
 */
export function flagOutlierMethods(rows: readonly ThresholdSearchRow[]): ThresholdSearchRow[] {
  const sorted = rows.map((r) => r.output.cos).filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length < 3) return [...rows];
  const median = sorted[Math.floor(sorted.length / 2)];
  return rows.map((row) => {
    if (!(row.output.cos < median - OUTLIER_GAP)) return row;
    const warning = { kind: 'method-outlier' as const, layer: null, message: `${row.method}: the all-INT8 output cos ${row.output.cos.toFixed(6)} is far below the other methods' (median ${median.toFixed(6)}); this method's ranges break the model (a layer clipped to almost nothing?): do not use it here.` };
    return { ...row, warnings: [warning, ...(row.warnings ?? [])] };
  });
}

/** The worst task output's headline figure (and a classifier's top-5); 0 and 0 without task outputs, so cosine decides. */
export function taskScore(tasks: Evaluation['tasks']): { primary: number; top5: number } {
  const list = Object.values(tasks ?? {});
  if (list.length === 0) return { primary: 0, top5: 0 };
  return { primary: Math.min(...list.map(primaryValue)), top5: Math.min(...list.map((t) => t.values.top5 ?? 1)) };
}

/** What the inspector draws for one tensor: its histogram and every method's entry. */
export interface TensorCalibrationView {
  readonly tensor: string;
  readonly min: number;
  readonly max: number;
  readonly histogram: { readonly width: number; readonly counts: readonly number[] };
  /** Every method whose statistics the pass kept (all of them unless calibration kept one). */
  readonly entries: Readonly<Partial<Record<CalibrationMethod, CaliEntry>>>;
  readonly active: CaliEntry;
  readonly override: TensorOverride | null;
}

