import { useMemo, useState } from 'react';
import { scaleLinear } from 'd3-scale';
import { paretoFront } from '../core/search/pareto';
import type { SearchKind, VisitedConfiguration } from '../core/search/SearchSession';
import { bytesDigits, formatBytes } from './format';

const W = 360;
const H = 200;
const M = { top: 10, right: 12, bottom: 30, left: 52 };

const KIND_COLOR: Record<SearchKind, string> = {
  sensitive: '#4da3ff', qtable: '#43c59e', run_qtable: '#f0b429', bisection: '#c084fc', fp_forward: '#ff6b6b', pattern: '#f472b6', pattern_resolver: '#94a3b8',
};

/**
 * Every configuration the searches scored: output cosine against weight bytes (d3 scales, plain
 * SVG). The Pareto front is drawn as a line; a click on a point applies its QTable.
 */
export function ParetoChart({ points, revision, current, onApply }: {
  points: readonly VisitedConfiguration[];
  /** Counts additions to `points`, which grows in place while a search runs. */
  revision: number;
  /** The current QTable's weight bytes and output cosine, drawn as a ring. */
  current: { weightBytes: number; outputCos: number } | null;
  onApply: (point: VisitedConfiguration) => void;
}) {
  const [hover, setHover] = useState<VisitedConfiguration | null>(null);
  const layout = useMemo(() => {
    const all = [...points.map((p) => ({ x: p.weightBytes, y: p.outputCos })), ...(current ? [{ x: current.weightBytes, y: current.outputCos }] : [])];
    const xs = all.map((p) => p.x);
    const ys = all.map((p) => p.y).filter(Number.isFinite);
    const x = scaleLinear().domain([Math.min(...xs) * 0.95, Math.max(...xs) * 1.05]).range([M.left, W - M.right]).nice();
    const yLo = Math.min(...ys);
    const y = scaleLinear().domain([yLo - (1 - yLo) * 0.05, 1]).range([H - M.bottom, M.top]).nice();
    const front = paretoFront(points);
    const yFormat = y.tickFormat(4);
    const line = points.filter((p) => front.has(p.id)).sort((a, b) => a.weightBytes - b.weightBytes).map((p) => `${x(p.weightBytes)},${y(p.outputCos)}`).join(' ');
    const xTicks = x.ticks(4);
    const xDigits = bytesDigits(xTicks);
    return { x, y, front, line, yFormat, xTicks, xDigits };
  }, [points, revision, current]);
  if (points.length === 0) return <p className="muted note">Every configuration a search scores appears here: output cosine against weight bytes.</p>;
  const { x, y, front, line, yFormat, xTicks, xDigits } = layout;
  return (
    <div className="pareto">
      <svg viewBox={`0 0 ${W} ${H}`} className="pareto-chart" data-testid="pareto-chart" role="img" aria-label="Output cosine against weight bytes of every configuration scored">
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
        <text x={(M.left + W - M.right) / 2} y={H - 4} textAnchor="middle" className="axis-label">weight bytes</text>
        <text transform={`translate(11,${(M.top + H - M.bottom) / 2}) rotate(-90)`} textAnchor="middle" className="axis-label">output cos</text>
        {line && <polyline points={line} className="front" />}
        {current && <circle cx={x(current.weightBytes)} cy={y(current.outputCos)} r={7} className="current" data-testid="pareto-current"><title>current QTable</title></circle>}
        {points.map((p) => (
          <circle key={p.id} cx={x(p.weightBytes)} cy={y(p.outputCos)} r={front.has(p.id) ? 4.5 : 3.5} fill={KIND_COLOR[p.search]}
            className={`point${front.has(p.id) ? ' on-front' : ''}`} data-testid="pareto-point" data-id={p.id}
            onMouseEnter={() => setHover(p)} onMouseLeave={() => setHover(null)} onClick={() => onApply(p)}>
            <title>{`${p.label}: cos ${p.outputCos.toFixed(5)}, ${formatBytes(p.weightBytes)} — click to apply`}</title>
          </circle>
        ))}
      </svg>
      <p className="muted note pareto-caption">{hover ? `${hover.label}: cos ${hover.outputCos.toFixed(5)}, ${formatBytes(hover.weightBytes)}` : `${points.length} configurations, ${front.size} on the front. Click a point to apply it.`}</p>
    </div>
  );
}
