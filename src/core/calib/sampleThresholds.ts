/**
 * Thresholds computed from ONE sample of a tensor, as TPU-MLIR computes them inside its calibration
 * loop (sophgo/tpu-mlir python/calibration/kld_calibrator.py, `process_statistic`, and
 * python/calibration/cali_math.py `threshold_mse`, `threshold_aciq_gauss`, `threshold_aciq_laplace`).
 * The accumulator keeps one number per sample and method; the methods average them
 * (docs/algorithms.md §2 "MSE / OCTAV", "ACIQ").
 */

/** Activation bit widths the per-sample thresholds are kept for (INT8 and INT4 activations). */
export type ActivationBits = 8 | 4;
export const ACTIVATION_BITS: readonly ActivationBits[] = [8, 4];

/** ACIQ clipping constants (TPU-MLIR cali_math.py): Gauss alpha and Laplace beta per bit width. */
export const ACIQ_GAUSS_ALPHA: Readonly<Record<ActivationBits, number>> = { 8: 3.92403337, 4: 2.55913642 };
export const ACIQ_LAPLACE_BETA: Readonly<Record<ActivationBits, number>> = { 8: 9.89675982, 4: 5.02864014 };

/** OCTAV iteration limits (TPU-MLIR: `for _ in range(20)`, `if abs(s_n_plus_1 - s_n) < 1e-6: break`). */
export const OCTAV_MAX_ITERATIONS = 20;
export const OCTAV_TOLERANCE = 1e-6;

/**
 * OCTAV's clipping threshold of one sample (docs/algorithms.md §2; TPU-MLIR `threshold_mse`):
 * s0 = sum|x| / count(|x| > 0), then up to 20 times
 * s <- sum_{|x|>s} |x| / (4^-b / (3u) * count(|x| <= s) + count(|x| > s)),
 * stopping when the step is below 1e-6. As in TPU-MLIR, the value returned on convergence is the
 * s the last step started from (`break` happens before `s_n = s_n_plus_1`).
 *
 * `nonNegative` selects u = 4 (the tensor is non-negative, as after ReLU) or u = 1. A sample with
 * no non-zero value returns 0 (TPU-MLIR divides 0 by 0 there).
 *
 * @example
 * // x = [1, 2, 3, 4], b = 8, u = 4, c = 4^-8/12 = 1.2716e-6:
 * // s0 = 10/4 = 2.5; s1 = (3+4)/(2c+2) = 3.4999956; s2 = 4/(3c+1) = 3.9999847; s3 = s2 -> stop
 * octavThreshold([1, 2, 3, 4], 8, true) // 3.9999847...
 */
export function octavThreshold(values: ArrayLike<number>, bits: ActivationBits, nonNegative: boolean): number {
  const n = values.length;
  let total = 0;
  let nonZero = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(values[i]);
    total += a;
    if (a > 0) nonZero++;
  }
  if (nonZero === 0) return 0;
  const c = 1 / 4 ** bits / 3 / (nonNegative ? 4 : 1);
  let s = total / nonZero;
  for (let iteration = 0; iteration < OCTAV_MAX_ITERATIONS; iteration++) {
    let sumAbove = 0;
    let above = 0;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(values[i]);
      if (a > s) {
        sumAbove += a;
        above++;
      }
    }
    const next = sumAbove / (c * (n - above) + above);
    if (Math.abs(next - s) < OCTAV_TOLERANCE) break;
    s = next;
  }
  return s;
}

/**
 * ACIQ Gaussian threshold of one sample (docs/algorithms.md §2; TPU-MLIR `threshold_aciq_gauss`):
 * alpha * (max - min) * 0.175 * (1 + sqrt(pi * ln 4)) / sqrt(2 ln N), from the exact min, max and
 * element count N. A tensor of one element (ln 1 = 0) has no spread estimate: its absmax is used.
 *
 * @example
 * // min -1, max 3, N = 100, 8 bit: 3.92403337 * 4 * 0.175 * 3.08690492 / 3.03485425 = 2.7939...
 * aciqGaussThreshold(-1, 3, 100, 8) // 2.79391...
 */
export function aciqGaussThreshold(min: number, max: number, count: number, bits: ActivationBits): number {
  if (count < 2) return Math.max(Math.abs(min), Math.abs(max));
  const gaussianConst = 0.5 * 0.35 * (1 + Math.sqrt(Math.PI * Math.log(4)));
  const std = ((max - min) * gaussianConst) / Math.sqrt(2 * Math.log(count));
  return ACIQ_GAUSS_ALPHA[bits] * std;
}

/**
 * ACIQ Laplace threshold of one sample (docs/algorithms.md §2; TPU-MLIR `threshold_aciq_laplace`):
 * beta * mean|x - mean(x)|, over the sampled values. No values gives 0.
 *
 * @example
 * // x = [0, 1, 2, 5]: mean 2, mean|x - 2| = (2+1+0+3)/4 = 1.5; 8 bit: 9.89675982 * 1.5
 * aciqLaplaceThreshold([0, 1, 2, 5], 8) // 14.84513973
 */
export function aciqLaplaceThreshold(values: ArrayLike<number>, bits: ActivationBits): number {
  const n = values.length;
  if (n === 0) return 0;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let deviation = 0;
  for (let i = 0; i < n; i++) deviation += Math.abs(values[i] - mean);
  return ACIQ_LAPLACE_BETA[bits] * (deviation / n);
}
