import { useCallback, useEffect, useMemo } from 'react';
import { layerPrecision } from '../core/quant/layerInfo';
import { measureLocalErrors, watchLocalErrors } from '../state/layerErrorActions';
import { nothingToQuantize, useApp, type Metric } from '../state/store';
import { isRunning } from '../state/slices/jobs';
import { ScopedGraphView } from './graph/ScopedGraphView';
import { describeNode } from './graph/nodeDetails';
import { HeatLegend } from './graph/HeatLegend';
import { rankingGivesCosine, type GainView } from './floatGains';
import { heatScale } from './heat';
import { useLayerErrors, useLayerInfo, useSensitivities } from './hooks';
import { useFloatGains, useLocalErrors } from './layerErrorHooks';
import { formatMetric, METRIC_LABEL } from './format';
import { graphSelection } from './tableSelection';

const METRIC_TITLE: Record<Metric, string> = {
  cos: 'Accumulated cosine: every layer at its QTable precision, this layer\'s output against float',
  local: 'Local cosine: this layer alone quantized as the QTable says, fed float inputs',
  sqnr: 'Accumulated SQNR in dB',
  mse: 'Accumulated MSE',
  sensitivity: 'What setting the layer to FP32 gains on the output (measured, or the sensitivity ranking)',
};

/** The legend's words for float gains: where the figures come from. */
function gainLabel(gains: ReadonlyMap<string, GainView>): string {
  const estimated = [...gains.values()].some((g) => g.source === 'ranking');
  return estimated
    ? 'Float gain (log): measured, else the Sensitivity ranking\'s 1 − cos with only the layer quantized'
    : 'Float gain (log): output cos gained with the layer at FP32';
}

