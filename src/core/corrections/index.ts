/**
 * Model corrections (docs/algorithms.md §6) and TPU-MLIR's threshold tuning (docs/algorithms.md §2), one file
 * each; see README.md for the rules they follow and the order the workbench applies them in.
 */
export { foldBatchNorm, type BatchNormFolding, type FoldedBatchNorm, type SkippedBatchNorm } from './foldBatchNorm';
export {
  equalizeCrossLayer, pairRanges, DEFAULT_EQUALIZATION_ITERATIONS, DEFAULT_EQUALIZATION_TOLERANCE,
  type CrossLayerEqualization, type EqualizationOptions, type EqualizedPair, type SkippedPair,
} from './equalizeCrossLayer';
export {
  smoothQuant, smoothingScales, DEFAULT_ALPHA_STEP,
  type SkippedSmoothing, type SmoothedPair, type SmoothQuantOptions, type SmoothQuantResult,
} from './smoothQuant';
export {
  biasCorrection, measureConvBiasErrors, DEFAULT_MIN_LAYER_COS,
  type BiasCorrectionOptions, type BiasCorrectionResult, type ConvBiasError, type CorrectedConv, type MeasureOptions,
} from './biasCorrection';
export {
  tuneThresholds, measureTuningLosses, tunedEntry, tuningCandidates,
  DEFAULT_MAX_TUNING_NODES, DEFAULT_MIN_TUNED_DIFF, DEFAULT_TUNE_CANDIDATES, DEFAULT_TUNE_NUM, TPU_MLIR_TUNE_STEPS,
  type TensorTuning, type TuneOptions,
} from './tuneThresholds';
export { correctFloatModel, type FloatCorrections, type FloatCorrectionEffects } from './correctFloatModel';
