import { nothingToQuantize, useApp } from '../state/store';
import { formatDuration, formatMetric } from './format';

/**
 * The end-to-end similarity of the current QTable, always visible in the header. A model where no
 * layer can be quantized has none to give (its "quantized" model is the float model): the reason
 * stands in its place. A QDQ file opened as float also shows its own quantized model's figure.
 */
export function OutputSimilarity() {
  const evaluation = useApp((s) => s.outputEvaluation);
  const baseline = useApp((s) => s.baseline);
  const calibrated = useApp((s) => s.calibration !== null);
  const evaluating = useApp((s) => Object.values(s.jobs).some((j) => j.label.startsWith('Evaluating output')));
  const whatIfMs = useApp((s) => s.lastEditToSimilarityMs);
  const nothing = useApp(nothingToQuantize);
  const inFile = useApp((s) => s.quantizedInFile);
  if (nothing) {
    return (
      <div className="output-sim nothing" data-testid="output-similarity">
        <div data-testid="nothing-to-quantize" title={`Nothing to quantize: ${nothing}. The quantized model would be the float model, so there is no similarity to report.`}>
          <div className="value">Nothing to quantize</div>
          <div className="sub">{nothing.replace(/^no layer can be quantized: /, '')}</div>
        </div>
      </div>
    );
  }
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
      {inFile && (
        <span className="in-file" data-testid="quantized-in-file" data-value={inFile.cos}
          title={`The file's own quantized model, run as it is, against the float model it was de-quantized to, on the same samples (SQNR ${formatMetric('sqnr', inFile.sqnr)}): the figure a re-quantization here is compared with`}>
          in the file <b>cos {formatMetric('cos', inFile.cos)}</b>
        </span>
      )}
    </div>
  );
}
