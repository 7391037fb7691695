import { nothingToQuantize, useApp } from '../state/store';
import { isRunning } from '../state/slices/jobs';
import type { Evaluation } from '../core/model/Evaluation';
import { primaryValue, taskFiguresText, worstTaskOutput } from '../core/metrics/taskMetrics';
import { PRIMARY_FIGURE } from '../core/metrics/tasks';
import { formatDuration, formatMetric } from './format';

/**
 * The end-to-end similarity of the current QTable, always visible in the header. A model where no
 * layer can be quantized has none to give (its "quantized" model is the float model): the reason
 * stands in its place. A QDQ file opened as float also shows its own quantized model's figure.
 */
export function OutputSimilarity() {
  const evaluation = useApp((s) => s.outputEvaluation);
  const preliminary = useApp((s) => s.preliminaryEvaluation);
  const baseline = useApp((s) => s.baseline);
  const calibrated = useApp((s) => s.calibration !== null);
  const evaluating = useApp((s) => isRunning(s.jobs, 'evaluate:outputs'));
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
  // The progressive answer's first figure stands in, marked, until the full one arrives (issue #15).
  const shown = preliminary ?? evaluation;
  const shownCos = shown?.output.cos;
  const status = preliminary?.preliminary
    ? `first ${preliminary.sampleCount} of ${preliminary.preliminary.of} samples…`
    : evaluating && evaluation ? 'updating…' : null;
  // Beside a preliminary headline (2 samples, marked by the status) no figure of the previous table
  // stays, and none that 2 samples cannot carry: the task figure and the change against all-INT8
  // (measured on every sample) wait for the full evaluation.
  const delta = !preliminary && cos !== undefined && baseline && baseline !== evaluation ? cos - baseline.output.cos : undefined;
  const worst = shown ? worstName(shown) : null;
  return (
    <div className={`output-sim${evaluating ? ' stale' : ''}`} data-testid="output-similarity" title={`Cosine similarity of the model outputs, quantized vs float, averaged over the samples: the worst output, or the worst part of an output built by a Concat, never a mean${shown ? `\n${figuresText(shown)}` : ''}; after an edit, the time it took to update`}>
      <span className="label">Output cos</span>
      {worst && <span className="worst" data-testid="output-worst" title="The output (or output part) the headline figure comes from: the worst one">{worst}</span>}
      {/* data-value is the full figure only; a preliminary one is in data-preliminary */}
      <span className={`value${preliminary ? ' preliminary' : ''}`} data-testid="output-cos" data-value={cos ?? ''} {...(preliminary ? { 'data-preliminary': preliminary.output.cos } : {})}>{formatMetric('cos', shownCos)}</span>
      <span className="sub">SQNR {formatMetric('sqnr', shown?.output.sqnr)}{status ? <span className="status" data-testid="output-status"> · {status}</span> : whatIfMs !== null ? ` · ${formatDuration(whatIfMs)}` : ''}</span>
      <TaskFigure evaluation={preliminary ? null : evaluation} />
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

/** The output or output part the headline comes from, when there is more than one to choose from. */
function worstName(evaluation: Evaluation): string | null {
  const { worst } = evaluation;
  const choices = Object.keys(evaluation.perOutput).length + Object.keys(evaluation.perPart ?? {}).length;
  if (!worst || choices < 2) return null;
  return worst.part ? `${worst.output} · part ${worst.part}` : worst.output;
}

/** Every output's and part's figure, one per line (the tooltip). */
function figuresText(evaluation: Evaluation): string {
  const lines = Object.entries(evaluation.perOutput).map(([name, m]) => `${name}: cos ${formatMetric('cos', m.cos)}`);
  for (const [key, m] of Object.entries(evaluation.perPart ?? {})) lines.push(`  ${key}: cos ${formatMetric('cos', m.cos)}`);
  return lines.join('\n');
}

/** Below this, a task figure is shown as a failure (red): most answers no longer match float. */
const TASK_FAILING = 0.9;

/**
 * The worst task output's headline figure in its task's words (top-1 agreement, detection F1, map
 * IoU, decoded agreement): the number that says whether the model still does its job.
 */
function TaskFigure({ evaluation }: { evaluation: Evaluation | null }) {
  const entries = Object.entries(evaluation?.tasks ?? {});
  const found = worstTaskOutput(evaluation?.tasks);
  if (!found) return null;
  const { output: name, figures: worst } = found;
  const value = primaryValue(worst);
  const all = entries.map(([output, t]) => `${output}: ${taskFiguresText(t)}`).join('\n');
  return (
    <span className={`task-figure${value < TASK_FAILING ? ' failing' : ''}`} data-testid="output-task" data-task={worst.task} data-value={value}
      title={`How the quantized model does the float model's job, per output (the worst shown):\n${all}`}>
      {PRIMARY_FIGURE[worst.task].label} <b>{(100 * value).toFixed(1)} %</b>{entries.length > 1 ? ` (${name})` : ''}
    </span>
  );
}
