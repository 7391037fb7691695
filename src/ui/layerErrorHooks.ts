import { useMemo } from 'react';
import type { LocalErrors } from '../core/model/Evaluation';
import type { LayerName } from '../core/model/ModelGraph';
import type { SearchMetricKind } from '../core/search/scoring/searchMetric';
import { useApp } from '../state/store';
import { floatGains, type GainView } from './floatGains';

/** No local errors yet: one object, so that components reading it do not re-render for nothing. */
const NO_LOCAL: LocalErrors = {};

/** The local errors of the latest full evaluation, by layer (empty until measured). */
export function useLocalErrors(): LocalErrors {
  return useApp((s) => s.layerEvaluation?.local) ?? NO_LOCAL;
}

export interface FloatGainsView {
  readonly gains: ReadonlyMap<LayerName, GainView>;
  /** The metric of the ranking the estimates come from; undefined without a ranking. */
  readonly rankingMetric: SearchMetricKind | undefined;
}

/**
 * Each layer's float gain under the current QTable (floatGains.ts): measured on demand, else
 * estimated from the sensitivity ranking running now or the last one that finished.
 */
export function useFloatGains(): FloatGainsView {
  const measured = useApp((s) => s.floatGains);
  const calibration = useApp((s) => s.calibration);
  const qtable = useApp((s) => s.qtable);
  const running = useApp((s) => s.searchRun?.sensitivities);
  const runningMetric = useApp((s) => s.searchRun?.request.metric.kind);
  const revision = useApp((s) => s.searchRun?.revision);
  const finished = useApp((s) => s.searchResult?.ranking);
  const finishedMetric = useApp((s) => s.searchResult?.metric.kind);
  return useMemo(() => {
    const fromRun = Boolean(running?.length);
    const ranking = fromRun ? running! : finished ?? [];
    const metric = ranking.length ? (fromRun ? runningMetric : finishedMetric) : undefined;
    return { gains: floatGains(measured, (g) => g.calibration === calibration, qtable, ranking, metric), rankingMetric: metric };
    // revision: the running ranking grows in place
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [measured, calibration, qtable, running, revision, runningMetric, finished, finishedMetric]);
}
