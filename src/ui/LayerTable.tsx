import { useMemo, useRef, useState, type MouseEvent } from 'react';
import { EDITABLE_PRECISIONS, type Precision } from '../core/model/QTable';
import { naturalCompare } from '../core/naturalSort';
import { layerPrecision } from '../core/quant/layerInfo';
import { layerFilter } from '../core/rules/layerFilter';
import { resetPrecisions, setPrecisions } from '../state/ruleActions';
import { useApp } from '../state/store';
import { RulesPanel } from './rules/RulesPanel';
import { nextSelection } from './tableSelection';
import './LayerTable.css';
import { formatMetric } from './format';
import { useFloatForLackOfRanges, useLayerErrors, useLayerInfo } from './hooks';
import { useFloatGains, useLocalErrors } from './layerErrorHooks';
import { formatGain, formatTaskGain, taskGainText, type GainView } from './floatGains';
import { useRowKeys } from './tableKeys';

type Column = 'name' | 'op' | 'precision' | 'cos' | 'local' | 'sqnr' | 'mse' | 'gain' | 'taskGain';
const ROW_HEIGHT = 26;
const COLUMNS: { id: Column; label: string; numeric?: boolean; title?: string }[] = [
  { id: 'name', label: 'Layer' },
  { id: 'op', label: 'Op' },
  { id: 'precision', label: 'Precision' },
  { id: 'cos', label: 'Cosine', numeric: true, title: 'Accumulated: every layer at its QTable precision, this layer\'s output against float' },
  { id: 'local', label: 'Local cos', numeric: true, title: 'Local: this layer alone quantized as the QTable says, fed float inputs (none for a float layer)' },
  { id: 'sqnr', label: 'SQNR', numeric: true, title: 'Accumulated SQNR' },
  { id: 'mse', label: 'MSE', numeric: true, title: 'Accumulated MSE' },
  { id: 'gain', label: 'Float gain', numeric: true, title: 'Output cos gained by setting the layer to FP32: measured (inspector), or ≈ the sensitivity ranking\'s estimate' },
  { id: 'taskGain', label: 'Task at FP32', numeric: true, title: 'The header\'s task figure (top-1 agreement, detection F1, map IoU...) with the layer at FP32, and its change in points; measured with the float gain' },
];

interface Row {
  readonly name: string;
  readonly op: string;
  /** The tensors it writes (the filter searches them). */
  readonly outputs: readonly string[];
  readonly precision: Precision;
  readonly quantizable: boolean;
  /** Why the layer takes no precision, when it is not quantizable. */
  readonly reason?: string;
  readonly cos?: number;
  readonly sqnr?: number;
  readonly mse?: number;
  readonly local?: number;
  /** Sorted by its gain; drawn with where it comes from. */
  readonly gain?: number;
  readonly gainView?: GainView;
  /** Sorted by the task figure's change (points gained at FP32). */
  readonly taskGain?: number;
}

/** What setting the layer to FP32 changes the task figure by, where it was measured. */
const taskChange = (view: GainView | undefined): number | undefined => (view?.task ? view.task.after - view.task.before : undefined);

