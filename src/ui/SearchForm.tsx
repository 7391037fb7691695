import { CALIBRATION_METHODS, type CalibrationMethod } from '../core/model/CaliTable';
import { SEARCH_LABEL } from '../core/search/describe';
import type { SearchRequest } from '../core/search/SearchRequest';
import type { SearchKind } from '../core/search/SearchSession';
import { parseCompareLayers, SEARCH_METRIC_LABEL, SEARCH_METRICS, type SearchMetricKind } from '../core/search/scoring/searchMetric';
import { findLayer } from '../core/search/rules';
import { errorMessage } from '../core/errors';
import { useState } from 'react';
import { cancelJob, runSearch, searchRequestOf, updateSearchRequest } from '../state/actions';
import { isSearching, nothingToQuantize, useApp } from '../state/store';
import { METHOD_LABEL } from './CalibrationPanel';

const KINDS: readonly SearchKind[] = ['sensitive', 'qtable', 'run_qtable', 'bisection', 'fp_forward', 'pattern', 'pattern_resolver'];

/** A number field that commits on blur when the value is valid. */
function NumberField({ label, value, min, max, step, onChange, testId, title }: {
  label: string; value: number; min?: number; max?: number; step?: number; onChange: (n: number) => void; testId: string; title?: string;
}) {
  return (
    <label title={title}>{label}
      <input className="input" type="number" defaultValue={value} key={`${testId}-${value}`} min={min} max={max} step={step} data-testid={testId}
        onBlur={(e) => { const n = Number(e.target.value); if (e.target.value !== '' && Number.isFinite(n) && (min === undefined || n >= min) && (max === undefined || n <= max) && n !== value) onChange(n); }} />
    </label>
  );
}

function MethodPicker({ methods, onChange }: { methods: readonly CalibrationMethod[]; onChange: (m: CalibrationMethod[]) => void }) {
  return (
    <fieldset className="method-picker" data-testid="search-methods">
      <legend>Methods tried per layer</legend>
      {CALIBRATION_METHODS.map((m) => (
        <label key={m} className="check">
          <input type="checkbox" checked={methods.includes(m)} onChange={(e) => {
            const next = e.target.checked ? [...methods, m] : methods.filter((x) => x !== m);
            if (next.length) onChange(CALIBRATION_METHODS.filter((x) => next.includes(x)));
          }} />{METHOD_LABEL[m]}
        </label>
      ))}
    </fieldset>
  );
}

/** A comma-separated list of layer names, with a button that adds the layer selected on the graph. */
function LayerList({ label, value, onChange, testId }: { label: string; value: readonly string[]; onChange: (v: string[]) => void; testId: string }) {
  const selected = useApp((s) => s.selected);
  return (
    <label>{label}
      <span className="row-inline">
        <input className="input" defaultValue={value.join(',')} key={`${testId}-${value.join(',')}`} placeholder="layer names, comma separated" data-testid={testId}
          onBlur={(e) => onChange(e.target.value.split(',').map((s) => s.trim()).filter(Boolean))} />
        <button type="button" className="btn small" disabled={!selected || value.includes(selected)} onClick={() => selected && onChange([...value, selected])}
          title="Add the layer selected on the graph" data-testid={`${testId}-add`}>+ selected</button>
      </span>
    </label>
  );
}

/**
 * TPU-MLIR's global_compare_layers: score named layers (with weights) instead of the graph outputs.
 * Names are layer names, output tensors or TPU-MLIR's <tensor>_<OpType>.
 */
