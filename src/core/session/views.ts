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
}

/** The method search_threshold recommends: the best output cosine of the all-INT8 model. */
export function bestThresholdMethod(rows: readonly ThresholdSearchRow[]): CalibrationMethod {
  return rows.reduce((a, b) => (b.output.cos > a.output.cos ? b : a)).method;
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

