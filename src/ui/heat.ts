import { scaleLinear } from 'd3';
import { interpolateYlOrRd } from 'd3-scale-chromatic';
import type { Metric } from '../state/store';

/** A labelled mark along the legend's bar: `at` runs from 0 (left end) to 1 (right end). */
export interface HeatTick {
  readonly at: number;
  readonly text: string;
}

/**
 * How the legend's range was chosen: `fixed`, the metric's own range, the same on every evaluation
 * so a layer's colour moves only when its value does; `fitted` to the values on screen (more
 * contrast, but it moves with every evaluation); `pinned` by the user until unpinned.
 */
export type HeatRange = 'fixed' | 'fitted' | 'pinned';

export interface HeatScale {
  /** Colour of a value: light yellow is good, dark red is bad (ONE visq's YlOrRd). */
  readonly colorOf: (value: number) => string;
  /** Colour at a point of the bar, 0 (left) to 1 (right): the legend's gradient. */
  readonly colorAt: (at: number) => string;
  /** The values at the bar's two ends, left first, in the metric's own units: what a pin freezes. */
  readonly domain: readonly [number, number];
  readonly ticks: readonly HeatTick[];
  readonly label: string;
  readonly range: HeatRange;
}

export interface HeatOptions {
  /** Fit the range to the values instead of the metric's fixed range. */
  readonly fit?: boolean;
  /** A range the user pinned (wins over both). */
  readonly pinned?: readonly [number, number] | null;
  /**
   * What 'sensitivity' values are: `gain`, output cosine gained by setting a layer to FP32 (a
   * fixed log range), or `loss`, a search metric's loss in its own units (fitted: it has no range
   * of its own).
   */
  readonly sensitivity?: 'gain' | 'loss';
  /** The legend's words, when the caller knows better (where the gains come from). */
  readonly label?: string;
}

/** Where values fall along the bar, and which end is bad. */
interface Axis {
  /** 0 at domain[0], 1 at domain[1]; beyond them outside [0, 1] (the colour clamps). */
  readonly position: (value: number) => number;
  readonly ticks: readonly HeatTick[];
  /** Cosine and SQNR: the right (high) end is good; MSE and gains: the right end is bad. */
  readonly rightIsGood: boolean;
}

/** Lightest and darkest ends of YlOrRd used: 0.05 keeps "exact" distinguishable from the background. */
const severityColor = (severity: number) => interpolateYlOrRd(0.05 + 0.95 * Math.max(0, Math.min(1, severity)));

/**
 * Fixed ranges (issue #11): cosine 0 .. 5.5 nines (0.999997: the last half nine leaves room for the
 * 0.99999 label), SQNR 0 .. 40 dB, MSE and gains by decades.
 */
const FIXED: Readonly<Record<'cos' | 'sqnr' | 'mse' | 'gain', readonly [number, number]>> = {
  cos: [0, 1 - 10 ** -5.5],
  sqnr: [0, 40],
  mse: [1e-7, 10],
  gain: [1e-6, 0.1],
};

/** 1 - cos below this counts as exact: the nines scale stops at nine nines. */
const EXACT = 1e-9;

/** The cosine's "nines": -log10(1 - cos). 0.9 -> 1, 0.99 -> 2, 0.999 -> 3; 1 -> 9; 0 -> 0; negative below 0. */
export const nines = (cos: number) => -Math.log10(Math.max(1 - cos, EXACT));

const cosOfNines = (n: number) => 1 - 10 ** -n;

/** "0.999" for three nines; a fractional count as the cosine it stands for. */
function ninesText(n: number): string {
  if (n <= 0) return String(Math.round(cosOfNines(n) * 100) / 100);
  return Number.isInteger(n) ? `0.${'9'.repeat(n)}` : cosOfNines(n).toPrecision(Math.ceil(n) + 1);
}

/** Cosine on the nines scale, so that 0.9, 0.99, 0.999 and 0.9999 lie evenly apart. */
function ninesAxis([lo, hi]: readonly [number, number]): Axis {
  const a = nines(lo);
  const span = nines(hi) - a || 1;
  const position = (v: number) => (nines(v) - a) / span;
  const ticks: HeatTick[] = [];
  for (let n = Math.ceil(a); n <= nines(hi) + 1e-9; n++) ticks.push({ at: position(cosOfNines(n)), text: ninesText(n) });
  if (ticks.length < 2) ticks.splice(0, ticks.length, { at: 0, text: ninesText(Math.round(a * 10) / 10) }, { at: 1, text: ninesText(Math.round(nines(hi) * 10) / 10) });
  return { position, ticks, rightIsGood: true };
}

