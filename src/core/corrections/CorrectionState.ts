import { DEFAULT_MIN_LAYER_COS, DEFAULT_TUNE_NUM, type FloatCorrectionEffects, type FloatCorrections } from './index';

/** Which corrections apply (docs/algorithms.md §6; TPU-MLIR --sq --we --bc --tune_num, Bolt -b). */
export interface Corrections extends FloatCorrections {
  readonly biasCorrection: boolean;
  /** TPU-MLIR's KL threshold tuning; applies while the method is KL. */
  readonly tuneThresholds: boolean;
  /** Samples the tuning uses (TPU-MLIR tune_num, default 5). */
  readonly tuneNum: number;
  /** Bias correction corrects convolutions whose local cosine is below this (TPU-MLIR min_layer_cos, default 0.99). */
  readonly minLayerCos: number;
  /** Samples bias correction measures the error on (TPU-MLIR bc_inference_num); null: the calibration samples. */
  readonly biasSamples: number | null;
}

export const NO_CORRECTIONS: Corrections = {
  foldBatchNorm: false, equalize: false, smoothQuant: false, biasCorrection: false, tuneThresholds: false, tuneNum: DEFAULT_TUNE_NUM,
  minLayerCos: DEFAULT_MIN_LAYER_COS, biasSamples: null,
};

/** What the corrections in force did, shown next to each toggle. */
export interface CorrectionEffects extends FloatCorrectionEffects {
  /** Bias correction: the 8-bit convolutions corrected and the output cosine without and with; not kept when it drops. */
  readonly biasCorrection: { readonly layers: number; readonly kept: boolean; readonly before: number; readonly after: number } | null;
  /** Tensors whose KL threshold the tuning moved (null: tuning off, or no KL thresholds to tune). */
  readonly tunedTensors: number | null;
}

export const NO_EFFECTS: CorrectionEffects = { foldedBatchNorms: 0, equalizedPairs: 0, smoothedPairs: 0, skipped: [], biasCorrection: null, tunedTensors: null };

/** A change of corrections and its measured effect on the output similarity of the QTable in use. */
export interface CorrectionReport {
  readonly effects: CorrectionEffects;
  readonly outputCos: { readonly before: number | null; readonly after: number };
  /** BN folding removed or restored layers: the graph shown must be the new one. */
  readonly graphChanged: boolean;
}

/** Identifies a float model made by correctFloatModel: its flags and, for SmoothQuant, which dataset measured it. */
export function floatModelKey(corrections: FloatCorrections, datasetVersion: number): string {
  const flags = `${+corrections.foldBatchNorm}${+corrections.equalize}${+corrections.smoothQuant}`;
  return corrections.smoothQuant ? `${flags}:${datasetVersion}` : flags;
}
