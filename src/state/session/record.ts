import type { FileSource, OpenOptions, EngineKind } from '../../../workers/client';
import type { CalibrationSettings } from '../../core/calib/Calibration';
import type { OverrideList } from '../../core/calib/overrideList';
import type { Corrections } from '../../core/corrections/CorrectionState';
import type { ImagePreprocess } from '../../core/io/dataset/loadDataset';
import type { Limits } from '../../core/io/limits';
import type { OutputTask } from '../../core/metrics/tasks';
import { qtableFromData, qtableToData, type QTableData } from '../../core/model/QTable';
import type { TargetScheme } from '../../core/quant/schemes';
import type { WeightOptions } from '../../core/quant/WeightOptions';
import { NO_RULES, type RuleList } from '../../core/rules/rules';
import type { SearchRequest } from '../../core/search/SearchRequest';
import type { SearchKind, SearchResult, VisitedConfiguration } from '../../core/search/SearchSession';
import type { EditState } from '../slices/qtable';
import type { AppState } from '../store';

/** Labels as the user gave them: a labels file, or the class folders the samples sit in. */
export interface LabelsChoice<F> {
  readonly source?: F;
  readonly folders?: boolean;
}

/** One undo step as plain data. */
export interface EditData {
  readonly qtable: QTableData;
  readonly overrides: OverrideList;
  /** Absent in records saved before rules existed. */
  readonly rules?: RuleList;
}

/**
 * Everything the user did in a session, enough to build it again in a new compute worker (issue #12:
 * a lost worker, a cancelled inference, a reload): where the model, the data and the labels came
 * from (`F`: the files themselves while the page lives, stored files across a reload), every setting,
 * the QTable with its undo history, the per-tensor overrides, the corrections, the output tasks the
 * user chose, and the searches' requests and results. Figures are not kept: they are measured again.
 */
export interface SessionRecord<F> {
  readonly version: 1;
  readonly model: F;
  readonly options: OpenOptions;
  readonly data: readonly F[] | null;
  readonly labels: LabelsChoice<F> | null;
  /** A cali_table the user imported over the calibration. */
  readonly importedTable: F | null;
  readonly engineKind: EngineKind;
  readonly preprocess: ImagePreprocess;
  readonly limits: Limits;
  readonly scheme: TargetScheme['id'];
  readonly weightOptions: WeightOptions;
  readonly calibrationSettings: CalibrationSettings;
  /** The corrections in force when the session was last calibrated (null: never calibrated). */
  readonly corrections: Corrections | null;
  readonly qtable: QTableData;
  readonly overrides: OverrideList;
  /** The precision rules (issue #13); absent in records saved before rules existed. */
  readonly rules?: RuleList;
  readonly past: readonly EditData[];
  readonly future: readonly EditData[];
  /** Output tasks the user chose by hand (null: back to the detected one). */
  readonly outputTasks: Readonly<Record<string, OutputTask | null>>;
  readonly searchKind: SearchKind;
  readonly searchRequests: Partial<Record<SearchKind, SearchRequest>>;
  readonly searchResult: SearchResult | null;
  readonly visited: readonly VisitedConfiguration[];
}

/** The session the page holds now, with its live files; null while no model is open. */
export function currentSession(s: AppState): SessionRecord<FileSource> | null {
  const { sources } = s;
  if (!sources.model || !s.model) return null;
  const edit = (e: EditState): EditData => ({ qtable: qtableToData(e.qtable), overrides: e.overrides, rules: e.rules });
  return {
    version: 1,
    model: sources.model,
    options: sources.options,
    data: sources.data,
    labels: sources.labels,
    importedTable: sources.importedTable,
    engineKind: s.engineKind,
    preprocess: s.preprocess,
    limits: s.limits,
    scheme: s.scheme,
    weightOptions: s.weightOptions,
    calibrationSettings: s.calibrationSettings,
    corrections: s.calibration?.corrections ?? null,
    qtable: qtableToData(s.qtable),
    overrides: s.tensorOverrides,
    rules: s.rules,
    past: s.past.map(edit),
    future: s.future.map(edit),
    outputTasks: sources.outputTasks,
    searchKind: s.searchKind,
    searchRequests: s.searchRequests,
    searchResult: s.searchResult,
    visited: [...s.visited],
  };
}

/** An undo step back from plain data. */
export function editFromData(e: EditData): EditState {
  return { qtable: qtableFromData(e.qtable), overrides: e.overrides, rules: e.rules ?? NO_RULES };
}

/** The files a record names, each once: what storage must hold for it. */
export function recordFiles<F>(record: SessionRecord<F>): F[] {
  return [record.model, ...(record.data ?? []), ...(record.labels?.source ? [record.labels.source] : []), ...(record.importedTable ? [record.importedTable] : [])];
}

/** The same record over other file handles (live files to stored ones, and back). */
export async function mapFiles<A, B>(record: SessionRecord<A>, map: (file: A) => Promise<B>): Promise<SessionRecord<B>> {
  return {
    ...record,
    model: await map(record.model),
    data: record.data ? await Promise.all(record.data.map(map)) : null,
    labels: record.labels ? { ...record.labels, source: record.labels.source === undefined ? undefined : await map(record.labels.source) } : null,
    importedTable: record.importedTable ? await map(record.importedTable) : null,
  };
}