function linearAxis([lo, hi]: readonly [number, number], rightIsGood: boolean, unit = ''): Axis {
  const span = hi - lo || 1;
  const x = scaleLinear().domain([lo, hi]);
  const format = x.tickFormat(4);
  return { position: (v) => (v - lo) / span, ticks: x.ticks(4).map((v) => ({ at: (v - lo) / span, text: `${format(v)}${unit}` })), rightIsGood };
}

/** Positive values by decades; zero (exact) sits at the good end. */
function logAxis([lo, hi]: readonly [number, number]): Axis {
  const a = Math.log10(lo);
  const span = Math.log10(hi) - a || 1;
  const position = (v: number) => (v <= 0 ? -Infinity : (Math.log10(v) - a) / span);
  const ticks: HeatTick[] = [];
  const decades = Math.floor(Math.log10(hi) + 1e-9) - Math.ceil(a - 1e-9) + 1;
  const step = Math.max(1, Math.ceil(decades / 6));
  for (let k = Math.ceil(a - 1e-9); k <= Math.log10(hi) + 1e-9; k += step) ticks.push({ at: (k - a) / span, text: `1e${k}` });
  return { position, ticks, rightIsGood: false };
}

/** A fitted range: the values' extent, widened to whole steps so that small moves do not change it. */
function fitted(values: readonly number[], kind: 'cos' | 'sqnr' | 'log' | 'linear'): readonly [number, number] | null {
  const finite = values.filter((v) => Number.isFinite(v) && (kind !== 'log' || v > 0));
  if (finite.length === 0) return null;
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  switch (kind) {
    case 'cos': {
      const a = Math.floor(nines(lo) * 2) / 2;
      const b = Math.max(Math.ceil(nines(hi) * 2) / 2, a + 0.5);
      return [cosOfNines(a), cosOfNines(b)];
    }
    case 'sqnr': {
      const a = Math.floor(lo / 5) * 5;
      return [a, Math.max(Math.ceil(hi / 5) * 5, a + 5)];
    }
    case 'log': {
      const a = Math.floor(Math.log10(lo));
      return [10 ** a, 10 ** Math.max(Math.ceil(Math.log10(hi)), a + 1)];
    }
    case 'linear':
      return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
  }
}

const LABEL: Record<Exclude<Metric, 'sensitivity'>, string> = {
  cos: 'Cosine, accumulated (layer output vs float)',
  local: 'Local cosine (this layer alone, float inputs)',
  sqnr: 'SQNR dB, accumulated',
  mse: 'MSE, accumulated (log)',
};

/**
 * The heatmap's colour scale for a metric (issue #11). By default each metric has a fixed range, so
 * a layer's colour depends on its own value only and colours compare across edits: cosine on the
 * nines scale from 0 to 0.999997 (1.0 the lightest), SQNR 0 to 40 dB, MSE 1e-7 to 10 and float
 * gains 1e-6 to 0.1 by decades; values beyond an end take that end's colour. `fit` fits the range
 * to `values` instead (whole steps: half nines, 5 dB, decades); `pinned` freezes a range. A search
 * metric's loss has no range of its own and is always fitted (unless pinned).
 */
export function heatScale(metric: Metric, values: readonly number[], options: HeatOptions = {}): HeatScale {
  const kind = metric === 'cos' || metric === 'local' ? 'cos' : metric === 'sqnr' ? 'sqnr' : metric === 'mse' ? 'mse' : options.sensitivity === 'gain' ? 'gain' : 'loss';
  // A search metric's losses: positive (cosine, MAE, top-1) on a log scale; -dB (SQNR) linear.
  const lossKind = values.some((v) => Number.isFinite(v) && v <= 0) ? 'linear' : 'log';
  const fitKind = kind === 'cos' || kind === 'sqnr' ? kind : kind === 'loss' ? lossKind : 'log';
  let range: HeatRange = 'fixed';
  let domain: readonly [number, number] | null = kind === 'loss' ? null : FIXED[kind];
  if (options.pinned) {
    domain = options.pinned;
    range = 'pinned';
  } else if (options.fit || domain === null) {
    domain = fitted(values, fitKind) ?? domain ?? [1e-6, 1];
    range = 'fitted';
  }
  const axis = kind === 'cos' ? ninesAxis(domain) : kind === 'sqnr' ? linearAxis(domain, true, ' dB') : fitKind === 'linear' ? linearAxis(domain, false) : logAxis(domain);
  const severity = (p: number) => (axis.rightIsGood ? 1 - p : p);
  const label = options.label ?? (metric === 'sensitivity'
    ? kind === 'gain' ? 'Float gain: output cos gained with the layer at FP32 (log)' : `Sensitivity: loss with only this layer quantized${lossKind === 'log' ? ' (log)' : ''}`
    : LABEL[metric]);
  return {
    colorOf: (v) => severityColor(severity(axis.position(v))),
    colorAt: (at) => severityColor(severity(at)),
    domain,
    ticks: axis.ticks,
    label,
    range,
  };
}
