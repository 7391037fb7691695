import type { QuantWarning } from '../core/metrics/collapseWarnings';
import { runSearch, setPrecision } from '../state/actions';
import { useApp } from '../state/store';

/**
 * What the latest evaluation says is broken (issue #11), in red under the header: a part of an
 * output lost inside a good-looking whole (a detector whose class scores all round to 0), an output
 * that collapsed. Each names the layer, and the fix is one click (an edit like any other: Undo
 * takes it back).
 */
/** One empty list: a selector must return the same object while nothing changed (a new [] re-renders forever). */
const NONE: readonly QuantWarning[] = [];

export function EvaluationWarnings() {
  const warnings = useApp((s) => s.outputEvaluation?.warnings ?? NONE);
  const select = useApp((s) => s.select);
  if (warnings.length === 0) return null;
  return (
    <ul className="model-notes evaluation-warnings" data-testid="evaluation-warnings" aria-label="What the figures say is broken">
      {warnings.map((w) => (
        <li key={w.message} className="model-note error" data-testid="evaluation-warning" data-kind={w.kind} data-layer={w.layer ?? undefined}>
          <span className="note-icon" aria-hidden="true">⚠</span>
          <span className="note-text" title={w.message} onClick={() => w.layer && select(w.layer)}>{w.message.charAt(0).toUpperCase() + w.message.slice(1)}</span>
          {(w.kind === 'collapsed-part' || w.kind === 'rounds-to-constant') && w.layer && (
            <button className="btn small" onClick={() => setPrecision(w.layer!, 'FP32')} data-testid="fix-keep-float" title={`Set ${w.layer} to FP32: each part of the output keeps its own range`}>Keep {w.layer} float</button>
          )}
          {w.kind === 'task-cliff' && (
            <button className="btn small" onClick={() => runPatternRules()} data-testid="fix-pattern-rules" title="Run TPU-MLIR's pattern rules (YOLO post-processing, transformer rules): they keep the layers that break a task's outputs in float">Run the pattern rules</button>
          )}
        </li>
      ))}
    </ul>
  );
}

/** The pattern search, from the warning: switches the search tab to it and runs it. */
function runPatternRules(): void {
  useApp.setState({ searchKind: 'pattern', bottomTab: 'search' });
  void runSearch();
}
