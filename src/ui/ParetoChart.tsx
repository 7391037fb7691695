import { useEffect, useMemo, useRef, useState, type MouseEvent as ReactMouseEvent } from 'react';
import { scaleLinear, select, zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from 'd3';
import { configurationRows, type ConfigurationRow } from '../core/search/pareto';
import type { SearchKind, VisitedConfiguration } from '../core/search/SearchSession';
import { bytesDigits, formatBytes } from './format';
import { nearestPoint } from './nearestPoint';
import { ParetoList, rowFigures, type ConfigurationNotes } from './ParetoList';

const W = 360;
const H = 120;
const M = { top: 8, right: 12, bottom: 26, left: 52 };
/** How far from a point (in chart units, about pixels) the pointer still designates it. */
const HIT_RADIUS = 9;
/** Up to 1000x on the size axis: points a few kB apart in a model of megabytes come apart. */
const MAX_ZOOM = 1000;

const KIND_COLOR: Record<SearchKind, string> = {
  sensitive: '#4da3ff', qtable: '#43c59e', run_qtable: '#f0b429', bisection: '#c084fc', fp_forward: '#ff6b6b', pattern: '#f472b6', pattern_resolver: '#94a3b8',
};

/**
 * Every configuration the searches scored: output cosine against weight bytes (d3 scales, plain
 * SVG), the Pareto front as a line, and the list of them underneath. Points of nearly equal size
 * come apart by zooming the size axis (wheel, drag to pan; the cosine axis fits what is in view)
 * and in the list. One hit test serves hover and click (the nearest point, never a mark's own hit
 * area, which overlapping marks steal from each other): what is highlighted is what a click applies.
 */
export function ParetoChart({ points, revision, current, layers, notes, onApply }: {
  points: readonly VisitedConfiguration[];
  /** Counts additions to `points`, which grows in place while a search runs. */
  revision: number;
  /** The current QTable's weight bytes and output cosine, drawn as a ring. */
  current: { weightBytes: number; outputCos: number } | null;
  /** The model's quantizable layers (the list counts float and INT16 layers among them). */
  layers: readonly string[];
  notes: ConfigurationNotes;
  onApply: (configuration: VisitedConfiguration) => void;
}) {
  const [hoverId, setHoverId] = useState<number | null>(null);
  const [hoverFrom, setHoverFrom] = useState<'chart' | 'list'>('chart');
  const [transform, setTransform] = useState<ZoomTransform>(zoomIdentity);
  const svgRef = useRef<SVGSVGElement>(null);
  const zoomRef = useRef<ZoomBehavior<SVGSVGElement, unknown> | null>(null);
  const rows = useMemo(() => configurationRows(points, layers), [points, revision, layers]);

  const hasPoints = points.length > 0;
  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    // The size axis only: the transform's y is ignored, and the cosine axis fits the points in view.
    const behavior = zoom<SVGSVGElement, unknown>()
      .scaleExtent([1, MAX_ZOOM])
      .extent([[M.left, M.top], [W - M.right, H - M.bottom]])
      .translateExtent([[M.left, -Infinity], [W - M.right, Infinity]])
      // A drag pans and applies nothing; a click that trembles a few pixels is still a click.
      .clickDistance(4)
      .on('zoom', (event: { transform: ZoomTransform }) => setTransform(event.transform));
    zoomRef.current = behavior;
    // A new chart element starts unzoomed: so does the transform it is drawn with.
    setTransform(zoomIdentity);
    // A double click is two clicks that apply points; it does not zoom.
    select(svg).call(behavior).on('dblclick.zoom', null);
    return () => {
      select(svg).on('.zoom', null);
    };
  }, [hasPoints]);

  const layout = useMemo(() => {
    if (rows.length === 0) return null;
    const all = [...points.map((p) => p.weightBytes), ...(current ? [current.weightBytes] : [])];
    const full = scaleLinear().domain([Math.min(...all) * 0.95, Math.max(...all) * 1.05]).range([M.left, W - M.right]).nice();
    const x = transform.rescaleX(full);
    const [lo, hi] = x.domain();
    const inView = rows.filter((r) => r.configuration.weightBytes >= lo && r.configuration.weightBytes <= hi);
    const ys = [...(inView.length ? inView : rows).map((r) => r.configuration.outputCos), ...(current && current.weightBytes >= lo && current.weightBytes <= hi ? [current.outputCos] : [])].filter(Number.isFinite);
    const yLo = Math.min(...ys);
    const yHi = Math.max(...ys);
    // Zoomed, the cosine axis spans what is in view, so points of one size but other figures come apart too.
    const zoomed = transform.k > 1;
    const pad = Math.max((yHi - yLo) * 0.08, 1e-6);
    const y = scaleLinear().domain(zoomed ? [yLo - pad, yHi + pad] : [yLo - (1 - yLo) * 0.05, 1]).range([H - M.bottom, M.top]).nice();
    const line = rows.filter((r) => r.onFront).map((r) => `${x(r.configuration.weightBytes)},${y(r.configuration.outputCos)}`).join(' ');
    const xTicks = x.ticks(4);
    const front = new Set(rows.filter((r) => r.onFront).map((r) => r.configuration.id));
    // The rows in view in the order their points are drawn (scoring order): the hit test's ties go to the last.
    const order = new Map(points.map((p, i) => [p.id, i]));
    const drawn = [...inView].sort((a, b) => order.get(a.configuration.id)! - order.get(b.configuration.id)!);
    return { x, y, inView, drawn, zoomed, front, line, yFormat: y.tickFormat(4), xTicks, xDigits: bytesDigits(xTicks) };
  }, [points, rows, current, transform]);

  if (!hasPoints || !layout) return <p className="muted note">Every configuration a search scores appears here: output cosine against weight bytes.</p>;
  const { x, y, inView, drawn, zoomed, front, line, yFormat, xTicks, xDigits } = layout;
  const hovered = rows.find((r) => r.configuration.id === hoverId) ?? null;

  /** The configuration under the pointer: the nearest point in view within the hit radius (in drawing order, so a tie goes to the one on top). */
  const pick = (e: ReactMouseEvent<SVGSVGElement>): ConfigurationRow | null => {
    const ctm = e.currentTarget.getScreenCTM();
    if (!ctm) return null;
    const at = new DOMPoint(e.clientX, e.clientY).matrixTransform(ctm.inverse());
    const i = nearestPoint(drawn.map((r) => ({ x: x(r.configuration.weightBytes), y: y(r.configuration.outputCos) })), at, HIT_RADIUS);
    return i < 0 ? null : drawn[i];
  };
  const hover = (row: ConfigurationRow | null, from: 'chart' | 'list') => {
    setHoverId(row?.configuration.id ?? null);
    setHoverFrom(from);
  };

  return (
    <div className="pareto" data-testid="pareto">
      <div className="pareto-plot">
        <svg ref={svgRef} viewBox={`0 0 ${W} ${H}`} className={`pareto-chart${hovered ? ' picking' : ''}`} data-testid="pareto-chart" data-zoom={transform.k.toFixed(3)}
          role="img" aria-label="Output cosine against weight bytes of every configuration scored"
          onPointerMove={(e) => hover(pick(e), 'chart')} onPointerLeave={() => hover(null, 'chart')}
          onClick={(e) => {
            const row = pick(e);
            if (row) onApply(row.configuration);
          }}>
          <defs><clipPath id="pareto-clip"><rect x={M.left} y={M.top - 6} width={W - M.left - M.right} height={H - M.top - M.bottom + 12} /></clipPath></defs>
          {xTicks.map((t) => (
            <g key={`x${t}`} transform={`translate(${x(t)},0)`}>
              <line y1={M.top} y2={H - M.bottom} className="grid" />
              <text y={H - M.bottom + 12} textAnchor="middle" className="tick">{formatBytes(t, xDigits)}</text>
            </g>
          ))}
          {y.ticks(4).map((t) => (
            <g key={`y${t}`} transform={`translate(0,${y(t)})`}>
              <line x1={M.left} x2={W - M.right} className="grid" />
              <text x={M.left - 4} y={3} textAnchor="end" className="tick">{yFormat(t)}</text>
            </g>
          ))}
          <text x={(M.left + W - M.right) / 2} y={H - 4} textAnchor="middle" className="axis-label">weight bytes{zoomed ? ` (zoomed ${transform.k.toFixed(transform.k < 10 ? 1 : 0)}×)` : ''}</text>
          <text transform={`translate(11,${(M.top + H - M.bottom) / 2}) rotate(-90)`} textAnchor="middle" className="axis-label">output cos</text>
          <g clipPath="url(#pareto-clip)">
            {line && <polyline points={line} className="front" />}
            {current && <circle cx={x(current.weightBytes)} cy={y(current.outputCos)} r={7} className="current" data-testid="pareto-current" />}
            {points.map((p) => {
              const onFront = front.has(p.id);
              return (
                <circle key={p.id} cx={x(p.weightBytes)} cy={y(p.outputCos)} r={onFront ? 4.5 : 3.5} fill={KIND_COLOR[p.search]}
                  className={`point${onFront ? ' on-front' : ''}${p.id === hoverId ? ' hovered' : ''}${p.id === notes.currentId ? ' is-current' : ''}`} data-testid="pareto-point" data-id={p.id} />
              );
            })}
            {hovered && <circle cx={x(hovered.configuration.weightBytes)} cy={y(hovered.configuration.outputCos)} r={7.5} className="hover-ring" />}
          </g>
        </svg>
        {hovered && <Tooltip row={hovered} at={{ x: x(hovered.configuration.weightBytes), y: y(hovered.configuration.outputCos) }} note={notes.noteOf(hovered.configuration)} />}
      </div>
      <div className="pareto-toolbar">
        <span className="muted note pareto-caption" title="Scroll on the chart to zoom the size axis (drag to pan); hover a point or a row to see it; click one to apply it (Undo goes back)">
          {points.length} configurations, {front.size} on the front{zoomed ? `, ${inView.length} in view` : ''}. Scroll to zoom; click to apply.
        </span>
        {zoomed && <button className="btn small ghost" data-testid="pareto-zoom-reset" onClick={() => svgRef.current && zoomRef.current && select(svgRef.current).call(zoomRef.current.transform, zoomIdentity)}>Reset zoom</button>}
      </div>
      <ParetoList rows={inView} hoverId={hoverId} scrollToHover={hoverFrom === 'chart'} notes={notes} onHover={(row) => hover(row, 'list')} onApply={onApply} />
    </div>
  );
}

/** The hovered configuration's figures, next to its point. */
function Tooltip({ row, at, note }: { row: ConfigurationRow; at: { x: number; y: number }; note: { text: string; stale: boolean } | null }) {
  // Placed on the side with more room, in percentages of the chart (it scales with the SVG).
  const left = at.x > W / 2;
  const above = at.y > H / 2;
  const style = {
    [left ? 'right' : 'left']: `${((left ? W - at.x : at.x) / W) * 100 + 3}%`,
    [above ? 'bottom' : 'top']: `${((above ? H - at.y : at.y) / H) * 100 + 3}%`,
  };
  return (
    <div className="pareto-tooltip" style={style} data-testid="pareto-tooltip" data-id={row.configuration.id}>
      <b>{row.configuration.label}</b>
      <span>{rowFigures(row)}</span>
      {note && <span className={note.stale ? 'warn' : 'muted'}>{note.text}</span>}
      <span className="muted">Click to apply.</span>
    </div>
  );
}
