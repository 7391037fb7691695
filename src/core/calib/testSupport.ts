/**
 * Seeded data for the calibration tests (test support only; nothing in the app imports it).
 * mulberry32, as statisticsPass.ts samples positions, and Box-Muller for normal variates.
 */
import { seededRandom } from '../seededRandom';

export { seededRandom as seededUniform } from '../seededRandom';

export function seededNormal(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => {
    const u = 1 - uniform(); // (0, 1]
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

/** n float32 values from `next`. */
export function float32Values(n: number, next: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = next();
  return out;
}

/** The SampleObservation of a sample whose every element is in `values` (K = count). */
export function fullObservation(values: Float32Array): { min: number; max: number; count: number; values: Float32Array } {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max, count: values.length, values };
}
