import { useMemo, useRef, useState } from 'react';
import { precisionOf, type Precision } from '../core/model/QTable';
import { useApp } from '../state/store';
import { formatMetric } from './format';
import { useFloatForLackOfRanges, useLayerErrors, useLayerInfo } from './hooks';

type Column = 'name' | 'op' | 'precision' | 'cos' | 'sqnr' | 'mse';
const ROW_HEIGHT = 26;
const COLUMNS: { id: Column; label: string; numeric?: boolean }[] = [
  { id: 'name', label: 'Layer' },
  { id: 'op', label: 'Op' },
  { id: 'precision', label: 'Precision' },
  { id: 'cos', label: 'Cosine', numeric: true },
  { id: 'sqnr', label: 'SQNR', numeric: true },
  { id: 'mse', label: 'MSE', numeric: true },
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
}

/** The current QTable as a table: every layer, its precision and errors; sortable, filterable, windowed. */
export function LayerTable() {
  const model = useApp((s) => s.model);
  const qtable = useApp((s) => s.qtable);
  const selected = useApp((s) => s.selected);
  const select = useApp((s) => s.select);
  const info = useLayerInfo();
  const errors = useLayerErrors();
  const floatForLackOfRanges = useFloatForLackOfRanges();
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
        return { name: n.name, op: n.opType, precision: i?.quantizable && !untaken ? precisionOf(qtable, n.name) : 'FP32', quantizable: !!i?.quantizable && !untaken, reason: untaken ? 'no calibration sample ran its branch, so it has no ranges' : i?.quantizable ? undefined : i?.reason ?? 'not quantizable', cos: e?.cos, sqnr: e?.sqnr, mse: e?.mse } as Row;
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
  }, [model, info, errors, floatForLackOfRanges, qtable, sort, filter, onlyChanged]);

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
          <button key={c.id} className={`th ${c.id}${c.numeric ? ' num' : ''}`} data-testid={`sort-${c.id}`}
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
              <span className="td name" title={r.name}>{r.name}</span>
              <span className="td op">{r.op}</span>
              {r.quantizable
                ? <span className={`td precision p-${r.precision}`}>{r.precision}</span>
                : <span className="td precision muted" title={floatForLackOfRanges.has(r.name) ? `Runs FP32: ${r.reason}` : `Not quantizable: ${r.reason}; runs as in the model`}>—</span>}
              <span className="td num">{formatMetric('cos', r.cos)}</span>
              <span className="td num">{formatMetric('sqnr', r.sqnr)}</span>
              <span className="td num">{formatMetric('mse', r.mse)}</span>
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
