import { create, type StateCreator } from 'zustand';
import type { CalibrationSummary, Corrections, ThresholdSearchRow } from '../core/Workbench';
import { DEFAULT_CALIBRATION, type CalibrationSettings } from '../core/calib/Calibration';
import { DEFAULT_WEIGHT_OPTIONS, type WeightOptions } from '../core/quant/buildQdqModel';
import type { DatasetSummary } from '../core/io/dataset/Dataset';
import { DEFAULT_PREPROCESS, type ImagePreprocess } from '../core/io/dataset/loadDataset';
import type { JobProgress } from '../core/jobs/Job';
import type { GraphLayout } from '../core/layout/layoutGraph';
import type { LayerName } from '../core/model/ModelGraph';
import type { TargetScheme } from '../core/quant/schemes';
import { ALL_INT8, withPrecision, type Precision, type QTable } from '../core/quant/QTable';
import type { Evaluation } from '../core/sim/Evaluation';
import type { ExportVerification } from '../core/export/verifyExport';
import type { ErrorMetrics } from '../core/metrics/similarity';
import type { Capabilities, EngineKind, ModelSummary } from '../../workers/WorkbenchService';
import type { SearchKind, SearchResult, VisitedConfiguration } from '../core/search/SearchSession';
import type { SearchRequest } from '../core/search/SearchRequest';
import type { UnitSensitivity } from '../core/search/sensitivity';

/** What the graph is coloured by: a per-layer error, or the searches' sensitivity (loss with only that layer quantized). */
export type Metric = 'cos' | 'mse' | 'sqnr' | 'sensitivity';

/** The on/off corrections (the rest of Corrections are their numbers). */
export type CorrectionToggle = { [K in keyof Corrections]: Corrections[K] extends boolean ? K : never }[keyof Corrections];

export interface ModelSlice {
  model: ModelSummary | null;
  modelLoading: string | null;
  layout: GraphLayout | null;
  engineKind: EngineKind;
  capabilities: Capabilities | null;
  modelOpened: (model: ModelSummary) => void;
  /** The same model with a new graph (BN folding on or off): the QTable and its history stay. */
  modelReplaced: (model: ModelSummary) => void;
  layoutReady: (layout: GraphLayout) => void;
}

export interface DataSlice {
  dataset: DatasetSummary | null;
  preprocess: ImagePreprocess;
  calibration: CalibrationSummary | null;
  scheme: TargetScheme['id'];
  calibrationSettings: CalibrationSettings;
  weightOptions: WeightOptions;
  /** search_threshold's comparison, newest run. */
  thresholdSearch: readonly ThresholdSearchRow[] | null;
  /** Float inference time over the calibration samples, to weigh calibration against. */
  floatBaseline: { readonly samples: number; readonly perSampleMs: number; readonly calibrationBytes: number | null } | null;
  /** The output cosine before and after each correction was last switched, to show next to its toggle. */
  correctionEffects: Partial<Record<CorrectionToggle, { readonly on: boolean; readonly before: number | null; readonly after: number }>>;
  /** Corrections asked for and being applied (the toggles show them at once; a failure puts them back). */
  correctionsPending: Corrections | null;
  datasetLoaded: (dataset: DatasetSummary) => void;
  calibrated: (calibration: CalibrationSummary) => void;
  setPreprocess: (preprocess: ImagePreprocess) => void;
}

/** The current QTable with undo and redo (every edit is kept; nothing is lost on a failed evaluation). */
export interface QTableSlice {
  qtable: QTable;
  past: QTable[];
  future: QTable[];
  setPrecision: (layer: LayerName, precision: Precision) => void;
  replaceQTable: (qtable: QTable) => void;
  undo: () => void;
  redo: () => void;
}

export interface EvaluationSlice {
  /** Latest outputs-only evaluation of the current QTable (the end-to-end similarity). */
  outputEvaluation: Evaluation | null;
  /** Latest per-layer evaluation (may be of an earlier QTable while a new one runs). */
  layerEvaluation: Evaluation | null;
  /** The all-INT8 evaluation, kept to show how far the current QTable moved the output. */
  baseline: Evaluation | null;
  lastExport: { verification: ExportVerification; fileName: string } | null;
  /**
   * A QDQ file opened as float: its own quantized model's output error against that float model on
   * the evaluation samples (what a re-quantization is compared with); null until measured.
   */
  quantizedInFile: ErrorMetrics | null;
  /** Time from the last QTable edit to its output similarity, and to its per-layer errors. */
  lastEditToSimilarityMs: number | null;
  lastEditToLayersMs: number | null;
  evaluated: (evaluation: Evaluation, depth: 'outputs' | 'layers') => void;
}

