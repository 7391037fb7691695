import { interpolateYlOrRd } from 'd3-scale-chromatic';
import type { Metric } from '../state/store';

export interface HeatScale {
  /** Colour of a metric value: light yellow is good, dark red is bad (ONE visq's YlOrRd). */
  readonly colorOf: (value: number) => string;
  readonly domain: [number, number];
  readonly label: string;
}

/**
 * A colour scale fitted to the values on screen: cosine and SQNR run from their worst value (red)
 * to their best (yellow); MSE on a log scale from its smallest (yellow) to its largest (red).
 */
export function heatScale(metric: Metric, values: readonly number[]): HeatScale {
  const finite = values.filter((v) => Number.isFinite(v));
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 1;
  const clamp = (t: number) => Math.max(0, Math.min(1, t));
  if (metric === 'sensitivity' && finite.some((v) => v <= 0)) {
    // SQNR as the search metric gives losses of -dB: a linear scale, the least sensitive yellow.
    const span = hi - lo || 1;
    return { domain: [lo, hi], label: 'Sensitivity: loss with only this layer quantized', colorOf: (v) => interpolateYlOrRd(0.05 + 0.95 * clamp((v - lo) / span)) };
  }
  switch (metric) {
    case 'cos': {
      const worst = Math.min(lo, 1 - 1e-6);
      return { domain: [worst, 1], label: 'Cosine (layer output vs float)', colorOf: (v) => interpolateYlOrRd(0.05 + 0.95 * clamp((1 - v) / (1 - worst))) };
    }
    case 'sqnr': {
      const best = Math.max(hi, lo + 1e-6);
      return { domain: [lo, best], label: 'SQNR dB (layer output vs float)', colorOf: (v) => interpolateYlOrRd(0.05 + 0.95 * (v === Infinity ? 0 : clamp((best - v) / (best - lo)))) };
    }
    case 'mse':
    case 'sensitivity': {
      const positive = finite.filter((v) => v > 0);
      const min = positive.length ? Math.min(...positive) : 1e-12;
      const max = positive.length ? Math.max(...positive) : 1;
      const span = Math.log10(max) - Math.log10(min) || 1;
      const label = metric === 'mse' ? 'MSE (log scale)' : 'Sensitivity: loss with only this layer quantized (log)';
      return { domain: [min, max], label, colorOf: (v) => interpolateYlOrRd(0.05 + 0.95 * (v <= 0 ? 0 : clamp((Math.log10(v) - Math.log10(min)) / span))) };
    }
  }
}
