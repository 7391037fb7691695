import { useEffect, useMemo, useState } from 'react';
import { scaleLinear } from 'd3-scale';
import { weightReport } from '../state/queries';
import type { WeightReport } from '../core/quant/weightReport';
import { useApp } from '../state/store';

const W = 300;
const H = 90;

/** Per-channel weight ranges (bars) and each channel's quantization RMS error (dots). */
export function WeightChannels({ layer }: { layer: string }) {
  const qtable = useApp((s) => s.qtable);
  const weights = useApp((s) => s.weightOptions);
  const model = useApp((s) => s.model);
  const [report, setReport] = useState<WeightReport | null>(null);
  useEffect(() => {
    let live = true;
    void weightReport(layer, qtable).then((r) => live && setReport(r)).catch(() => live && setReport(null));
    return () => {
      live = false;
    };
  }, [layer, qtable, weights, model]);
  const chart = useMemo(() => {
    if (!report) return null;
    const n = report.channels.length;
    const peak = Math.max(...report.channels.map((c) => Math.max(Math.abs(c.min), Math.abs(c.max))), 1e-12);
    const worst = Math.max(...report.channels.map((c) => c.rmsError), 1e-12);
    const x = scaleLinear().domain([0, n]).range([2, W - 2]);
    const y = scaleLinear().domain([-peak, peak]).range([H - 4, 4]);
    const e = scaleLinear().domain([0, worst]).range([H - 4, 4]);
    const bar = Math.max(0.5, (W - 4) / n - (n < 80 ? 1 : 0));
    return { x, y, e, bar, worst, worstChannel: report.channels.findIndex((c) => c.rmsError === worst) };
  }, [report]);
  if (!report || !chart) return null;
  return (
    <div data-testid="weight-channels">
      <svg className="weight-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Per-channel weight ranges and quantization error">
        <line x1={0} x2={W} y1={chart.y(0)} y2={chart.y(0)} className="axis" />
        {report.channels.map((c, i) => (
          <rect key={i} x={chart.x(i)} width={chart.bar} y={chart.y(c.max)} height={Math.max(0.5, chart.y(c.min) - chart.y(c.max))} className="range" />
        ))}
        {report.channels.map((c, i) => <circle key={`e${i}`} cx={chart.x(i) + chart.bar / 2} cy={chart.e(c.rmsError)} r={1.4} className="error" />)}
      </svg>
      <p className="muted note">
        {report.weight} [{report.dims.join('×')}]: {report.channels.length} channels, {report.precision === 'INT16' ? 'int16' : report.precision === 'INT4' ? 'int4' : 'int8'} {report.granularity === 'channel' ? 'per channel' : 'per tensor'}, {report.scaleMethod === 'mse' ? 'minimum-MSE' : 'max'} scale.
        Bars: channel range; dots: RMS error (worst {chart.worst.toExponential(2)} at channel {chart.worstChannel}).
      </p>
    </div>
  );
}