/** A search being run: what it has found so far, streamed from the pool. */
export interface SearchRun {
  readonly jobId: string;
  readonly request: SearchRequest;
  readonly startedAt: number;
  readonly sensitivities: readonly UnitSensitivity[];
  readonly log: readonly string[];
  /** Set when the search was cancelled or failed: what it found stays on screen, but nothing runs. */
  readonly stopped?: boolean;
}

/** Why no layer of the open model can be quantized, in words; null when some can (or no model is open). */
export const nothingToQuantize = (s: AppState): string | null => s.model?.findings.nothingToQuantize ?? null;

/** Whether a search is running now (a stopped one only keeps its partial results on screen). */
export const isSearching = (run: SearchRun | null): run is SearchRun => run !== null && !run.stopped;

export interface SearchSlice {
  searchKind: SearchKind;
  /** The form's request per search kind (parameters and metric), kept while switching kinds. */
  searchRequests: Partial<Record<SearchKind, SearchRequest>>;
  searchRun: SearchRun | null;
  searchResult: SearchResult | null;
  /** Every configuration the searches scored for this model and calibration: the Pareto view's points. */
  visited: readonly VisitedConfiguration[];
  /** The QTable before the last search result was applied, to compare with and to go back to. */
  beforeApply: QTable | null;
  setSearchKind: (kind: SearchKind) => void;
}

export interface Job {
  readonly id: string;
  readonly label: string;
  readonly progress: JobProgress | null;
  readonly startedAt: number;
}

export interface JobsSlice {
  jobs: Record<string, Job>;
  jobStarted: (id: string, label: string) => void;
  jobProgressed: (id: string, progress: JobProgress) => void;
  jobEnded: (id: string) => void;
}

export interface Message {
  readonly id: number;
  readonly kind: 'error' | 'info';
  readonly text: string;
}

export interface UiSlice {
  selected: LayerName | null;
  metric: Metric;
  messages: Message[];
  bottomTab: 'layers' | 'data' | 'search' | 'export';
  select: (layer: LayerName | null) => void;
  setMetric: (metric: Metric) => void;
  setBottomTab: (tab: UiSlice['bottomTab']) => void;
  notify: (kind: Message['kind'], text: string) => void;
  dismiss: (id: number) => void;
}

export type AppState = ModelSlice & DataSlice & QTableSlice & EvaluationSlice & JobsSlice & UiSlice & SearchSlice;

const createModelSlice: StateCreator<AppState, [], [], ModelSlice> = (set) => ({
  model: null,
  modelLoading: null,
  layout: null,
  engineKind: 'wasm',
  capabilities: null,
  modelOpened: (model) =>
    set({
      model, layout: null, dataset: null, calibration: null, qtable: ALL_INT8, past: [], future: [],
      outputEvaluation: null, layerEvaluation: null, baseline: null, lastExport: null, quantizedInFile: null, selected: null, thresholdSearch: null, correctionEffects: {},
      searchRun: null, searchResult: null, visited: [], beforeApply: null,
    }),
  modelReplaced: (model) =>
    set((s) => ({
      model, layout: null, outputEvaluation: null, layerEvaluation: null, baseline: null, lastExport: null, searchResult: null, visited: [],
      selected: s.selected && model.layers.some((l) => l.name === s.selected) ? s.selected : null,
    })),
  layoutReady: (layout) => set({ layout }),
});

const createDataSlice: StateCreator<AppState, [], [], DataSlice> = (set) => ({
  dataset: null,
  preprocess: DEFAULT_PREPROCESS,
  calibration: null,
  scheme: 'ort-qdq',
  calibrationSettings: DEFAULT_CALIBRATION,
  weightOptions: DEFAULT_WEIGHT_OPTIONS,
  thresholdSearch: null,
  floatBaseline: null,
  correctionEffects: {},
  correctionsPending: null,
  datasetLoaded: (dataset) => set({ dataset, calibration: null, outputEvaluation: null, layerEvaluation: null, baseline: null, floatBaseline: null, quantizedInFile: null }),
  // A new calibration changes every score a search gave: its results and points no longer hold.
  calibrated: (calibration) => set({ calibration, calibrationSettings: calibration.settings, outputEvaluation: null, layerEvaluation: null, baseline: null, searchResult: null, visited: [] }),
  setPreprocess: (preprocess) => set({ preprocess }),
});

