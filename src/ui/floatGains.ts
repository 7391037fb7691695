import type { FloatGain, TaskGain } from '../core/model/Evaluation';
import { PRIMARY_FIGURE } from '../core/metrics/tasks';
import type { LayerName } from '../core/model/ModelGraph';
import { isIntegerPrecision, precisionOf, qtableFromData, sameQTable, type QTable } from '../core/model/QTable';
import type { UnitSensitivity } from '../core/search/scoring/sensitivity';
import type { SearchMetricKind } from '../core/search/scoring/searchMetric';

/** A layer's float gain as the page knows it: measured for the current QTable, or estimated by a sensitivity ranking. */
export interface GainView {
  /** Output cosine gained by setting the layer to FP32 (plain cosine; negative when it hurts). */
  readonly gain: number;
  readonly source: 'measured' | 'ranking';
  /** A measured gain's output cosine now and with the layer at FP32. */
  readonly cos?: { readonly before: number; readonly after: number };
  /** A measured gain's task figure (top-1 agreement...) now and with the layer at FP32, where an output has a task. */
  readonly task?: TaskGain;
}

/**
 * Whether a ranking's losses read as output cosine lost: `cos` ranks by 1 - cos, `rescaled_cos` by
 * 1 - (0.5 + 0.5 cos) = (1 - cos) / 2. Other metrics (SQNR, MAE, top-1) lose in their own units.
 */
export function rankingGivesCosine(metric: SearchMetricKind | undefined): metric is 'cos' | 'rescaled_cos' {
  return metric === 'cos' || metric === 'rescaled_cos';
}

/**
 * Each layer's float gain under `qtable`. Measured gains count for the QTable they were measured on
 * (and `valid` says whether their calibration still holds). Where none was measured, a ranking
 * with a cosine metric gives an estimate: the output cosine its unit alone loses when it alone is
 * quantized (1 - cos), what floating it wins back if the errors of the layers add up, as they
 * nearly do while each is small. It applies only to layers the QTable keeps integer: a layer
 * already in float has nothing to gain.
 */
export function floatGains<G extends FloatGain>(
  measured: readonly G[],
  valid: (gain: G) => boolean,
  qtable: QTable,
  ranking: readonly UnitSensitivity[],
  metric: SearchMetricKind | undefined,
): Map<LayerName, GainView> {
  const gains = new Map<LayerName, GainView>();
  if (rankingGivesCosine(metric)) {
    const scale = metric === 'rescaled_cos' ? 2 : 1;
    for (const unit of ranking) {
      for (const layer of unit.layers) if (isIntegerPrecision(precisionOf(qtable, layer))) gains.set(layer, { gain: scale * unit.best.loss, source: 'ranking' });
    }
  }
  for (const gain of measured) {
    if (valid(gain) && sameQTable(qtableFromData(gain.qtable), qtable)) gains.set(gain.layer, { gain: gain.gain, source: 'measured', cos: { before: gain.before.cos, after: gain.after.cos }, ...(gain.task ? { task: gain.task } : {}) });
  }
  return gains;
}

/** A float gain: signed, in three digits; "≈" when the sensitivity ranking estimated it. */
export function formatGain(view: GainView | undefined): string {
  if (!view) return '—';
  return `${view.source === 'ranking' ? '≈' : ''}${view.gain > 0 ? '+' : ''}${view.gain.toExponential(2)}`;
}

const percent = (v: number) => `${(100 * v).toFixed(1)} %`;

/** A measured task gain in a table cell: the figure with the layer at FP32 and its change, "97.0 % (+5.0)". */
export function formatTaskGain(task: TaskGain | undefined): string {
  if (!task) return '—';
  const points = 100 * (task.after - task.before);
  return `${percent(task.after)} (${points > 0 ? '+' : points < 0 ? '−' : '±'}${Math.abs(points).toFixed(1)})`;
}

/** A measured task gain in words: "top-1 agreement 92.0 % now, 97.0 % with this layer alone at FP32". */
export function taskGainText(task: TaskGain): string {
  return `${PRIMARY_FIGURE[task.task].label} ${percent(task.before)} now, ${percent(task.after)} with this layer alone at FP32`;
}
