import { useMemo } from 'react';
import { scaleLinear, scaleLog } from 'd3-scale';
import { area, curveStepAfter } from 'd3-shape';
import { format } from 'd3-format';

export interface ThresholdMark {
  /** What made it: a calibration method name, 'user' or 'imported'. */
  readonly label: string;
  readonly value: number;
}

interface Props {
  /** Bin width and counts of |x| (TPU-MLIR's histogram: bin k covers about k*width). */
  readonly width: number;
  readonly counts: readonly number[];
  readonly thresholds: readonly ThresholdMark[];
  /** The label of the threshold in use. */
  readonly chosen: string | null;
  readonly onChoose: (label: string) => void;
}

const W = 300;
const H = 150;
const M = { top: 8, right: 8, bottom: 20, left: 34 };

/**
 * The activation histogram of one tensor (counts on a log scale over |x|) with a vertical line per
 * calibration method at its threshold; the line in use is highlighted and a click picks another.
 * Plain SVG drawn once per props change: a few hundred path points, no per-frame work.
 */
export function ActivationHistogram({ width, counts, thresholds, chosen, onChoose }: Props) {
  const layout = useMemo(() => {
    const extent = Math.max(width * counts.length, ...thresholds.map((t) => t.value), 1e-12);
    const x = scaleLinear().domain([0, extent]).range([M.left, W - M.right]);
    const peak = Math.max(1, ...counts);
    const y = scaleLog().domain([1, peak]).range([H - M.bottom, M.top]).clamp(true);
    // Coarsen to at most ~one point per pixel: 2048 bins on 260 px would only alias.
    const step = Math.max(1, Math.ceil(counts.length / (W - M.left - M.right)));
    const points: [number, number][] = [];
    for (let i = 0; i < counts.length; i += step) {
      let sum = 0;
      for (let j = i; j < Math.min(counts.length, i + step); j++) sum += counts[j];
      points.push([i * width, Math.max(1, sum / step)]);
    }
    points.push([counts.length * width, 1]);
    const path = area<[number, number]>().x((p) => x(p[0])).y0(H - M.bottom).y1((p) => y(p[1])).curve(curveStepAfter)(points) ?? '';
    return { x, y, path, ticks: x.ticks(4), yTicks: y.ticks(3).filter((t) => Number.isInteger(Math.log10(t))) };
  }, [width, counts, thresholds]);
  const short = format('.3~s');
  return (
    <figure className="histogram-figure">
    <svg className="histogram" viewBox={`0 0 ${W} ${H}`} data-testid="activation-histogram" role="img" aria-label="Activation histogram with calibration thresholds">
      <path d={layout.path} className="histogram-area" />
      <line x1={M.left} x2={W - M.right} y1={H - M.bottom} y2={H - M.bottom} className="axis" />
      {layout.ticks.map((t) => (
        <text key={t} x={layout.x(t)} y={H - 6} className="tick" textAnchor="middle">{short(t)}</text>
      ))}
      {layout.yTicks.map((t) => (
        <text key={t} x={M.left - 4} y={layout.y(t) + 3} className="tick" textAnchor="end">{short(t)}</text>
      ))}
      {thresholds.map((t, i) => {
        const px = layout.x(t.value);
        const on = t.label === chosen;
        return (
          <g key={t.label} className={`threshold${on ? ' chosen' : ''}`} onClick={() => onChoose(t.label)} data-testid="threshold-mark" data-method={t.label} data-value={t.value}>
            <title>{`${t.label}: ${t.value.toPrecision(5)}`}</title>
            <line x1={px} x2={px} y1={M.top} y2={H - M.bottom} />
            <line x1={px} x2={px} y1={M.top} y2={H - M.bottom} className="hit" />
            {on && <text x={Math.min(px + 3, W - 60)} y={M.top + 10 + (i % 3) * 10} className="label">{t.label}</text>}
          </g>
        );
      })}
    </svg>
    {/* The same choices as buttons, by value: lines a pixel apart cannot be told apart by a click. */}
    <figcaption className="threshold-chips">
      {[...thresholds].sort((a, b) => a.value - b.value).map((t) => (
        <button key={t.label} type="button" className={`chip${t.label === chosen ? ' chosen' : ''}`} onClick={() => onChoose(t.label)} data-testid="threshold-chip" data-method={t.label} title={`Use ${t.label}'s threshold for this tensor`}>
          {t.label} <span className="num">{t.value.toPrecision(4)}</span>
        </button>
      ))}
    </figcaption>
    </figure>
  );
}
