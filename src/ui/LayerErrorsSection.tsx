import type { LayerError } from '../core/model/Evaluation';
import type { Precision } from '../core/model/QTable';
import { cancelFloatGain, measureFloatGain } from '../state/layerErrorActions';
import { useApp } from '../state/store';
import { formatMetric } from './format';
import { useFloatGains, useLocalErrors } from './layerErrorHooks';
import { formatGain, taskGainText, type GainView } from './floatGains';

/** Where the float gain comes from, in words. */
function gainNote(gain: GainView | undefined, quantized: boolean): string {
  if (!quantized) return 'The layer runs in float: nothing to gain.';
  if (gain?.cos) return `Output cos ${formatMetric('cos', gain.cos.before)} now, ${formatMetric('cos', gain.cos.after)} with this layer alone at FP32.`;
  if (gain) return 'Estimated by the sensitivity ranking (1 − cos with only this layer\'s unit quantized); Measure gives it for this QTable.';
  return 'What setting this layer alone to FP32 gains on the output cosine (and on the task figure, where an output has a task), measured in the worker.';
}

export interface LayerErrorsSectionProps {
  readonly layer: string;
  /** Its accumulated error, from the latest full evaluation. */
  readonly error: LayerError | undefined;
  /** Its precision in the current QTable; null when it is not quantizable. */
  readonly precision: Precision | null;
  /** The error shown is of an earlier QTable (a new evaluation runs). */
  readonly stale: boolean;
}

/**
 * The inspector's two errors of a layer side by side (issue #11): accumulated (every layer at its
 * QTable precision) and local (this layer alone quantized, fed float inputs), and the output gain
 * of setting it to FP32, measured on demand in the worker or estimated by the sensitivity ranking.
 */
export function LayerErrorsSection({ layer, error, precision, stale }: LayerErrorsSectionProps) {
  const layerEvaluation = useApp((s) => s.layerEvaluation);
  const measuringLocal = useApp((s) => s.measuringLocal !== null);
  const measuring = useApp((s) => s.measuringGain);
  const local = useLocalErrors()[layer];
  const gain = useFloatGains().gains.get(layer);
  const quantized = precision !== null && precision !== 'FP32';
  const localNote = local ? null : !quantized ? 'float: none' : measuringLocal ? 'measuring…' : layerEvaluation?.local ? '—' : 'after the heatmap';
  const row = (label: string, metric: 'cos' | 'sqnr' | 'mse') => (
    <tr>
      <th scope="row">{label}</th>
      <td className="num" data-testid={`layer-${metric}`}>{formatMetric(metric, error?.[metric])}</td>
      <td className="num" data-testid={`layer-local-${metric}`}>{local ? formatMetric(metric, local[metric]) : <span className="muted">{localNote}</span>}</td>
    </tr>
  );
  return (
    <section data-testid="layer-errors">
      <h4>Error vs float {stale && <span className="muted">(updating)</span>}</h4>
      {error ? (
        <table className="mini-table layer-errors" data-testid="layer-metrics">
          <thead><tr><th /><th className="num" title="Every layer at its QTable precision">Accumulated</th><th className="num" title="This layer alone quantized, fed float inputs">Local</th></tr></thead>
          <tbody>
            {row('Cosine', 'cos')}
            {row('SQNR', 'sqnr')}
            {row('MSE', 'mse')}
          </tbody>
        </table>
      ) : <p className="muted">{layerEvaluation ? 'No float output to compare.' : 'Calibrate to measure.'}</p>}
      <p className="muted note">
        Of {error?.tensor ?? 'its output'}, averaged over the samples. Accumulated: every layer at its QTable precision;
        local: this layer alone as the QTable sets it, fed the float model's inputs. A large accumulated error with a small
        local one comes from upstream.
      </p>
      <div className="float-gain" data-testid="float-gain">
        <span>Float gain</span>
        <b data-testid="layer-float-gain" title={gain?.source === 'ranking' ? 'Estimated by the sensitivity ranking: 1 − cos with only this layer\'s unit quantized' : 'Output cos with this layer at FP32, minus now'}>
          {formatGain(gain)}
        </b>
        {measuring?.layer === layer
          ? <button className="btn small" onClick={cancelFloatGain} data-testid="cancel-float-gain">Cancel</button>
          : <button className="btn small" disabled={!quantized || measuring !== null || !layerEvaluation || gain?.source === 'measured'} onClick={() => void measureFloatGain(layer)} data-testid="measure-float-gain"
            title={quantized ? 'Evaluate the output with this layer at FP32 (in the worker)' : 'The layer already runs in float'}>Measure float gain</button>}
      </div>
      <p className="muted note">{gainNote(gain, quantized)}</p>
      {gain?.task && <p className="note" data-testid="layer-task-gain" data-before={gain.task.before} data-after={gain.task.after}>{taskGainText(gain.task)}.</p>}
    </section>
  );
}
