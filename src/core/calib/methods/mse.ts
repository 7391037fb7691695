import { absMax, mean, thresholdEntry, type Calibrator } from './Calibrator';

/**
 * mse (docs/algorithms.md §2; TPU-MLIR use_mse, OCTAV): the mean over samples of each sample's OCTAV
 * threshold (computed when the sample was added: sampleThresholds.ts `octavThreshold`), capped at
 * absmax (`mean_s_n = min(mean_s_n, abs_value)`); graph inputs take absmax
 * (kld_calibrator.py: `if k in self.input_op: thresholds_map[k] = max(abs(mi), abs(ma))`).
 *
 * Deviations: u = 4 when the sample's exact min is >= 0 ("non-negative", docs/algorithms.md); TPU-MLIR
 * tests `abs(np.min(activation)) < 1e-6`, which also picks u = 1 for strictly positive tensors
 * (Sigmoid, Softmax) and u = 4 for mins in (-1e-6, 0). The sums run over the sampled values.
 * TPU-MLIR's rule that its last output tensors (back to the first Conv/MatMul) keep a percentile
 * threshold needs the graph, so it is not applied here.
 *
 * @example // per-sample OCTAV thresholds 2 and 4, absmax 3.5 -> threshold min(3, 3.5) = 3
 */
export const mseCalibrator: Calibrator = {
  method: 'mse',
  calibrate: (stats, context) => {
    const top = absMax(stats);
    const th = context.isGraphInput ? top : Math.min(mean(stats.octav[context.bits]), top);
    return thresholdEntry('mse', th, stats);
  },
};
