import { useApp } from '../state/store';
import { formatDuration, formatMetric } from './format';

/** The end-to-end similarity of the current QTable, always visible in the header. */
export function OutputSimilarity() {
  const evaluation = useApp((s) => s.outputEvaluation);
  const baseline = useApp((s) => s.baseline);
  const calibrated = useApp((s) => s.calibration !== null);
  const evaluating = useApp((s) => Object.values(s.jobs).some((j) => j.label.startsWith('Evaluating output')));
  const whatIfMs = useApp((s) => s.lastEditToSimilarityMs);
  if (!calibrated) return <div className="output-sim muted" data-testid="output-similarity">Output similarity: calibrate first</div>;
  const cos = evaluation?.output.cos;
  const delta = cos !== undefined && baseline && baseline !== evaluation ? cos - baseline.output.cos : undefined;
  return (
    <div className={`output-sim${evaluating ? ' stale' : ''}`} data-testid="output-similarity" title="Cosine similarity of the model outputs, quantized vs float, averaged over the samples; after an edit, the time it took to update">
      <span className="label">Output cos</span>
      <span className="value" data-testid="output-cos" data-value={cos ?? ''}>{formatMetric('cos', cos)}</span>
      <span className="sub">SQNR {formatMetric('sqnr', evaluation?.output.sqnr)}{whatIfMs !== null && !evaluating ? ` · ${formatDuration(whatIfMs)}` : ''}</span>
      {delta !== undefined && Math.abs(delta) > 0 && (
        <span className={`delta ${delta > 0 ? 'up' : 'down'}`} title="change against all-INT8">{delta > 0 ? '+' : ''}{delta.toExponential(1)} vs INT8</span>
      )}
    </div>
  );
}
