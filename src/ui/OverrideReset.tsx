import { resetOverrides } from '../state/actions';
import { useApp } from '../state/store';

/**
 * How many tensors have a method or threshold of their own (set in the inspector, by "use each
 * layer's best method" or by applying a Pareto point), and one undoable reset of all of them.
 */
export function OverrideReset() {
  const overrides = useApp((s) => s.tensorOverrides);
  const calibrated = useApp((s) => s.calibration !== null);
  if (!calibrated) return null;
  const thresholds = overrides.filter(([, o]) => 'threshold' in o).length;
  const methods = overrides.length - thresholds;
  return (
    <p className="muted note override-reset" data-testid="override-summary" data-count={overrides.length}>
      {overrides.length === 0
        ? 'No per-layer override: every tensor takes the model-wide method.'
        : <>
            <b data-testid="override-count">{overrides.length}</b> per-layer override{overrides.length === 1 ? '' : 's'} ({methods} method{methods === 1 ? '' : 's'}, {thresholds} typed threshold{thresholds === 1 ? '' : 's'}).{' '}
            <button className="btn small" onClick={() => void resetOverrides()} data-testid="reset-overrides" title="Every tensor back to the model-wide method; one edit, Undo (Ctrl+Z) puts them back">
              Reset every per-layer override
            </button>
          </>}
    </p>
  );
}
