import type { Tensor } from '../model/tensor';
import { symmetricLimit, type QuantType } from './qparams';
import { roundHalfEven } from './rounding';

/** How a weight scale is chosen (docs/algorithms.md §3): max|w| / qmax, or the minimum-MSE scale. */
export type WeightScaleMethod = 'max' | 'mse';
export const WEIGHT_SCALE_METHODS: readonly WeightScaleMethod[] = ['max', 'mse'];

/** A channel of zeros gets this scale so DequantizeLinear stays defined (weightQuant.ts). */
export const MIN_WEIGHT_SCALE = 1e-8;

/**
 * sum (w - s * clamp(round_half_even(w / s), -qmax, qmax))^2: the squared error of symmetric
 * quantization with scale s (the quantity the minimum-MSE scale minimises).
 * @example quantizationSquaredError([0.3, -1], 0.5, 127) // (0.3 - 0.5)^2 + 0 = 0.04
 */
export function quantizationSquaredError(values: ArrayLike<number>, scale: number, qmax: number): number {
  let error = 0;
  for (let i = 0; i < values.length; i++) {
    const q = Math.max(-qmax, Math.min(qmax, roundHalfEven(values[i] / scale)));
    const d = values[i] - scale * q;
    error += d * d;
  }
  return error;
}

/** Levels assigned at scale s, and the least-squares scale for those levels: sum(w q) / sum(q^2). */
function leastSquares(values: ArrayLike<number>, scale: number, qmax: number): { scale: number; gain: number } {
  let sumLx = 0;
  let sumL2 = 0;
  for (let i = 0; i < values.length; i++) {
    const q = Math.max(-qmax, Math.min(qmax, roundHalfEven(values[i] / scale)));
    sumLx += values[i] * q;
    sumL2 += q * q;
  }
  // With the levels fixed, the error at the LS scale is sum w^2 - sumLx^2 / sumL2: maximise the gain.
  return sumL2 > 0 ? { scale: sumLx / sumL2, gain: (sumLx * sumLx) / sumL2 } : { scale, gain: 0 };
}

/** Effective levels of max|w| tried: a wide grid qmax * [0.5, 1.5] in 64 steps ... */
const GRID_STEPS = 64;
const GRID_LOW = 0.5;
const GRID_HIGH = 1.5;
/** ... and a fine one around qmax, llama.cpp's qmax + 0.1 k widened from |k| <= 9 to |k| <= 40. */
const FINE_STEPS = 40;
/** Candidates refined by alternating rounding and least squares (Lloyd iterations). */
const REFINED_CANDIDATES = 8;
const REFINE_ITERATIONS = 32;

/** Alternate re-rounding at s and the least-squares scale of those levels while the error drops. */
function refine(values: ArrayLike<number>, start: number, qmax: number): { scale: number; error: number } {
  let scale = start;
  let error = quantizationSquaredError(values, scale, qmax);
  for (let iteration = 0; iteration < REFINE_ITERATIONS; iteration++) {
    const next = leastSquares(values, scale, qmax).scale;
    const nextError = quantizationSquaredError(values, next, qmax);
    if (!(nextError < error)) break;
    scale = next;
    error = nextError;
  }
  return { scale, error };
}

/**
 * The symmetric scale minimising ||w - s * clamp(round(w / s), -qmax, qmax)||^2 (docs/algorithms.md §3,
 * ONE's minimum-MSE issue), llama.cpp `make_qx_quants` style (as TPU-MLIR's lib/Support/QuantMse.cpp
 * ports it):
 * 1. grid: for candidate levels L of max|w| (s = max|w| / L), round, and score the levels by how
 *    much of sum w^2 their least-squares scale sum(w q) / sum(q^2) explains (sum(wq)^2 / sum(q^2),
 *    llama.cpp's criterion). Candidates: L = qmax * (0.5 .. 1.5) in 64 steps, and L = qmax + 0.1 k
 *    for |k| <= 40 (llama.cpp stops at |k| <= 9, which misses optima such as the issue's int8
 *    example, L = 113.1 for qmax = 127);
 * 2. refinement: from the 8 best candidates, alternate re-rounding and the least-squares scale while
 *    the error drops; keep the best, and never anything worse than max|w| / qmax.
 * The error as a function of s has many local minima (for a few hundred weights, about a quarter
 * level apart), so this is a careful local search, not an exhaustive one: on Gaussian channels of
 * 256 weights it lands within 1% of the best scale of a 20000-point scan for int8 and int4.
 * Rounding is half to even and the range symmetric (-qmax..qmax), as weightQuant.ts quantizes.
 * Returns 0 when every value is 0.
 *
 * @example
 * // ONE issue #12184's 16 weights (max 0.4296090305): int8 max scale 0.0033827 has RMS error
 * // 8.263e-4; the minimum-MSE scale 0.0037988 has 5.852e-4 (levels [1, 50, 109, -48, ...])
 * minMseScale(issueWeights, 127) // 0.00379880...
 */
