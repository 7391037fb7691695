import type { StateCreator } from 'zustand';
import type { AppState } from '../store';
import type { CalibrationSummary, Corrections, ThresholdSearchRow } from '../../core/Workbench';
import { DEFAULT_CALIBRATION, type CalibrationSettings } from '../../core/calib/Calibration';
import { DEFAULT_WEIGHT_OPTIONS, type WeightOptions } from '../../core/quant/WeightOptions';
import type { DatasetSummary } from '../../core/io/dataset/Dataset';
import { DEFAULT_PREPROCESS, type ImagePreprocess } from '../../core/io/dataset/loadDataset';
import type { ModelPreprocess } from '../../core/io/dataset/modelPreprocess';
import type { FileSource } from '../../../workers/client';
import type { TargetScheme } from '../../core/quant/schemes';
import { DEFAULT_LIMITS, type Limits } from '../../core/io/limits';

/** The on/off corrections (the rest of Corrections are their numbers). */
export type CorrectionToggle = { [K in keyof Corrections]: Corrections[K] extends boolean ? K : never }[keyof Corrections];

export interface DataSlice {
  dataset: DatasetSummary | null;
  preprocess: ImagePreprocess;
  /** What the open model says about its preprocessing (the form's base for presets, and its notes). */
  modelPreprocess: ModelPreprocess | null;
  /** The user (or the demo, or a kept session) has confirmed `preprocess` for the open model: images calibrate without asking. */
  preprocessConfirmed: boolean;
  /** Images given before the preprocessing was confirmed: read and calibrated once it is (preprocessActions.ts). */
  pendingImages: readonly FileSource[] | null;
  /** What a dropped file may declare (issue #12); the next model or data read is held to them. */
  limits: Limits;
  calibration: CalibrationSummary | null;
  scheme: TargetScheme['id'];
  calibrationSettings: CalibrationSettings;
  weightOptions: WeightOptions;
  /** search_threshold's comparison, newest run. */
  thresholdSearch: readonly ThresholdSearchRow[] | null;
  /** Float inference time over the calibration samples, to weigh calibration against. */
  floatBaseline: { readonly samples: number; readonly perSampleMs: number; readonly calibrationBytes: number | null } | null;
  /** The output cosine before and after each correction was last switched, to show next to its toggle. */
  correctionEffects: Partial<Record<CorrectionToggle, { readonly on: boolean; readonly before: number | null; readonly after: number }>>;
  /** Corrections asked for and being applied (the toggles show them at once; a failure puts them back). */
  correctionsPending: Corrections | null;
  /** The model's class names from a file the user gave (core/metrics/classNames.ts), shown beside class indices. */
  classNames: ClassNames | null;
  datasetLoaded: (dataset: DatasetSummary) => void;
  calibrated: (calibration: CalibrationSummary) => void;
  /** Preprocessing chosen (the form, the demo): it counts as confirmed. */
  setPreprocess: (preprocess: ImagePreprocess) => void;
  setLimits: (limits: Limits) => void;
  setClassNames: (classNames: ClassNames | null) => void;
}

/** Class names and the file they came from. */
export interface ClassNames {
  readonly file: string;
  /** names[k] names class k ('' where the file leaves it unnamed). */
  readonly names: readonly string[];
}

export const createDataSlice: StateCreator<AppState, [], [], DataSlice> = (set) => ({
  dataset: null,
  preprocess: DEFAULT_PREPROCESS,
  modelPreprocess: null,
  preprocessConfirmed: false,
  pendingImages: null,
  limits: DEFAULT_LIMITS,
  calibration: null,
  scheme: 'ort-qdq',
  calibrationSettings: DEFAULT_CALIBRATION,
  weightOptions: DEFAULT_WEIGHT_OPTIONS,
  thresholdSearch: null,
  floatBaseline: null,
  correctionEffects: {},
  correctionsPending: null,
  classNames: null,
  datasetLoaded: (dataset) => set({ dataset, calibration: null, outputEvaluation: null, layerEvaluation: null, baseline: null, floatBaseline: null, quantizedInFile: null }),
  // A new calibration changes every score a search gave: its results and points no longer hold.
  calibrated: (calibration) => set({ calibration, calibrationSettings: calibration.settings, outputEvaluation: null, layerEvaluation: null, baseline: null, searchResult: null, visited: [] }),
  setPreprocess: (preprocess) => set({ preprocess, preprocessConfirmed: true }),
  setLimits: (limits) => set({ limits }),
  setClassNames: (classNames) => set({ classNames }),
});
