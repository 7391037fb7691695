import { useMemo } from 'react';
import { changedTensors } from '../core/calib/overrideList';
import { rankedMethods, withBestMethods } from '../core/search/bestMethods';
import type { UnitSensitivity } from '../core/search/scoring/sensitivity';
import { applyBestMethods } from '../state/actions';
import { useApp } from '../state/store';
import { useLayerInfo } from './hooks';

/**
 * run_sensitive_layer's new cali table from the last ranking: each ranked layer's output at the
 * method it measured least loss with, as one undoable edit. The ranking measured each method with
 * one layer alone quantized, so what the whole model gives with all of them is not known before
 * applying: the page says so instead of showing a figure (issue #11: a one-method ranking applied
 * this way took the output from 0.9753 to 0.9278 while a search result beside it read 0.9795).
 */
export function BestMethods({ ranking }: { ranking: readonly UnitSensitivity[] }) {
  const overrides = useApp((s) => s.tensorOverrides);
  const modelMethod = useApp((s) => s.calibrationSettings.method);
  const layers = useLayerInfo();
  const methods = useMemo(() => rankedMethods(ranking), [ranking]);
  const changed = useMemo(() => changedTensors(overrides, withBestMethods(overrides, ranking, layers)).length, [overrides, ranking, layers]);
  const only = methods.length === 1 ? methods[0] : null;
  const label = only ? `Use ${only} on the ${ranking.length} ranked layers` : "Use each layer's best method";
  return (
    <div className="best-methods" data-testid="best-methods">
      <button className="btn small" disabled={changed === 0} onClick={() => void applyBestMethods()} data-testid="search-use-best-methods"
        title="TPU-MLIR's new_cali_table: each ranked layer's output keeps the threshold of the method with the least loss; one edit, Undo goes back">
        {changed === 0 ? 'Best methods in force' : `${label} (${changed} tensor${changed === 1 ? '' : 's'} change)`}
      </button>
      <p className="muted note" data-testid="best-methods-estimate">
        <b>No figure promised:</b> the ranking measured {only ? <>only <b>{only}</b></> : methods.join(', ')} on each layer with that layer alone quantized
        {methods.includes(modelMethod) ? null : <>, never against the model's method ({modelMethod})</>}; the model with all of them together has not been measured.
        The header shows its output similarity once applied; Undo (Ctrl+Z) goes back.
      </p>
    </div>
  );
}
