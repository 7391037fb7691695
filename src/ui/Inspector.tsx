import { Fragment, useMemo } from 'react';
import type { LayerName, ModelGraph } from '../core/model/ModelGraph';
import { EDITABLE_PRECISIONS, type Precision } from '../core/model/QTable';
import { quantizerAbsence } from '../core/quant/fusedTensors';
import { layerPrecision } from '../core/quant/layerInfo';
import { effectivePrecision, TARGET_SCHEMES } from '../core/quant/schemes';
import { floatFromSelection, markBlock, setPrecision } from '../state/actions';
import { isSearching, useApp } from '../state/store';
import { useCaliTable, useLayerErrors, useLayerInfo, useSensitivities } from './hooks';
import { LayerCalibration } from './LayerCalibration';
import { LayerErrorsSection } from './LayerErrorsSection';
import { WeightChannels } from './WeightChannels';

function formatAttribute(value: unknown): string {
  if (Array.isArray(value)) return `[${value.slice(0, 8).join(', ')}${value.length > 8 ? ', …' : ''}]`;
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  if (value && typeof value === 'object') return 'tensor' in value ? `tensor [${(value as { tensor: number[] }).tensor.join('×')}]` : 'subgraph';
  return String(value);
}

/**
 * fp_forward on the graph: keep everything before or after this layer in float, or mark it as the
 * start or end of a block and keep what lies between in float. Sensitivity, when a search measured it.
 */
function FloatRegion({ layer }: { layer: string }) {
  const request = useApp((s) => s.searchRequests.fp_forward);
  const running = useApp((s) => isSearching(s.searchRun));
  const sensitivity = useSensitivities().get(layer);
  const block = request?.kind === 'fp_forward' ? request.options.blocks[0] : undefined;
  const start = block?.starts[0];
  const end = block?.ends[0];
  return (
    <section data-testid="float-region">
      <h4>Keep in float (fp_forward)</h4>
      {sensitivity !== undefined && <p className="muted note">Sensitivity (loss with only this layer quantized): <b data-testid="layer-sensitivity">{sensitivity.toExponential(3)}</b></p>}
      <div className="row-inline wrap">
        <button className="btn small" disabled={running} onClick={() => void floatFromSelection('before', layer)} data-testid="float-before">Everything before</button>
        <button className="btn small" disabled={running} onClick={() => void floatFromSelection('after', layer)} data-testid="float-after">Everything after</button>
        <button className="btn small ghost" onClick={() => markBlock('start', layer)} data-testid="block-start">Block start</button>
        <button className="btn small ghost" onClick={() => markBlock('end', layer)} data-testid="block-end">Block end</button>
      </div>
      {(start || end) && (
        <div className="row-inline wrap">
          <span className="muted note">Between <code>{start ?? '?'}</code> and <code>{end ?? '?'}</code></span>
          <button className="btn small" disabled={!start || !end || running} onClick={() => void floatFromSelection('between', layer)} data-testid="float-between">Float between</button>
        </div>
      )}
    </section>
  );
}

/**
 * A layer output with no quantizer under the QTable (fused into its activation at the same integer
 * precision, docs/algorithms.md "Fusion"; or made and read by float layers only): a method or
 * threshold chosen for it is kept, but changes no figure until the precisions around it change.
 * Said here rather than left for the user to find.
 */
function UnquantizedNote({ graph, tensor, precisions }: { readonly graph: ModelGraph; readonly tensor: string; readonly precisions: ReadonlyMap<LayerName, Precision> }) {
  // Indexes the whole graph: once per tensor and QTable, not on every render of the inspector.
  const absence = useMemo(() => quantizerAbsence(graph, tensor, precisions), [graph, tensor, precisions]);
  if (!absence) return null;
  const [why, until] = 'fusedInto' in absence
    ? [<>is fused into <code>{absence.fusedInto.name}</code>: while both run at the same integer precision no quantizer sits between them</>, 'once the two run at different precisions']
    : [<>is made and read by float layers only: no quantizer sits on it</>, 'once a layer next to it is quantized'];
  return <p className="muted note" data-testid="unquantized-note"><code>{tensor}</code> {why}, so its range, method or threshold changes no figure. It applies {until}.</p>;
}