/** The graph with the per-layer error heatmap, the metric switch and the legend. */
export function GraphPanel() {
  const model = useApp((s) => s.model);
  const layout = useApp((s) => s.layout);
  const metric = useApp((s) => s.metric);
  const setMetric = useApp((s) => s.setMetric);
  const selected = useApp((s) => s.selected);
  const selection = useApp((s) => s.selection);
  const setSelection = useApp((s) => s.setSelection);
  // Shift/Ctrl-click builds a multi-selection the table's "Set selection to …" applies (issue #13).
  const onSelect = useCallback((layer: string | null, keys?: { readonly toggle: boolean; readonly add: boolean }) => {
    const next = graphSelection(useApp.getState().selection, layer, keys);
    setSelection(next.selection, next.primary);
  }, [setSelection]);
  // A box drawn in the graph: its layers join the selection (add) or replace it, in one store update.
  const onSelectMany = useCallback((layers: readonly string[], add: boolean) => {
    if (layers.length === 0) return;
    const base = add ? useApp.getState().selection : [];
    const next = [...new Set([...base, ...layers])];
    setSelection(next, layers[layers.length - 1]);
  }, [setSelection]);
  const qtable = useApp((s) => s.qtable);
  const layerEvaluating = useApp((s) => isRunning(s.jobs, 'evaluate:layers'));
  const measuringLocal = useApp((s) => s.measuringLocal !== null);
  const heatFit = useApp((s) => s.heatFit);
  const setHeatFit = useApp((s) => s.setHeatFit);
  const pinned = useApp((s) => s.pinnedHeat[s.metric]);
  const pinHeat = useApp((s) => s.pinHeat);
  const errors = useLayerErrors();
  const local = useLocalErrors();
  const sensitivities = useSensitivities();
  const { gains, rankingMetric } = useFloatGains();
  const info = useLayerInfo();
  const nothing = useApp(nothingToQuantize);

  // Every full evaluation is followed by its local errors (a job of their own, after the heatmap).
  useEffect(() => {
    void measureLocalErrors();
    return watchLocalErrors();
  }, []);

  // Float gains in output cosine, unless the last ranking scored another metric (its losses then show as they are).
  const gainMode = rankingMetric === undefined || rankingGivesCosine(rankingMetric);
  const heat = useMemo(() => {
    if (metric === 'sensitivity') {
      if (!gainMode) return sensitivities.size ? sensitivities : null;
      return gains.size ? new Map([...gains].map(([layer, g]) => [layer, g.gain])) : null;
    }
    if (metric === 'local') {
      const entries = Object.entries(local);
      return entries.length ? new Map(entries.map(([layer, m]) => [layer, m.cos])) : null;
    }
    if (errors.size === 0) return null;
    return new Map([...errors].map(([layer, e]) => [layer, e[metric]]));
  }, [errors, local, gains, sensitivities, gainMode, metric]);
  const scale = useMemo(
    () => heatScale(metric, heat ? [...heat.values()] : [], { fit: heatFit, pinned, sensitivity: gainMode ? 'gain' : 'loss', ...(metric === 'sensitivity' && gainMode ? { label: gainLabel(gains) } : {}) }),
    [heat, metric, heatFit, pinned, gainMode, gains],
  );
  const warned = useApp((s) => s.outputEvaluation?.warnings);
  const badges = useMemo(() => {
    const map = new Map<string, string>();
    for (const [layer, i] of info) {
      const p = i.quantizable ? layerPrecision(qtable, i) : null;
      if (p && p !== qtable.defaultPrecision) map.set(layer, p);
    }
    // A layer an evaluation warning names (issue #11) carries the warning on the graph too.
    for (const w of warned ?? []) if (w.layer) map.set(w.layer, `⚠${map.has(w.layer) ? ` ${map.get(w.layer)}` : ''}`);
    return map;
  }, [info, qtable, warned]);

  // The hover tooltip's figures: what the table says about the layer, without leaving the graph.
  const describe = useCallback(
    (id: string) => (model ? describeNode(id, { graph: model.graph, info, qtable, errors, local, gains }) : null),
    [model, info, qtable, errors, local, gains],
  );

  // A collapsed group's figure: its worst layer's, in the metric's words.
  const formatHeat = useCallback((value: number) => `${metric === 'sensitivity' ? 'gain' : metric === 'local' ? 'local' : metric} ${formatMetric(metric, value)}`, [metric]);

  if (!model) return null;
  const hasGains = gainMode ? gains.size > 0 : sensitivities.size > 0;
  const modes: Metric[] = ['cos', 'local', 'sqnr', 'mse', ...(hasGains ? ['sensitivity' as const] : [])];
  const empty = metric === 'sensitivity'
    ? 'Run a sensitivity search (Search tab) or measure a layer\'s float gain (inspector)'
    : nothing ? 'Nothing to quantize: no heatmap'
      : layerEvaluating ? 'Measuring every layer…'
        : metric === 'local' && measuringLocal ? 'Measuring each layer alone…'
          : metric === 'local' && errors.size ? 'Local errors follow the heatmap'
            : 'Heatmap appears after calibration';
  return (
    <div className="graph-panel">
      <ScopedGraphView graph={model.graph} layout={layout} heat={heat} colorOf={scale.colorOf} badges={badges} selected={selected} selection={selection} onSelect={onSelect} onSelectMany={onSelectMany} describe={describe}
        worseIsHigher={metric === 'mse' || metric === 'sensitivity'} formatHeat={formatHeat} />
      <div className="graph-overlay">
        <div className="metric-switch" role="radiogroup" aria-label="Heatmap metric">
          {modes.map((m) => (
            <button key={m} className={`seg${metric === m ? ' on' : ''}`} onClick={() => setMetric(m)} data-testid={`metric-${m}`} role="radio" aria-checked={metric === m} title={METRIC_TITLE[m]}>
              {m === 'sensitivity' && gainMode ? 'Float gain' : METRIC_LABEL[m]}
            </button>
          ))}
        </div>
        {heat
          ? <HeatLegend label={scale.label} domain={scale.domain} colorAt={scale.colorAt} ticks={scale.ticks} range={scale.range}
            onFit={metric !== 'sensitivity' || gainMode ? setHeatFit : undefined} onPin={(pin) => pinHeat(metric, pin ? scale.domain : null)} />
          : <div className="legend-empty muted" title={nothing ?? undefined}>{empty}</div>}
        {(layerEvaluating || (metric === 'local' && measuringLocal)) && heat && <div className="legend-empty muted">Updating…</div>}
      </div>
    </div>
  );
}
