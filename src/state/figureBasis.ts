import { changedTensors, everyTensorAt, sameOverrides, type OverrideList } from '../core/calib/overrideList';
import { qtableFromData, sameQTable, type QTable } from '../core/model/QTable';
import type { VisitedConfiguration } from '../core/search/SearchSession';
import type { CalibrationSummary } from '../core/Workbench';
import type { WeightOptions } from '../core/quant/WeightOptions';
import type { TargetScheme } from '../core/quant/schemes';

/**
 * What a search's figures were measured under besides the QTable. A configuration's figure holds
 * only under the same basis: applying it puts its overrides back (one undoable edit, so that the
 * header then shows the figure it promised); the rest no edit can put back, and the page says so.
 */
export interface FigureBasis {
  /** The per-tensor calibration overrides in force when it was scored. */
  readonly overrides: OverrideList;
  /** Everything else the figure depends on (model-wide method, corrections, imported table, samples, scheme, weights), as a key. */
  readonly settings: string;
}

/** The basis of what the page would measure now. */
export function figureBasis(s: {
  readonly tensorOverrides: OverrideList;
  readonly calibration: CalibrationSummary | null;
  readonly scheme: TargetScheme['id'];
  readonly weightOptions: WeightOptions;
}): FigureBasis {
  const c = s.calibration;
  const settings = JSON.stringify([c?.settings ?? null, c?.corrections ?? null, c?.imported ?? null, c?.sampleCount ?? null, c?.evaluationSampleCount ?? null, s.scheme, s.weightOptions]);
  return { overrides: s.tensorOverrides, settings };
}

/**
 * The overrides applying a configuration puts in force: every tensor at its method when it was
 * scored with one method's whole table, else those it was scored with (the ones in force now when
 * that is not known).
 */
export function appliedOverrides(configuration: Pick<VisitedConfiguration, 'method'>, scored: FigureBasis | undefined, now: FigureBasis, tensors: readonly string[]): OverrideList {
  if (configuration.method) return everyTensorAt(tensors, configuration.method);
  return scored?.overrides ?? now.overrides;
}

/** Whether the page is in exactly this configuration now: its QTable and the overrides applying it sets. */
export function isCurrentConfiguration(configuration: Pick<VisitedConfiguration, 'method' | 'qtable'>, scored: FigureBasis | undefined, now: FigureBasis, qtable: QTable, tensors: readonly string[]): boolean {
  return sameQTable(qtableFromData(configuration.qtable), qtable) && sameOverrides(appliedOverrides(configuration, scored, now, tensors), now.overrides);
}

/**
 * What the page says next to a configuration's figure: that it was scored under settings no edit
 * puts back (the figure is stale), or what applying it sets besides its QTable; null when applying
 * it gives its figure with nothing else to say.
 */
export function configurationNote(configuration: Pick<VisitedConfiguration, 'method'>, scored: FigureBasis | undefined, now: FigureBasis): { readonly text: string; readonly stale: boolean } | null {
  if (scored && scored.settings !== now.settings) {
    return { text: 'Scored under other calibration settings, corrections, target scheme or weight options: applying it now gives another figure.', stale: true };
  }
  if (configuration.method) return { text: `Scored with every tensor at ${configuration.method}: applying it sets that method on every tensor (Undo goes back).`, stale: false };
  const moved = scored ? changedTensors(now.overrides, scored.overrides).length : 0;
  if (moved) return { text: `Scored with other per-tensor methods: applying it puts them back (${moved} tensor${moved === 1 ? '' : 's'}; Undo goes back).`, stale: false };
  return null;
}
