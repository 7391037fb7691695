import { scaleLinear } from 'd3';
import { useId, useMemo } from 'react';
import './GraphView.css';

export interface HeatLegendProps {
  label: string;
  domain: [number, number];
  colorOf: (v: number) => string;
  /** About how many tick labels (d3's nice ticks; default 4). */
  ticks?: number;
}

const WIDTH = 200;
const BAR_HEIGHT = 10;
const STOPS = 24;

/** How a tick label is anchored: at the bar's ends it stays inside the bar. */
const anchorOf = (x: number) => (x < 12 ? 'start' : x > WIDTH - 12 ? 'end' : 'middle');

/** Where a tick label reaches, left and right, at the legend's 10px font (about 6px a character). */
function extent({ x, text }: { x: number; text: string }): [number, number] {
  const width = text.length * 6;
  const anchor = anchorOf(x);
  return anchor === 'start' ? [x, x + width] : anchor === 'end' ? [x - width, x] : [x - width / 2, x + width / 2];
}

/** Every other tick (then every third…) until no two labels touch: d3's nice ticks on a narrow bar can. */
function withoutOverlaps<T extends { x: number; text: string }>(marks: readonly T[]): T[] {
  for (let step = 1; step < marks.length; step++) {
    const kept = marks.filter((_, i) => i % step === 0);
    if (kept.every((m, i) => i === 0 || extent(m)[0] - extent(kept[i - 1])[1] >= 6)) return kept;
  }
  return marks.slice(0, 1);
}

/** A horizontal colour bar for the graph's heat scale, with nice tick labels under it. */
export function HeatLegend({ label, domain, colorOf, ticks = 4 }: HeatLegendProps) {
  const gradientId = `qg-legend-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  const { stops, tickMarks } = useMemo(() => {
    const [lo, hi] = domain;
    const x = scaleLinear().domain([lo, hi]).range([0, WIDTH]);
    const stops = Array.from({ length: STOPS + 1 }, (_, i) => ({ offset: i / STOPS, color: colorOf(lo + ((hi - lo) * i) / STOPS) }));
    const format = x.tickFormat(ticks);
    const values = lo === hi ? [lo] : x.ticks(ticks);
    const marks = values.map((v) => ({ x: lo === hi ? WIDTH / 2 : x(v), text: format(v) }));
    return { stops, tickMarks: withoutOverlaps(marks) };
  }, [domain, colorOf, ticks]);

  return (
    <div className="qg-legend" data-testid="heat-legend">
      <span className="qg-legend-label">{label}</span>
      <svg width={WIDTH} height={BAR_HEIGHT + 16} role="img" aria-label={`${label}: ${domain[0]} to ${domain[1]}`}>
        <defs>
          <linearGradient id={gradientId} x1="0" x2="1" y1="0" y2="0">
            {stops.map((s) => (
              <stop key={s.offset} offset={s.offset} stopColor={s.color} />
            ))}
          </linearGradient>
        </defs>
        <rect className="qg-legend-bar" x={0.5} y={0.5} width={WIDTH - 1} height={BAR_HEIGHT} rx={2} fill={`url(#${gradientId})`} />
        {tickMarks.map((t) => (
          <g key={`${t.x}-${t.text}`} className="qg-legend-tick" transform={`translate(${t.x},0)`}>
            <line y1={BAR_HEIGHT} y2={BAR_HEIGHT + 3} />
            <text y={BAR_HEIGHT + 13} textAnchor={anchorOf(t.x)}>{t.text}</text>
          </g>
        ))}
      </svg>
    </div>
  );
}
