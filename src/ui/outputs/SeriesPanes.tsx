import { useMemo } from 'react';
import { scaleLinear } from 'd3-scale';
import { line } from 'd3-shape';
import type { SeriesView } from '../../core/sim/sampleView/SampleOutputs';
import { Figure, formatNumber, Pane, PICTURE_HEIGHT } from './Pane';

const W = 420;
const H = PICTURE_HEIGHT;
const M = { top: 6, right: 6, bottom: 16, left: 46 };

/** An output with no task to read it by: float and quantized values by element, and their difference. */
export function SeriesPanes({ view }: { view: SeriesView }) {
  return (
    <>
      <Pane side="both" title="Float and quantized" figures={<Figure name="elements" value={view.total} text={view.total.toLocaleString()} />}>
        <Plot view={view} kind="values" />
      </Pane>
      <Pane side="difference" title="Quantized − float" figures={<Figure name="max |Δ|" value={view.maxDifference} testId="series-max-difference" />}>
        <Plot view={view} kind="difference" />
      </Pane>
      <p className="muted note pane-note">
        <span className="key float">float</span> <span className="key quantized">quantized</span>
        {view.positions.length < view.total ? ` ${view.positions.length} points of ${view.total.toLocaleString()}: each stands for a run of elements, by its largest difference.` : ''}
      </p>
    </>
  );
}

/** The values (float and quantized) or their difference, on a linear scale over the element index. */
function Plot({ view, kind }: { view: SeriesView; kind: 'values' | 'difference' }) {
  const chart = useMemo(() => {
    const series: (readonly [string, Float32Array])[] = kind === 'values' ? [['float', view.float], ['quantized', view.quantized]] : [['difference', view.difference]];
    let [lo, hi] = kind === 'values' ? [Infinity, -Infinity] : [-view.maxDifference, view.maxDifference];
    if (kind === 'values') for (const [, data] of series) for (const v of data) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    if (!(lo < hi)) [lo, hi] = [Number.isFinite(lo) ? lo - 1 : -1, Number.isFinite(hi) ? hi + 1 : 1];
    const x = scaleLinear().domain([0, Math.max(1, view.total - 1)]).range([M.left, W - M.right]);
    const y = scaleLinear().domain([lo, hi]).nice().range([H - M.bottom, M.top]);
    const draw = line<number>().x((_, i) => x(view.positions[i])).y((v) => y(Number.isFinite(v) ? v : 0));
    return { x, y, paths: series.map(([name, data]) => [name, draw(Array.from(data)) ?? ''] as const) };
  }, [view, kind]);
  return (
    <svg className="series-plot" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={kind === 'values' ? 'float and quantized values by element' : 'difference by element'}>
      <line x1={M.left} x2={W - M.right} y1={chart.y(0)} y2={chart.y(0)} className="zero" />
      {chart.y.ticks(4).map((t) => <text key={t} x={M.left - 4} y={chart.y(t) + 3} className="tick" textAnchor="end">{formatNumber(t)}</text>)}
      {chart.x.ticks(5).filter(Number.isInteger).map((t) => <text key={t} x={chart.x(t)} y={H - 4} className="tick" textAnchor="middle">{formatNumber(t)}</text>)}
      {chart.paths.map(([name, d]) => <path key={name} d={d} className={`series ${name}`} data-testid={`series-${name}`} />)}
    </svg>
  );
}
