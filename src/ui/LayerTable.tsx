import { useMemo, useRef, useState } from 'react';
import { precisionOf, type Precision } from '../core/model/QTable';
import { useApp } from '../state/store';
import { formatMetric } from './format';
import { useFloatForLackOfRanges, useLayerErrors, useLayerInfo } from './hooks';
import { useFloatGains, useLocalErrors } from './layerErrorHooks';
import { formatGain, formatTaskGain, taskGainText, type GainView } from './floatGains';

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
  const select = useApp((s) => s.select);
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

  const rows = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const list: Row[] = (model?.graph.nodes ?? [])
      .map((n) => {
        const i = info.get(n.name);
        const e = errors.get(n.name);
        const untaken = floatForLackOfRanges.has(n.name);
        return { name: n.name, op: n.opType, precision: i?.quantizable && !untaken ? precisionOf(qtable, n.name) : 'FP32', quantizable: !!i?.quantizable && !untaken, reason: untaken ? 'no calibration sample ran its branch, so it has no ranges' : i?.quantizable ? undefined : i?.reason ?? 'not quantizable', cos: e?.cos, sqnr: e?.sqnr, mse: e?.mse, local: local[n.name]?.cos, gain: gains.get(n.name)?.gain, gainView: gains.get(n.name), taskGain: taskChange(gains.get(n.name)) } as Row;
      })
      .filter((r) => !needle || r.name.toLowerCase().includes(needle) || r.op.toLowerCase().includes(needle))
      .filter((r) => !onlyChanged || (r.quantizable && r.precision !== qtable.defaultPrecision));
    const { column, ascending } = sort;
    const sign = ascending ? 1 : -1;
    list.sort((a, b) => {
      const x = a[column];
      const y = b[column];
      if (x === undefined && y === undefined) return 0;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * sign;
    });
    return list;
  }, [model, info, errors, local, gains, floatForLackOfRanges, qtable, sort, filter, onlyChanged]);

  const height = body.current?.clientHeight ?? 400;
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + 5);

  return (
    <div className="layer-table" data-testid="layer-table">
      <div className="table-tools">
        <input className="input" placeholder="Filter by name or op" value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="table-filter" />
        <label className="check"><input type="checkbox" checked={onlyChanged} onChange={(e) => setOnlyChanged(e.target.checked)} /> only layers not at {qtable.defaultPrecision}</label>
        <span className="muted">{rows.length} layers · {qtable.layers.size} set to another precision</span>
      </div>
      <div className="table-head">
        {COLUMNS.map((c) => (
          <button key={c.id} className={`th ${c.id}${c.numeric ? ' num' : ''}`} data-testid={`sort-${c.id}`} title={c.title}
            onClick={() => setSort((s) => ({ column: c.id, ascending: s.column === c.id ? !s.ascending : true }))}>
            {c.label}{sort.column === c.id ? (sort.ascending ? ' ▲' : ' ▼') : ''}
          </button>
        ))}
      </div>
      <div className="table-body" ref={body} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
        <div style={{ height: rows.length * ROW_HEIGHT, position: 'relative' }}>
          {rows.slice(first, last).map((r, k) => (
            <div
              key={r.name}
              className={`tr${r.name === selected ? ' selected' : ''}${r.quantizable ? '' : ' fixed'}`}
              style={{ top: (first + k) * ROW_HEIGHT, height: ROW_HEIGHT }}
              onClick={() => select(r.name)}
              data-testid="table-row"
              data-layer={r.name}
            >
              <span className="td name" title={warningOf.get(r.name) ?? r.name}>{warningOf.has(r.name) && <span className="row-warning" data-testid="row-warning" aria-label="warning">⚠ </span>}{r.name}</span>
              <span className="td op">{r.op}</span>
              {r.quantizable
                ? <span className={`td precision p-${r.precision}`}>{r.precision}</span>
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
