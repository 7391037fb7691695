import { absMax, thresholdEntry, type Calibrator } from './Calibrator';

/**
 * max (docs/algorithms.md §2; TPU-MLIR use_max): threshold = running max |x| = max(|min|, |max|) over
 * every element of every sample (exact: from the in-graph min/max, not from sampled values).
 * @example // samples with ranges [-1, 2] and [-3, 0.5]: threshold 3, min -3, max 2
 */
export const maxCalibrator: Calibrator = {
  method: 'max',
  calibrate: (stats) => thresholdEntry('max', absMax(stats), stats),
};
