import type { StateCreator } from 'zustand';
import type { AppState } from '../store';
import type { FileSource, ModelSummary, OpenOptions } from '../../../workers/client';
import type { DatasetSummary } from '../../core/io/dataset/Dataset';
import type { OutputTask } from '../../core/metrics/tasks';
import type { LabelsChoice } from '../session/record';

/**
 * What the bridge (actions.ts) keeps about the work in flight, in the store rather than in module
 * variables: where the open model and its data came from (to open them again: another engine, a
 * lost worker, "Open as float"), the model being opened, the evaluations running and when the user
 * last edited. None of it is drawn; all of it is reset with the page.
 */
export interface SessionSlice {
  /** The open model's source and options, and the data read for it. */
  sources: {
    readonly model: FileSource | null;
    readonly options: OpenOptions;
    readonly data: FileSource[] | null;
    /** The labels the user gave (a file or the class folders), to give a new worker again. */
    readonly labels: LabelsChoice<FileSource> | null;
    /** Output tasks the user chose by hand (null: back to the detected one). */
    readonly outputTasks: Readonly<Record<string, OutputTask | null>>;
    /** The cali_table the user imported, to import again. */
    readonly importedTable: FileSource | null;
  };
  /** The graph as read from the file (kept while BN folding shows another): what its QTable is saved under. */
  openedGraph: ModelSummary['graph'] | null;
  /** The model being opened, so that data added meanwhile waits for it instead of failing. */
  opening: Promise<boolean> | null;
  /** Increases with each evaluation of the current QTable: an older one's results are dropped. */
  evaluationGeneration: number;
  /** Job ids of the evaluations running (a new edit cancels them). */
  runningEvaluations: readonly string[];
  /** When the user last changed the QTable (performance.now), to report edit -> similarity time. */
  editStartedAt: number | null;
  /** The dataset the file's own quantized model is being measured on. */
  measuringInFile: DatasetSummary | null;
  /** Set while the page builds a session again (a lost worker, a reload): a second loss meanwhile is not retried, and nothing is saved. */
  reopening: boolean;
  /** Why the last session could not be saved (a quota error), shown once; null when saving works. */
  sessionSaveError: string | null;
}

export const createSessionSlice: StateCreator<AppState, [], [], SessionSlice> = () => ({
  sources: { model: null, options: {}, data: null, labels: null, outputTasks: {}, importedTable: null },
  openedGraph: null,
  opening: null,
  evaluationGeneration: 0,
  runningEvaluations: [],
  editStartedAt: null,
  measuringInFile: null,
  reopening: false,
  sessionSaveError: null,
});
