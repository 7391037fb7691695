import type { CalibrationSettings, TensorOverride } from '../calib/Calibration';
import type { CorrectionEffects, Corrections } from '../corrections/CorrectionState';
import type { CaliEntry, CalibrationMethod } from '../model/CaliTable';
import type { Evaluation } from '../model/Evaluation';

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
  /** A classifier's top-1/top-5 agreement with float under this method. */
  readonly agreement?: Evaluation['agreement'];
}

/**
 * The method search_threshold recommends (issue #11): on a classifier, the best top-1 agreement
 * with float (then top-5), so that it never picks a method that changes more answers than another;
 * the output cosine breaks ties, and decides alone for any other model. A method that clips the top
 * logit can keep the best cosine and lose top-1 (MobileNetV2: MSE, cos 0.9949, top-1 74.0 % of
 * 79.6 %, where KL kept 78.75 %).
 */
export function bestThresholdMethod(rows: readonly ThresholdSearchRow[]): CalibrationMethod {
  const task = (row: ThresholdSearchRow) => {
    const values = Object.values(row.agreement ?? {});
    return values.length ? { top1: Math.min(...values.map((a) => a.top1)), top5: Math.min(...values.map((a) => a.top5)) } : { top1: 0, top5: 0 };
  };
  const better = (a: ThresholdSearchRow, b: ThresholdSearchRow): boolean => {
    const [ta, tb] = [task(a), task(b)];
    if (tb.top1 !== ta.top1) return tb.top1 > ta.top1;
    if (tb.top5 !== ta.top5) return tb.top5 > ta.top5;
    return b.output.cos > a.output.cos;
  };
  return rows.reduce((a, b) => (better(a, b) ? b : a)).method;
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