function CompareLayers({ request }: { request: SearchRequest }) {
  const graph = useApp((s) => s.model?.graph);
  const [error, setError] = useState<string | null>(null);
  const text = request.metric.compare.map((c) => `${c.tensor}:${+c.weight.toFixed(4)}`).join(',');
  const commit = (value: string) => {
    if (!graph) return;
    try {
      const compare = parseCompareLayers(value, (name) => findLayer(graph, name)?.outputs[0] ?? (graph.nodes.some((n) => n.outputs.includes(name)) ? name : undefined));
      setError(null);
      updateSearchRequest({ ...request, metric: { ...request.metric, compare } });
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <label title="TPU-MLIR global_compare_layers: layer1,layer2 or layer1:0.3,layer2:0.7. Empty: the graph outputs.">compare layers (global_compare_layers)
      <input className="input" defaultValue={text} key={text} placeholder="the graph outputs" onBlur={(e) => commit(e.target.value)} aria-invalid={error !== null} data-testid="search-compare" />
      {error && <span className="field-error" data-testid="search-compare-error">{error}</span>}
    </label>
  );
}

/** The search kind, its parameters (the toolchain's names and defaults), the metric, and Run / Cancel. */
export function SearchForm() {
  const kind = useApp((s) => s.searchKind);
  const setKind = useApp((s) => s.setSearchKind);
  useApp((s) => s.searchRequests[kind]); // re-render when the form's request changes
  const run = useApp((s) => (isSearching(s.searchRun) ? s.searchRun : null));
  const calibrated = useApp((s) => s.calibration !== null);
  const nothing = useApp(nothingToQuantize);
  const selected = useApp((s) => s.selected);
  const request = searchRequestOf(kind);
  const set = (patch: Partial<SearchRequest['options']>) => updateSearchRequest({ ...request, options: { ...request.options, ...patch } } as SearchRequest);
  const setMetric = (metric: SearchMetricKind) => updateSearchRequest({ ...request, metric: { ...request.metric, kind: metric } });
  return (
    <div className="search-form" data-testid="search-form">
      <label>Search
        <select value={kind} onChange={(e) => setKind(e.target.value as SearchKind)} data-testid="search-kind">
          {KINDS.map((k) => <option key={k} value={k}>{SEARCH_LABEL[k]}</option>)}
        </select>
      </label>
      <div className="form-grid">
        {(request.kind === 'sensitive' || request.kind === 'qtable' || request.kind === 'run_qtable') && (
          <NumberField label="expected score" value={request.options.expected} step={0.001} onChange={(expected) => set({ expected })} testId="search-expected"
            title={`Stop when the output reaches this (${request.metric.kind === 'rescaled_cos' ? "TPU-MLIR's expected_cos, on its 0.5+0.5·cos scale" : 'on the metric\'s scale'})`} />
        )}
        {(request.kind === 'sensitive' || request.kind === 'qtable') && (
          <NumberField label="max_float_layers" value={request.options.maxFloatLayers} min={0} step={1} onChange={(maxFloatLayers) => set({ maxFloatLayers })} testId="search-max-float" />
        )}
        {request.kind === 'run_qtable' && (
          <NumberField label="min_layer_cos" value={request.options.minLayerCos} min={-1} max={1} step={0.001} onChange={(minLayerCos) => set({ minLayerCos })} testId="search-min-layer-cos" />
        )}
        {request.kind === 'bisection' && (
          <>
            <NumberField label="qerror_ratio" value={request.options.qerrorRatio} min={0} max={1} step={0.05} onChange={(qerrorRatio) => set({ qerrorRatio })} testId="search-qerror-ratio"
              title="0: as accurate as all-INT16; 1: as small as all-INT8" />
            <label title="Which side of the cut is INT16: the inputs' (true), the outputs' (false), or the side with more layer error (auto)">bisection
              <select value={request.options.mode} onChange={(e) => set({ mode: e.target.value as 'auto' | 'true' | 'false' })} data-testid="search-bisection-mode">
                <option value="auto">auto</option><option value="true">true (front INT16)</option><option value="false">false (back INT16)</option>
              </select>
            </label>
          </>
        )}
        {(request.kind === 'sensitive' || request.kind === 'qtable' || request.kind === 'run_qtable' || request.kind === 'fp_forward' || request.kind === 'pattern') && (
          <label>fp_type
            <select value={request.options.fpType} onChange={(e) => set({ fpType: e.target.value as 'FP32' | 'FP16' })} data-testid="search-fp-type">
              <option value="FP32">FP32</option><option value="FP16">FP16</option>
            </select>
          </label>
        )}
        {request.kind === 'qtable' && (
          <label className="check" title="k-means (k = 2) on [loss, SQNR] per layer: the high-loss cluster goes float">
            <input type="checkbox" checked={request.options.cluster} onChange={(e) => set({ cluster: e.target.checked })} data-testid="search-cluster" /> cluster
          </label>
        )}
        {request.kind === 'pattern_resolver' && (
          <>
            <label className="check"><input type="checkbox" checked={request.options.layerNorm} onChange={(e) => set({ layerNorm: e.target.checked })} /> LayerNorm: INT16 variance</label>
            <label className="check"><input type="checkbox" checked={request.options.softmax} onChange={(e) => set({ softmax: e.target.checked })} /> Softmax: INT16 Sub, Exp</label>
          </>
        )}
        <label title="What the search scores configurations by">metric
          <select value={request.metric.kind} onChange={(e) => setMetric(e.target.value as SearchMetricKind)} data-testid="search-metric">
            {SEARCH_METRICS.map((m) => <option key={m} value={m}>{SEARCH_METRIC_LABEL[m]}</option>)}
          </select>
        </label>
      </div>
      <CompareLayers request={request} />
      {(request.kind === 'sensitive' || request.kind === 'qtable') && <MethodPicker methods={request.options.methods} onChange={(methods) => set({ methods })} />}
      {request.kind === 'fp_forward' && (
        <div className="fp-forward">
          <LayerList label="Float everything before (fpfwd_inputs)" value={request.options.inputs} onChange={(inputs) => set({ inputs })} testId="fpfwd-inputs" />
          <LayerList label="Float everything after (fpfwd_outputs)" value={request.options.outputs} onChange={(outputs) => set({ outputs })} testId="fpfwd-outputs" />
          <LayerList label="Float between: block starts" value={request.options.blocks[0]?.starts ?? []} onChange={(starts) => set({ blocks: starts.length ? [{ starts, ends: request.options.blocks[0]?.ends ?? [] }] : [] })} testId="fpfwd-block-starts" />
          <LayerList label="… and block ends" value={request.options.blocks[0]?.ends ?? []} onChange={(ends) => set({ blocks: [{ starts: request.options.blocks[0]?.starts ?? [], ends }] })} testId="fpfwd-block-ends" />
        </div>
      )}
      <div className="row-inline">
        {run
          ? <button className="btn" onClick={() => cancelJob(run.jobId, { stopNow: true })} data-testid="search-cancel">Cancel search</button>
          : <button className="btn primary" disabled={!calibrated || nothing !== null} title={nothing ? `Nothing to quantize: ${nothing}` : undefined} onClick={() => void runSearch()} data-testid="search-run">Run {SEARCH_LABEL[kind]}</button>}
        {kind === 'fp_forward' && selected && <span className="muted note">Selected: {selected}</span>}
      </div>
    </div>
  );
}
