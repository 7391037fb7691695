import type { StateCreator } from 'zustand';
import type { AppState } from '../store';
import type { Capabilities, EngineKind, ModelSummary } from '../../../workers/client';
import type { GraphLayout } from '../../core/layout/layoutGraph';
import { ALL_INT8 } from '../../core/model/QTable';
import { NO_OVERRIDES } from '../../core/calib/overrideList';
import { NO_RULES } from '../../core/rules/rules';
import { NO_SELECTION } from './ui';

export interface ModelSlice {
  model: ModelSummary | null;
  modelLoading: string | null;
  layout: GraphLayout | null;
  engineKind: EngineKind;
  capabilities: Capabilities | null;
  modelOpened: (model: ModelSummary) => void;
  /** No model any more (the compute worker that held it was lost): everything about it goes. */
  modelClosed: () => void;
  /** The same model with a new graph (BN folding on or off): the QTable and its history stay. */
  modelReplaced: (model: ModelSummary) => void;
  layoutReady: (layout: GraphLayout) => void;
}

/** What belongs to the open model and goes when another opens (or none is left). */
export const modelStateReset = () => ({
  layout: null, dataset: null, calibration: null, qtable: ALL_INT8, tensorOverrides: NO_OVERRIDES, past: [], future: [],
  // rules go with the model: its QTable starts at the default, which they never made
  rules: NO_RULES, selection: NO_SELECTION,
  outputEvaluation: null, layerEvaluation: null, baseline: null, lastExport: null, quantizedInFile: null, selected: null, thresholdSearch: null, correctionEffects: {},
  // another model has other classes
  classNames: null,
  // a new array each time: `visited` grows in place
  searchRun: null, searchResult: null, visited: [], visitedRevision: 0, beforeApply: null,
}) satisfies Partial<AppState>;

export const createModelSlice: StateCreator<AppState, [], [], ModelSlice> = (set) => ({
  model: null,
  modelLoading: null,
  layout: null,
  engineKind: 'wasm',
  capabilities: null,
  modelOpened: (model) => set({ model, ...modelStateReset() }),
  modelClosed: () => set({ model: null, ...modelStateReset() }),
  modelReplaced: (model) =>
    set((s) => ({
      model, layout: null, outputEvaluation: null, layerEvaluation: null, baseline: null, lastExport: null, searchResult: null, visited: [],
      selected: s.selected && model.layers.some((l) => l.name === s.selected) ? s.selected : null,
      selection: s.selection.length ? s.selection.filter((name) => model.layers.some((l) => l.name === name)) : s.selection,
    })),
  layoutReady: (layout) => set({ layout }),
});