export function minMseScale(values: ArrayLike<number>, qmax: number): number {
  let amax = 0;
  for (let i = 0; i < values.length; i++) amax = Math.max(amax, Math.abs(values[i]));
  if (amax === 0) return 0;
  const candidates: { scale: number; gain: number }[] = [];
  for (let k = 0; k <= GRID_STEPS; k++) candidates.push(leastSquares(values, amax / (qmax * (GRID_LOW + ((GRID_HIGH - GRID_LOW) * k) / GRID_STEPS)), qmax));
  for (let k = -FINE_STEPS; k <= FINE_STEPS; k++) if (qmax + 0.1 * k > 0) candidates.push(leastSquares(values, amax / (qmax + 0.1 * k), qmax));
  candidates.sort((a, b) => b.gain - a.gain);
  let best = { scale: amax / qmax, error: quantizationSquaredError(values, amax / qmax, qmax) };
  for (const candidate of candidates.slice(0, REFINED_CANDIDATES)) {
    const refined = refine(values, candidate.scale, qmax);
    if (refined.error < best.error) best = refined;
  }
  return best.scale;
}

/** The values of each channel along `axis` (one group of every value when per-tensor). */
function channelGroups(data: ArrayLike<number>, dims: readonly number[], axis: number, perChannel: boolean): Float64Array[] {
  if (!perChannel) return [Float64Array.from(data as ArrayLike<number>)];
  const channels = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const groups = Array.from({ length: channels }, () => new Float64Array(data.length / channels));
  const filled = new Int32Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    groups[c][filled[c]++] = data[i];
  }
  return groups;
}

/**
 * Symmetric weight scales, one per channel along `axis` (or one per tensor), as float32:
 * 'max' = max|W_c| / qmax (the default, unchanged from weightQuant.ts), 'mse' = minMseScale(W_c);
 * both floored at 1e-8. qmax = 127 (int8), 7 (int4), 32767 (int16). Throws on an unknown method.
 *
 * @example weightScales({ dtype: 'float32', dims: [2, 2], data: new Float32Array([1, -2, 0.5, 0]) }, 0, 'int8', true, 'max')
 * // Float32Array [2/127, 0.5/127]
 */
export function weightScales(weight: Tensor, axis: number, type: QuantType, perChannel: boolean, method: WeightScaleMethod): Float32Array {
  const qmax = symmetricLimit(type);
  const data = weight.data as Float32Array;
  switch (method) {
    case 'max': {
      const channels = perChannel ? weight.dims[axis] : 1;
      const inner = perChannel ? weight.dims.slice(axis + 1).reduce((a, b) => a * b, 1) : data.length;
      const absMax = new Float64Array(channels);
      for (let i = 0; i < data.length; i++) {
        const c = perChannel ? Math.floor(i / inner) % channels : 0;
        const a = Math.abs(data[i]);
        if (a > absMax[c]) absMax[c] = a;
      }
      return Float32Array.from(absMax, (m) => Math.max(m / qmax, MIN_WEIGHT_SCALE));
    }
    case 'mse':
      return Float32Array.from(channelGroups(data, weight.dims, axis, perChannel), (g) => Math.max(minMseScale(g, qmax), MIN_WEIGHT_SCALE));
    default:
      throw new Error(`unknown weight scale method "${String(method)}" (expected ${WEIGHT_SCALE_METHODS.join(', ')})`);
  }
}
