import { useId, useMemo } from 'react';
import type { HeatRange, HeatTick } from '../heat';
import './GraphView.css';

export interface HeatLegendProps {
  label: string;
  /** The values at the bar's ends, left first (shown to assistive technology and tests). */
  domain: readonly [number, number];
  /** Colour at a point of the bar, 0 (left) to 1 (right). */
  colorAt: (at: number) => string;
  ticks: readonly HeatTick[];
  range: HeatRange;
  /** Fit to the values on screen instead of the fixed range; absent: no Fit control. */
  onFit?: (fit: boolean) => void;
  /** Freeze the range shown, or release it; absent: no Pin control. */
  onPin?: (pinned: boolean) => void;
}

const WIDTH = 260;
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

/** Every other tick (then every third…) until no two labels touch. */
function withoutOverlaps<T extends { x: number; text: string }>(marks: readonly T[]): T[] {
  for (let step = 1; step < marks.length; step++) {
    const kept = marks.filter((_, i) => i % step === 0);
    if (kept.every((m, i) => i === 0 || extent(m)[0] - extent(kept[i - 1])[1] >= 6)) return kept;
  }
  return marks.slice(0, 1);
}

const RANGE_TITLE: Record<HeatRange, string> = {
  fixed: 'Fixed range for this metric: a layer changes colour only when its own value changes',
  fitted: 'Fitted to the layers on screen: the range moves with every evaluation (Pin to freeze it)',
  pinned: 'Pinned: this range holds until you unpin it',
};

/** A horizontal colour bar for the graph's heat scale, its tick labels, and the Fit and Pin toggles. */
export function HeatLegend({ label, domain, colorAt, ticks, range, onFit, onPin }: HeatLegendProps) {
  const gradientId = `qg-legend-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  const { stops, tickMarks } = useMemo(() => {
    const stops = Array.from({ length: STOPS + 1 }, (_, i) => ({ offset: i / STOPS, color: colorAt(i / STOPS) }));
    const marks = ticks.filter((t) => t.at >= -1e-9 && t.at <= 1 + 1e-9).map((t) => ({ x: t.at * WIDTH, text: t.text }));
    return { stops, tickMarks: withoutOverlaps(marks) };
  }, [colorAt, ticks]);

  return (
    <div className="qg-legend" data-testid="heat-legend" data-domain={domain.join(',')} data-range={range} title={RANGE_TITLE[range]}>
      <div className="qg-legend-head">
        <span className="qg-legend-label">{label}</span>
        {onFit && (
          <button type="button" className={`qg-legend-toggle${range === 'fitted' ? ' on' : ''}`} aria-pressed={range === 'fitted'} disabled={range === 'pinned'}
            onClick={() => onFit(range !== 'fitted')} data-testid="heat-fit" title="Fit the range to the layers on screen (more contrast; it moves with every evaluation)">Fit</button>
        )}
        {onPin && (
          <button type="button" className={`qg-legend-toggle${range === 'pinned' ? ' on' : ''}`} aria-pressed={range === 'pinned'}
            onClick={() => onPin(range !== 'pinned')} data-testid="heat-pin" title={range === 'pinned' ? 'Unpin the range' : 'Pin this range: it holds across edits until unpinned'}>Pin</button>
        )}
      </div>
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
