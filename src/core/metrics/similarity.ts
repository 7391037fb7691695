/** Error of a quantized tensor against its float reference (docs/algorithms.md §4). */
export interface ErrorMetrics {
  /** Cosine similarity (plain, not TPU-MLIR's 0.5 + 0.5 cos). */
  readonly cos: number;
  readonly mse: number;
  /** 10 log10(sum f^2 / sum (f - q)^2) in dB; Infinity where the two are identical. */
  readonly sqnr: number;
}

/** The sums a metric needs, accumulated in float64 in JavaScript or in float32 inside a graph. */
export interface ErrorSums {
  /** sum f^2 */
  readonly ff: number;
  /** sum q^2 */
  readonly qq: number;
  /** sum (f - q)^2 */
  readonly dd: number;
  readonly count: number;
}

/**
 * Metrics from sums. cos uses f.q = (ff + qq - dd) / 2, which keeps precision when cos is near 1
 * (dd is summed directly, not recovered as a small difference of large numbers).
 * @example metricsFromSums({ff: 1, qq: 1, dd: 0, count: 1}) // {cos: 1, mse: 0, sqnr: Infinity}
 */
export function metricsFromSums({ ff, qq, dd, count }: ErrorSums): ErrorMetrics {
  const mse = count > 0 ? dd / count : 0;
  // A sum past float32's range (a probe sums in the graph, in float32: activations of 1e19 and more)
  // is infinite: neither the cosine nor the SQNR can be told, and ∞ dB would read as "exact".
  if (!Number.isFinite(ff) || !Number.isFinite(qq) || !Number.isFinite(dd)) return { cos: NaN, mse: Number.isFinite(dd) ? mse : NaN, sqnr: NaN };
  const sqnr = dd === 0 ? Infinity : ff === 0 ? -Infinity : 10 * Math.log10(ff / dd);
  let cos: number;
  if (ff === 0 && qq === 0) cos = 1;
  else if (ff === 0 || qq === 0) cos = 0;
  else cos = Math.max(-1, Math.min(1, (ff + qq - dd) / (2 * Math.sqrt(ff * qq))));
  return { cos, mse, sqnr };
}

export function errorSums(reference: ArrayLike<number>, actual: ArrayLike<number>): ErrorSums {
  if (reference.length !== actual.length) throw new Error(`cannot compare tensors of ${reference.length} and ${actual.length} elements`);
  let ff = 0;
  let qq = 0;
  let dd = 0;
  for (let i = 0; i < reference.length; i++) {
    const f = reference[i];
    const q = actual[i];
    ff += f * f;
    qq += q * q;
    dd += (f - q) * (f - q);
  }
  return { ff, qq, dd, count: reference.length };
}

export function compareTensors(reference: ArrayLike<number>, actual: ArrayLike<number>): ErrorMetrics {
  return metricsFromSums(errorSums(reference, actual));
}

/**
 * The mean of each metric over samples (TPU-MLIR averages per-sample cosines the same way). SQNR is
 * the mean noise-to-signal ratio in dB, not the mean of dBs: one sample quantized without error
 * (SQNR infinite) would otherwise make the mean infinite while the others carry noise.
 * @example meanMetrics([{cos: 1, mse: 0, sqnr: Infinity}, {cos: 0.99, mse: 1e-3, sqnr: 20}]).sqnr // 23.01 (ratios 0 and 0.01)
 */
export function meanMetrics(list: readonly ErrorMetrics[]): ErrorMetrics {
  if (list.length === 0) return { cos: NaN, mse: NaN, sqnr: NaN };
  const mean = (pick: (m: ErrorMetrics) => number) => list.reduce((s, m) => s + pick(m), 0) / list.length;
  const noiseToSignal = mean((m) => 10 ** (-m.sqnr / 10));
  return { cos: mean((m) => m.cos), mse: mean((m) => m.mse), sqnr: -10 * Math.log10(noiseToSignal) };
}

/** TPU-MLIR's rescaled cosine cos' = 0.5 + 0.5 cos (its expected_cos uses this scale). */
export function rescaledCosine(cos: number): number {
  return 0.5 + 0.5 * cos;
}
