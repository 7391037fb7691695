import type { StateCreator } from 'zustand';
import type { AppState } from '../store';
import type { LayerName } from '../../core/model/ModelGraph';
import { ALL_INT8, sameQTable, withPrecision, type Precision, type QTable } from '../../core/model/QTable';
import { NO_OVERRIDES, sameOverrides, type OverrideList } from '../../core/calib/overrideList';
import { NO_RULES, sameRules, type RuleList } from '../../core/rules/rules';

/**
 * What one Undo puts back: the QTable and the per-tensor calibration overrides of that moment
 * (issue #11: "use each layer's best method" and a Pareto point change both in one edit).
 */
export interface EditState {
  readonly qtable: QTable;
  readonly overrides: OverrideList;
  /**
   * The precision rules (core/rules) the QTable was made with: restored with it, since what a rule
   * change keeps as a hand edit is read off the QTable against the rules (reapplyRules).
   */
  readonly rules: RuleList;
}

/** The current QTable with undo and redo (every edit is kept; nothing is lost on a failed evaluation). */
export interface QTableSlice {
  qtable: QTable;
  /**
   * The per-tensor calibration overrides in force. The compute worker holds them (actions.ts keeps
   * it in step); here they are part of what Undo and Redo restore.
   */
  tensorOverrides: OverrideList;
  /** The precision rules in force, in order (the later wins); the QTable already holds what they give. */
  rules: RuleList;
  past: EditState[];
  future: EditState[];
  setPrecision: (layer: LayerName, precision: Precision) => void;
  replaceQTable: (qtable: QTable) => void;
  /** One edit of the QTable, the overrides, the rules or several; nothing goes on the undo list when none changes. */
  applyEdit: (next: Partial<EditState>) => void;
  undo: () => void;
  redo: () => void;
}

/**
 * Every QTable edit of an open model is remembered for the next visit (slices/saved.ts), under the
 * graph as read from the file (also while BN folding shows another). Opening a model resets the
 * QTable without an edit, so that reset never erases what was saved.
 */
function remember(get: () => AppState): void {
  const { openedGraph, model, qtable, saveQTable } = get();
  if (model && openedGraph) saveQTable(openedGraph, qtable);
}

const stateOf = (s: AppState): EditState => ({ qtable: s.qtable, overrides: s.tensorOverrides, rules: s.rules });
const shown = (state: EditState) => ({ qtable: state.qtable, tensorOverrides: state.overrides, rules: state.rules });

export const createQTableSlice: StateCreator<AppState, [], [], QTableSlice> = (set, get) => {
  /** An edit: the new QTable, the old one onto the undo list, and remembered. */
  const edit = (change: (s: AppState) => Partial<QTableSlice>) => {
    const before = get().qtable;
    set(change);
    if (get().qtable !== before) remember(get);
  };
  return {
    qtable: ALL_INT8,
    tensorOverrides: NO_OVERRIDES,
    rules: NO_RULES,
    past: [],
    future: [],
    setPrecision: (layer, precision) =>
      edit((s) => {
        // A node a .tflite/.circle conversion added has no entry: the edit sets its file operator (LayerInfo.operator).
        const entry = s.model?.layers.find((l) => l.name === layer)?.operator ?? layer;
        const next = withPrecision(s.qtable, entry, precision);
        return next === s.qtable ? {} : { qtable: next, past: [...s.past, stateOf(s)], future: [] };
      }),
    replaceQTable: (qtable) => edit((s) => ({ qtable, past: [...s.past, stateOf(s)], future: [] })),
    applyEdit: ({ qtable = get().qtable, overrides = get().tensorOverrides, rules = get().rules }) =>
      edit((s) => {
        const qtableChanged = !sameQTable(qtable, s.qtable);
        const overridesChanged = !sameOverrides(overrides, s.tensorOverrides);
        const rulesChanged = !sameRules(rules, s.rules);
        if (!qtableChanged && !overridesChanged && !rulesChanged) return {};
        return {
          qtable: qtableChanged ? qtable : s.qtable, tensorOverrides: overridesChanged ? overrides : s.tensorOverrides, rules: rulesChanged ? rules : s.rules,
          past: [...s.past, stateOf(s)], future: [],
        };
      }),
    undo: () => edit((s) => (s.past.length ? { ...shown(s.past[s.past.length - 1]), past: s.past.slice(0, -1), future: [stateOf(s), ...s.future] } : {})),
    redo: () => edit((s) => (s.future.length ? { ...shown(s.future[0]), future: s.future.slice(1), past: [...s.past, stateOf(s)] } : {})),
  };
};
