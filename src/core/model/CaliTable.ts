/**
 * Activation calibration methods (docs/algorithms.md §2), named as the CLI spells them
 * (`--cali_method`). Each turns the statistics of one tensor into a CaliEntry.
 */
export type CalibrationMethod =
  | 'max'               // running min/max (symmetric: max |x|)
  | 'percentile9999'    // TPU-MLIR's position-dependent percentile
  | 'minmax_percentile' // ONE record-minmax default: percentiles of per-sample min and max
  | 'moving_average'    // ONE record-minmax moving average
  | 'kl'                // KL divergence, TPU-MLIR form
  | 'kl_tensorrt'       // KL divergence, TensorRT / Bolt form
  | 'mse'               // MSE / OCTAV (TPU-MLIR use_mse)
  | 'aciq_gauss'
  | 'aciq_laplace';

export const CALIBRATION_METHODS: readonly CalibrationMethod[] = [
  'max', 'percentile9999', 'minmax_percentile', 'moving_average', 'kl', 'kl_tensorrt', 'mse', 'aciq_gauss', 'aciq_laplace',
];

/**
 * The calibrated range of one tensor. `threshold` is what symmetric schemes use (TPU-MLIR, Bolt:
 * scale = threshold / 127); `min`/`max` what asymmetric schemes use (ORT uint8, ONE uint8). For a
 * threshold method, min/max are the observed range clipped to [-threshold, threshold].
 */
export interface CaliEntry {
  readonly threshold: number;
  readonly min: number;
  readonly max: number;
  /** Where the numbers came from: a method, a value the user typed, or an imported table. */
  readonly source: CalibrationMethod | 'user' | 'imported';
}

/** tensor name -> range (docs/architecture.md glossary: CaliTable). */
export interface CaliTable {
  readonly entries: ReadonlyMap<string, CaliEntry>;
  /** TPU-MLIR's `#int4_th` section: thresholds used when a layer runs INT4. */
  readonly int4Entries?: ReadonlyMap<string, CaliEntry>;
  /** TPU-MLIR's `#asym_op` and `#int4_op` sections (names only). */
  readonly asymOps?: readonly string[];
  readonly int4Ops?: readonly string[];
  readonly sampleCount?: number;
  readonly histogramBins?: number;
}