const createQTableSlice: StateCreator<AppState, [], [], QTableSlice> = (set) => ({
  qtable: ALL_INT8,
  past: [],
  future: [],
  setPrecision: (layer, precision) =>
    set((s) => {
      const next = withPrecision(s.qtable, layer, precision);
      return next === s.qtable ? {} : { qtable: next, past: [...s.past, s.qtable], future: [] };
    }),
  replaceQTable: (qtable) => set((s) => ({ qtable, past: [...s.past, s.qtable], future: [] })),
  undo: () => set((s) => (s.past.length ? { qtable: s.past[s.past.length - 1], past: s.past.slice(0, -1), future: [s.qtable, ...s.future] } : {})),
  redo: () => set((s) => (s.future.length ? { qtable: s.future[0], future: s.future.slice(1), past: [...s.past, s.qtable] } : {})),
});

const createEvaluationSlice: StateCreator<AppState, [], [], EvaluationSlice> = (set) => ({
  outputEvaluation: null,
  layerEvaluation: null,
  baseline: null,
  lastExport: null,
  quantizedInFile: null,
  lastEditToSimilarityMs: null,
  lastEditToLayersMs: null,
  evaluated: (evaluation, depth) =>
    set((s) => {
      if (depth === 'layers') return { layerEvaluation: evaluation };
      const isBaseline = evaluation.qtable.layers.length === 0 && evaluation.qtable.defaultPrecision === 'INT8';
      return { outputEvaluation: evaluation, ...(isBaseline && !s.baseline ? { baseline: evaluation } : {}) };
    }),
});

const createJobsSlice: StateCreator<AppState, [], [], JobsSlice> = (set) => ({
  jobs: {},
  jobStarted: (id, label) => set((s) => ({ jobs: { ...s.jobs, [id]: { id, label, progress: null, startedAt: performance.now() } } })),
  jobProgressed: (id, progress) => set((s) => (s.jobs[id] ? { jobs: { ...s.jobs, [id]: { ...s.jobs[id], progress } } } : {})),
  jobEnded: (id) =>
    set((s) => {
      const jobs = { ...s.jobs };
      delete jobs[id];
      return { jobs };
    }),
});

let messageId = 0;
const createUiSlice: StateCreator<AppState, [], [], UiSlice> = (set) => ({
  selected: null,
  metric: 'cos',
  messages: [],
  bottomTab: 'layers',
  select: (selected) => set({ selected }),
  setMetric: (metric) => set({ metric }),
  setBottomTab: (bottomTab) => set({ bottomTab }),
  notify: (kind, text) => {
    const id = ++messageId;
    set((s) => ({ messages: [...s.messages.filter((m) => m.text !== text), { id, kind, text }] }));
    // Notes leave by themselves; errors stay until dismissed.
    if (kind === 'info') setTimeout(() => set((s) => ({ messages: s.messages.filter((m) => m.id !== id) })), 8000);
  },
  dismiss: (id) => set((s) => ({ messages: s.messages.filter((m) => m.id !== id) })),
});

const createSearchSlice: StateCreator<AppState, [], [], SearchSlice> = (set) => ({
  searchKind: 'sensitive',
  searchRequests: {},
  searchRun: null,
  searchResult: null,
  visited: [],
  beforeApply: null,
  setSearchKind: (searchKind) => set({ searchKind }),
});

/** The store; also reachable as window.qbenchState() for benchmarks and debugging in the console. */
export const useApp = create<AppState>()((...a) => ({
  ...createModelSlice(...a),
  ...createDataSlice(...a),
  ...createQTableSlice(...a),
  ...createEvaluationSlice(...a),
  ...createJobsSlice(...a),
  ...createUiSlice(...a),
  ...createSearchSlice(...a),
}));

(globalThis as { qbenchState?: () => AppState }).qbenchState = () => useApp.getState();