/** The current QTable as a table: every layer, its precision and errors; sortable, filterable, windowed. */
export function LayerTable() {
  const model = useApp((s) => s.model);
  const qtable = useApp((s) => s.qtable);
  const selected = useApp((s) => s.selected);
  const selection = useApp((s) => s.selection);
  const setSelection = useApp((s) => s.setSelection);
  const ruleCount = useApp((s) => s.rules.length);
  const selectedSet = useMemo(() => new Set(selection), [selection]);
  // Shift-click selects from here (the last row clicked without Shift)
  const anchor = useRef<string | null>(null);
  const [showRules, setShowRules] = useState(false);
  const info = useLayerInfo();
  const errors = useLayerErrors();
  const floatForLackOfRanges = useFloatForLackOfRanges();
  const local = useLocalErrors();
  const { gains } = useFloatGains();
  const warnings = useApp((s) => s.outputEvaluation?.warnings);
  const warningOf = useMemo(() => new Map((warnings ?? []).filter((w) => w.layer).map((w) => [w.layer!, w.message])), [warnings]);
  const [sort, setSort] = useState<{ column: Column; ascending: boolean }>({ column: 'cos', ascending: true });
  const [filter, setFilter] = useState('');
  const [scrollTop, setScrollTop] = useState(0);
  const [onlyChanged, setOnlyChanged] = useState(false);
  const body = useRef<HTMLDivElement>(null);

  const parsedFilter = useMemo(() => layerFilter(filter), [filter]);
  const rows = useMemo(() => {
    const matches = parsedFilter.test;
    const list: Row[] = (model?.graph.nodes ?? [])
      // The QTable's layers: a node a .tflite/.circle conversion added belongs to its operator's row (LayerInfo.operator).
      .filter((n) => !info.get(n.name)?.operator)
      .map((n) => {
        const i = info.get(n.name);
        const e = errors.get(n.name);
        const untaken = floatForLackOfRanges.has(n.name);
        return { name: n.name, op: n.opType, outputs: n.outputs, precision: i?.quantizable && !untaken ? layerPrecision(qtable, i) : 'FP32', quantizable: !!i?.quantizable && !untaken, reason: untaken ? 'no calibration sample ran its branch, so it has no ranges' : i?.quantizable ? undefined : i?.reason ?? 'not quantizable', cos: e?.cos, sqnr: e?.sqnr, mse: e?.mse, local: local[n.name]?.cos, gain: gains.get(n.name)?.gain, gainView: gains.get(n.name), taskGain: taskChange(gains.get(n.name)) } as Row;
      })
      .filter((r) => matches !== null && matches(r))
      .filter((r) => !onlyChanged || (r.quantizable && r.precision !== qtable.defaultPrecision));
    const { column, ascending } = sort;
    const sign = ascending ? 1 : -1;
    list.sort((a, b) => {
      const x = a[column];
      const y = b[column];
      if (x === undefined && y === undefined) return 0;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      // names in natural order (Add.9 before Add.10), also between rows with equal figures
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : naturalCompare(String(x), String(y));
      return (order || naturalCompare(a.name, b.name)) * sign;
    });
    return list;
  }, [model, info, errors, local, gains, floatForLackOfRanges, qtable, sort, parsedFilter, onlyChanged]);

  const onRowClick = (event: MouseEvent, name: string) => {
    const next = nextSelection({ selection, anchor: anchor.current, order: rows.map((r) => r.name) }, name, { range: event.shiftKey, toggle: event.ctrlKey || event.metaKey });
    anchor.current = next.anchor;
    setSelection(next.selection, next.primary);
  };
  const selectedQuantizable = useMemo(() => rows.filter((r) => r.quantizable && selectedSet.has(r.name)).length, [rows, selectedSet]);
  // Keyboard: Tab reaches one row, arrows move, Enter selects (issue 13, item 6).
  const rowNames = useMemo(() => rows.map((r) => r.name), [rows]);
  const rowKeys = useRowKeys(body, rowNames, ROW_HEIGHT, selected, (name) => setSelection([name], name));

  const height = body.current?.clientHeight ?? 400;
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + 5);

  return (
    <div className={`layer-table extras-${(showRules ? 1 : 0) + (selection.length > 1 ? 1 : 0)}`} data-testid="layer-table">
      <div className="table-tools">
        <input className={`input${parsedFilter.test ? '' : ' invalid'}`} placeholder="Filter: name, op:Conv, Conv.4*, /regex/" value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="table-filter"
          title={parsedFilter.error ?? 'Name, op type or tensor text; op:Conv (op:Conv,Relu), scope:/model.22/, a glob (Conv.4*) or /regex/; terms separated by spaces must all hold. Shift-click selects a range, Ctrl-click adds a layer.'} />
        <label className="check"><input type="checkbox" checked={onlyChanged} onChange={(e) => setOnlyChanged(e.target.checked)} /> only layers not at {qtable.defaultPrecision}</label>
        <span className="muted">{parsedFilter.error ? <span className="filter-error" data-testid="filter-error">{parsedFilter.error}</span> : <>{rows.length} layers · {qtable.layers.size} set to another precision</>}</span>
        <span className="table-tools-end">
          <button className="btn small" onClick={() => setSelection(rows.map((r) => r.name), selected !== null && rows.some((r) => r.name === selected) ? selected : rows[0]?.name ?? null)} disabled={rows.length === 0} data-testid="select-shown" title="Select every layer the filter shows">Select shown</button>
          <button className="btn small" onClick={resetPrecisions} disabled={qtable.layers.size === 0} data-testid="reset-precisions" title={ruleCount ? 'Every layer back to what the rules give (hand edits go); one edit, Undo puts them back' : `Every layer back to ${qtable.defaultPrecision}; one edit, Undo puts them back`}>Reset every override</button>
          <button className={`btn small${showRules ? ' active' : ''}`} onClick={() => setShowRules((v) => !v)} aria-expanded={showRules} data-testid="rules-toggle">Rules{ruleCount ? ` (${ruleCount})` : ''}</button>
        </span>
      </div>
      {selection.length > 1 ? (
        <div className="bulk-bar" data-testid="bulk-bar">
          <b data-testid="selection-count">{selection.length}</b> selected{selectedQuantizable < selection.length ? <span className="muted"> ({selectedQuantizable} quantizable)</span> : null} · set to
          {EDITABLE_PRECISIONS.map((p) => (
            <button key={p} className={`btn small p-${p}`} onClick={() => setPrecisions(selection, p)} data-testid={`bulk-${p}`} title={`Set the ${selection.length} selected layers to ${p}: one edit`}>{p}</button>
          ))}
          <button className="btn small" onClick={() => setSelection([])} data-testid="clear-selection">Clear</button>
        </div>
      ) : null}
      {showRules ? <RulesPanel /> : null}
      <div className="table-head">
        {COLUMNS.map((c) => (
          <button key={c.id} className={`th ${c.id}${c.numeric ? ' num' : ''}`} data-testid={`sort-${c.id}`} title={c.title}
            onClick={() => setSort((s) => ({ column: c.id, ascending: s.column === c.id ? !s.ascending : true }))}>
            {c.label}{sort.column === c.id ? (sort.ascending ? ' ▲' : ' ▼') : ''}
          </button>
        ))}
      </div>
      <div className="table-body" ref={body} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)} onKeyDown={rowKeys.onKeyDown}>
        <div style={{ height: rows.length * ROW_HEIGHT, position: 'relative' }}>
          {rows.slice(first, last).map((r, k) => (
            <div
              key={r.name}
              className={`tr${selectedSet.has(r.name) ? ' selected' : ''}${r.name === selected ? ' primary' : ''}${r.quantizable ? '' : ' fixed'}`}
              style={{ top: (first + k) * ROW_HEIGHT, height: ROW_HEIGHT }}
              onClick={(e) => onRowClick(e, r.name)}
              data-testid="table-row"
              data-layer={r.name}
              tabIndex={rowKeys.tabIndexOf(r.name)}
              onFocus={() => rowKeys.onFocusRow(r.name)}
              aria-selected={selectedSet.has(r.name)}
            >
              <span className="td name" title={warningOf.get(r.name) ?? r.name}>{warningOf.has(r.name) && <span className="row-warning" data-testid="row-warning" aria-label="warning">⚠ </span>}{r.name}</span>
              <span className="td op">{r.op}</span>
              {r.quantizable
                ? <span className="td precision">
                    <select className={`row-precision p-${r.precision}`} value={r.precision} data-testid="row-precision" aria-label={`Precision of ${r.name}`}
                      onClick={(e) => {
                        // A click on a row's own control selects that row (the inspector follows); within a
                        // multi-selection it keeps the selection, so that the change applies to all of it.
                        e.stopPropagation();
                        if (!selectedSet.has(r.name)) onRowClick(e, r.name);
                      }}
                      onChange={(e) => (selectedSet.has(r.name) && selection.length > 1 ? setPrecisions(selection, e.target.value as Precision) : setPrecisions([r.name], e.target.value as Precision))}
                      title={selectedSet.has(r.name) && selection.length > 1 ? `Sets all ${selection.length} selected layers (one edit)` : 'This layer\'s precision'}>
                      {(EDITABLE_PRECISIONS.includes(r.precision) ? EDITABLE_PRECISIONS : [...EDITABLE_PRECISIONS, r.precision]).map((p) => <option key={p} value={p}>{p}</option>)}
                    </select>
                  </span>
                : <span className="td precision muted" title={floatForLackOfRanges.has(r.name) ? `Runs FP32: ${r.reason}` : `Not quantizable: ${r.reason}; runs as in the model`}>—</span>}
              <span className="td num">{formatMetric('cos', r.cos)}</span>
              <span className="td num local" data-testid="row-local">{formatMetric('local', r.local)}</span>
              <span className="td num">{formatMetric('sqnr', r.sqnr)}</span>
              <span className="td num">{formatMetric('mse', r.mse)}</span>
              <span className={`td num gain${r.gainView?.source === 'ranking' ? ' muted' : ''}`} data-testid="row-gain">{formatGain(r.gainView)}</span>
              <span className="td num task-gain" data-testid="row-task-gain" title={r.gainView?.task ? taskGainText(r.gainView.task) : undefined}>{formatTaskGain(r.gainView?.task)}</span>
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
