import type { ErrorMetrics } from '../core/metrics/similarity';
import type { Metric } from '../state/store';

/** Cosine with enough digits to see quantization (0.999731), SQNR in dB, MSE in engineering form. */
export function formatMetric(metric: Metric, value: number | undefined): string {
  if (value === undefined || Number.isNaN(value)) return '—';
  switch (metric) {
    case 'cos':
    case 'local': return value.toFixed(6);
    case 'sqnr': return value === Infinity ? '∞ dB' : value === -Infinity ? '-∞ dB' : `${value.toFixed(1)} dB`;
    case 'mse':
    case 'sensitivity': return value === 0 ? '0' : value.toExponential(2);
  }
}

export const METRIC_LABEL: Record<Metric, string> = { cos: 'Cosine', local: 'Local cos', mse: 'MSE', sqnr: 'SQNR', sensitivity: 'Sensitivity' };

export function metricOf(m: ErrorMetrics, metric: Exclude<Metric, 'sensitivity' | 'local'>): number {
  return m[metric];
}

/** `digits` after the point for kB and MB: more where neighbouring values (axis ticks) differ little. */
export function formatBytes(bytes: number, digits = 1): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(digits)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(digits)} MB`;
}

/** The fewest digits (up to 4) that give each of `values` a label of its own. */
export function bytesDigits(values: readonly number[]): number {
  for (let digits = 1; digits < 4; digits++) {
    if (new Set(values.map((v) => formatBytes(v, digits))).size === values.length) return digits;
  }
  return 4;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