/** The selected layer: its precision, its error, its tensors and attributes. */
export function Inspector() {
  const model = useApp((s) => s.model);
  const selected = useApp((s) => s.selected);
  const qtable = useApp((s) => s.qtable);
  const layerEvaluation = useApp((s) => s.layerEvaluation);
  const info = useLayerInfo();
  const errors = useLayerErrors();
  const ranges = useCaliTable();
  const scheme = useApp((s) => s.scheme);
  // Each layer's precision under the QTable: whether the selected output sits fused into its activation.
  const precisions = useMemo(() => new Map((model?.graph.nodes ?? []).map((n) => [n.name, effectivePrecision(info.get(n.name), qtable, TARGET_SCHEMES[scheme])])), [model, info, qtable, scheme]);
  if (!model) return <aside className="inspector" />;
  const node = selected ? model.graph.nodes.find((n) => n.name === selected) : undefined;
  if (!node) {
    return (
      <aside className="inspector" data-testid="inspector">
        <div className="empty-state small">
          <h3>No layer selected</h3>
          <p>Click a node in the graph or a row in the table to see its error and set its precision.</p>
        </div>
      </aside>
    );
  }
  const layer = info.get(node.name);
  // A layer that cannot be quantized has no precision to pick: none of the choices is shown as set.
  const precision = layer?.quantizable ? layerPrecision(qtable, layer) : null;
  const notQuantizable = layer?.quantizable ? null : `not quantizable: ${layer?.reason ?? 'qbench does not quantize this operator'}`;
  const error = errors.get(node.name);
  const stale = layerEvaluation && error && precision !== null && error.precision !== precision;
  const weights = new Map(model.graph.weights.map((w) => [w.name, w]));
  return (
    <aside className="inspector" data-testid="inspector">
      <div className="inspector-head">
        <span className="chip op">{node.opType}</span>
        <h3 className="layer-name" data-testid="inspector-layer" title={node.name}>{node.name}</h3>
      </div>
      <section>
        <h4>Precision</h4>
        <div className="precision-select" role="radiogroup" aria-label="Layer precision" aria-disabled={notQuantizable !== null} title={notQuantizable ?? undefined}>
          {EDITABLE_PRECISIONS.map((p) => (
            <button
              key={p}
              className={`seg${precision === p ? ' on' : ''}`}
              disabled={notQuantizable !== null}
              onClick={() => setPrecision(node.name, p)}
              data-testid={`precision-${p}`}
              role="radio"
              aria-checked={precision === p}
            >{p}</button>
          ))}
        </div>
        {layer?.operator && <p className="muted note" data-testid="part-of-operator">Converted as part of the file's operator <code>{layer.operator}</code>: it takes that operator's precision, and the QTable names the operator.</p>}
        {notQuantizable && <p className="muted note" data-testid="not-quantizable">Not quantizable: {layer?.reason ?? 'qbench does not quantize this operator'}. It runs as in the model; no precision applies to it.</p>}
      </section>
      <FloatRegion layer={node.name} />
      <LayerErrorsSection layer={node.name} error={error} precision={precision} stale={Boolean(stale)} />
      {error?.tensor && (
        <section>
          <h4>Calibration of its output</h4>
          <UnquantizedNote graph={model.graph} tensor={error.tensor} precisions={precisions} />
          <LayerCalibration tensor={error.tensor} />
        </section>
      )}
      {model.graph.weights.some((w) => node.inputs.includes(w.name)) && (
        <section>
          <h4>Weights</h4>
          <WeightChannels layer={node.name} />
        </section>
      )}
      <section>
        <h4>Outputs</h4>
        <ul className="tensors">
          {node.outputs.filter(Boolean).map((t) => {
            const r = ranges.get(t);
            return <li key={t}><code>{t}</code>{r && <span className="muted"> range [{r.min.toPrecision(4)}, {r.max.toPrecision(4)}]</span>}</li>;
          })}
        </ul>
        <h4>Inputs</h4>
        <ul className="tensors">
          {node.inputs.filter(Boolean).map((t, i) => {
            const w = weights.get(t);
            const r = ranges.get(t);
            return (
              <li key={`${t}-${i}`}><code>{t}</code>
                {w ? <span className="muted"> weight [{w.dims.join('×')}]</span> : r ? <span className="muted"> range [{r.min.toPrecision(4)}, {r.max.toPrecision(4)}]</span> : null}
              </li>
            );
          })}
        </ul>
      </section>
      {Object.keys(node.attributes).length > 0 && (
        <section>
          <h4>Attributes</h4>
          <dl className="attributes">
            {Object.entries(node.attributes).map(([k, v]) => (<Fragment key={k}><dt>{k}</dt><dd>{formatAttribute(v)}</dd></Fragment>))}
          </dl>
        </section>
      )}
    </aside>
  );
}
