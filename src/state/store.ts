import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { createDataSlice, type DataSlice } from './slices/data';
import { createEvaluationSlice, type EvaluationSlice } from './slices/evaluation';
import { createJobsSlice, type JobsSlice } from './slices/jobs';
import { createLayerErrorsSlice, type LayerErrorsSlice } from './slices/layerErrors';
import { createModelSlice, type ModelSlice } from './slices/model';
import { createQTableSlice, type QTableSlice } from './slices/qtable';
import { createSavedSlice, type SavedSlice } from './slices/saved';
import { createSearchSlice, type SearchSlice } from './slices/search';
import { createSessionSlice, type SessionSlice } from './slices/session';
import { createUiSlice, type UiSlice } from './slices/ui';

export type { CorrectionToggle } from './slices/data';
export type { Job } from './slices/jobs';
export { isSearching, type SearchRun } from './slices/search';
export type { Message, Metric } from './slices/ui';

/** The page's state: one slice per concern (src/state/slices), composed here. */
export type AppState = ModelSlice & DataSlice & QTableSlice & EvaluationSlice & JobsSlice & UiSlice & SearchSlice & SessionSlice & SavedSlice & LayerErrorsSlice;

/** Why no layer of the open model can be quantized, in words; null when some can (or no model is open). */
export const nothingToQuantize = (s: AppState): string | null => s.model?.findings.nothingToQuantize ?? null;

/**
 * The store; also reachable as window.qbenchState() for benchmarks and debugging in the console.
 * Only the saved QTables persist (localStorage, through zustand's persist middleware).
 */
export const useApp = create<AppState>()(
  persist(
    (...a) => ({
      ...createModelSlice(...a),
      ...createDataSlice(...a),
      ...createQTableSlice(...a),
      ...createEvaluationSlice(...a),
      ...createJobsSlice(...a),
      ...createUiSlice(...a),
      ...createSearchSlice(...a),
      ...createSessionSlice(...a),
      ...createSavedSlice(...a),
      ...createLayerErrorsSlice(...a),
    }),
    {
      name: 'qbench',
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (state) => ({ savedQTables: state.savedQTables }),
    },
  ),
);

(globalThis as { qbenchState?: () => AppState }).qbenchState = () => useApp.getState();
