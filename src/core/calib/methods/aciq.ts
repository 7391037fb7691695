import { absMax, mean, thresholdEntry, type Calibrator } from './Calibrator';

/**
 * aciq_gauss (docs/algorithms.md §2; TPU-MLIR use_aciq_gauss): the mean over samples of
 * alpha * (max - min) * 0.175 * (1 + sqrt(pi ln 4)) / sqrt(2 ln N) (per sample, from the exact min,
 * max and element count N), capped at absmax. Graph inputs take absmax, as TPU-MLIR does for its
 * input ops under both ACIQ methods (kld_calibrator.py `activation_collect_and_calc_th_new`).
 *
 * @example // samples [-1, 3] of 100 elements, 8 bit: 2.79391 (< absmax 3)
 */
export const aciqGaussCalibrator: Calibrator = {
  method: 'aciq_gauss',
  calibrate: (stats, context) => {
    const top = absMax(stats);
    const th = context.isGraphInput ? top : Math.min(mean(stats.aciqGauss[context.bits]), top);
    return thresholdEntry('aciq_gauss', th, stats);
  },
};

/**
 * aciq_laplace (docs/algorithms.md §2; TPU-MLIR use_aciq_laplace): the mean over samples of
 * beta * mean|x - mean(x)| (per sample, over the sampled values), capped at absmax; graph inputs
 * take absmax.
 *
 * @example // one sample [0, 1, 2, 5], 8 bit: 9.89675982 * 1.5 = 14.845, capped at absmax 5
 */
export const aciqLaplaceCalibrator: Calibrator = {
  method: 'aciq_laplace',
  calibrate: (stats, context) => {
    const top = absMax(stats);
    const th = context.isGraphInput ? top : Math.min(mean(stats.aciqLaplace[context.bits]), top);
    return thresholdEntry('aciq_laplace', th, stats);
  },
};
