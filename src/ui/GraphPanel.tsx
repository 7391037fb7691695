import { useMemo } from 'react';
import { precisionOf } from '../core/model/QTable';
import { nothingToQuantize, useApp, type Metric } from '../state/store';
import { isRunning } from '../state/slices/jobs';
import { GraphView } from './graph/GraphView';
import { HeatLegend } from './graph/HeatLegend';
import { heatScale } from './heat';
import { useLayerErrors, useLayerInfo, useSensitivities } from './hooks';
import { METRIC_LABEL } from './format';

/** The graph with the per-layer error heatmap, the metric switch and the legend. */
export function GraphPanel() {
  const model = useApp((s) => s.model);
  const layout = useApp((s) => s.layout);
  const metric = useApp((s) => s.metric);
  const setMetric = useApp((s) => s.setMetric);
  const selected = useApp((s) => s.selected);
  const select = useApp((s) => s.select);
  const qtable = useApp((s) => s.qtable);
  const layerEvaluating = useApp((s) => isRunning(s.jobs, 'evaluate:layers'));
  const errors = useLayerErrors();
  const sensitivities = useSensitivities();
  const info = useLayerInfo();
  const nothing = useApp(nothingToQuantize);

  const heat = useMemo(() => {
    if (metric === 'sensitivity') return sensitivities.size ? sensitivities : null;
    if (errors.size === 0) return null;
    return new Map([...errors].map(([layer, e]) => [layer, e[metric]]));
  }, [errors, sensitivities, metric]);
  const scale = useMemo(() => heatScale(metric, heat ? [...heat.values()] : []), [heat, metric]);
  const badges = useMemo(() => {
    const map = new Map<string, string>();
    for (const [layer, i] of info) {
      const p = i.quantizable ? precisionOf(qtable, layer) : null;
      if (p && p !== qtable.defaultPrecision) map.set(layer, p);
    }
    return map;
  }, [info, qtable]);

  if (!model) return null;
  return (
    <div className="graph-panel">
      <GraphView graph={model.graph} layout={layout} heat={heat} colorOf={scale.colorOf} badges={badges} selected={selected} onSelect={select} />
      <div className="graph-overlay">
        <div className="metric-switch" role="radiogroup" aria-label="Heatmap metric">
          {(['cos', 'sqnr', 'mse', ...(sensitivities.size ? ['sensitivity'] : [])] as Metric[]).map((m) => (
            <button key={m} className={`seg${metric === m ? ' on' : ''}`} onClick={() => setMetric(m)} data-testid={`metric-${m}`} role="radio" aria-checked={metric === m}>{METRIC_LABEL[m]}</button>
          ))}
        </div>
        {heat ? <HeatLegend label={scale.label} domain={scale.domain} colorOf={scale.colorOf} /> : <div className="legend-empty muted" title={nothing ?? undefined}>{metric === 'sensitivity' ? 'Run a sensitivity search (Search tab)' : nothing ? 'Nothing to quantize: no heatmap' : layerEvaluating ? 'Measuring every layer…' : 'Heatmap appears after calibration'}</div>}
        {layerEvaluating && heat && <div className="legend-empty muted">Updating…</div>}
      </div>
    </div>
  );
}
