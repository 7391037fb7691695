import { call, handleComputeWorkerLoss, setRunTimeLimit } from '../../../workers/client';
import type { EngineKind, FileSource } from '../../../workers/client';
import { errorMessage } from '../../core/errors';
import { qtableFromData, sameQTable } from '../../core/model/QTable';
import { NO_RULES } from '../../core/rules/rules';
import type { Corrections } from '../../core/corrections/CorrectionState';
import { calibrate, evaluateCurrent, layOut, loadData, openModel, putOverrides, runJob } from '../actions';
import { useApp, type AppState } from '../store';
import { currentSession, editFromData, type SessionRecord } from './record';
import { newSessionId, refreshRecent, useRecent } from './recentStore';
import { canKeepSessions, listSessions, loadSession, removeSession, saveSession } from './storage';

/**
 * Builds a session again in a new compute worker (issue #12): after the worker was lost (it
 * failed, went silent, or was ended to stop a cancelled inference), after a reload, or on another
 * engine. The model opens, the settings, data, calibration, corrections, imported table, overrides,
 * output tasks and labels go back to the worker in the order they were made, and the page gets back
 * the QTable, its undo history and the searches' requests and results. Then it evaluates once.
 */

const app = () => useApp.getState();

/** What the restore leaves out: the step a cancel, the time limit or a crash stopped (running it again would do the same). */
export interface RestoreOptions {
  /** The kind of the job that was stopped (the job bar's kind: 'calibrate', 'evaluate:layers', ...). */
  readonly cancelledKind?: string;
}

function sameCorrections(a: Corrections, b: Corrections): boolean {
  return (Object.keys(a) as (keyof Corrections)[]).every((k) => a[k] === b[k]);
}

/** Builds `record` in the compute worker; false when a step failed (its message is shown) or was cancelled. */
export async function restoreSession(record: SessionRecord<FileSource>, { cancelledKind }: RestoreOptions = {}): Promise<boolean> {
  useApp.setState({ reopening: true, engineKind: record.engineKind, preprocess: record.preprocess, limits: record.limits });
  try {
    return await rebuild(record, cancelledKind);
  } catch (error) {
    app().notify('error', `Your session on ${record.model.name} could not be built again: ${errorMessage(error)}`);
    return false;
  } finally {
    useApp.setState({ reopening: false });
  }
}

async function rebuild(record: SessionRecord<FileSource>, cancelledKind: string | undefined): Promise<boolean> {
  if (!(await openModel(record.model, record.options, true))) return false;
  await call('setScheme', { scheme: record.scheme });
  await call('setWeightOptions', { options: record.weightOptions });
  await call('setCalibrationSettings', { settings: record.calibrationSettings });
  useApp.setState({
    scheme: record.scheme, weightOptions: record.weightOptions, calibrationSettings: record.calibrationSettings,
    qtable: qtableFromData(record.qtable), rules: record.rules ?? NO_RULES, past: record.past.map(editFromData), future: record.future.map(editFromData),
    searchKind: record.searchKind, searchRequests: record.searchRequests,
  });
  if (record.data) {
    if (!(await loadData([...record.data], record.preprocess, { calibrate: false }))) return false;
    if (cancelledKind === 'calibrate') {
      app().notify('info', 'The calibration did not finish: the data is read, not calibrated. Calibrate when ready (Data & calibration → Calibrate).');
      restoreSearches(record);
      return true;
    }
    if (!(await calibrate({ evaluate: false }))) return false;
    await restoreCalibrationEdits(record);
  }
  restoreSearches(record);
  // The evaluation that was stopped is not run again (the outputs' figure alone after the layers'
  // was stopped), unless the user edited the QTable while the session was being built: an edit is
  // always measured.
  const untouched = sameQTable(app().qtable, qtableFromData(record.qtable));
  if (cancelledKind === 'evaluate:outputs' && untouched) return true;
  await evaluateCurrent(cancelledKind === 'evaluate:layers' && untouched ? { depths: ['outputs'] } : undefined);
  return true;
}

/** What was made on top of the calibration, in the order it was made. */
async function restoreCalibrationEdits(record: SessionRecord<FileSource>): Promise<void> {
  const current = app().calibration?.corrections;
  if (record.corrections && current && !sameCorrections(record.corrections, current)) {
    const result = await runJob('setCorrections', { corrections: record.corrections, qtable: app().qtable }, 'Restoring the corrections');
    if (result) {
      if (result.model) {
        app().modelReplaced(result.model);
        layOut(result.model.graph);
      }
      useApp.setState({ calibration: result.summary, calibrationSettings: result.summary.settings });
    }
  }
  if (record.importedTable) {
    const imported = await call('importTable', { source: record.importedTable });
    if (imported.kind === 'cali_table') useApp.setState((s) => ({ calibration: imported.summary, sources: { ...s.sources, importedTable: record.importedTable } }));
  }
  if (record.overrides.length && (await putOverrides(record.overrides))) useApp.setState({ tensorOverrides: record.overrides });
  for (const [output, task] of Object.entries(record.outputTasks)) {
    await call('setOutputTask', { output, task });
    useApp.setState((s) => ({ sources: { ...s.sources, outputTasks: { ...s.sources.outputTasks, [output]: task } } }));
  }
  if (record.labels) {
    await call('setLabels', record.labels);
    useApp.setState((s) => ({ sources: { ...s.sources, labels: record.labels } }));
  }
}

/** Another engine: the session is built again in the worker on it. */
export async function setEngine(engineKind: EngineKind): Promise<void> {
  const session = currentSession(app());
  useApp.setState({ engineKind });
  if (session) await restoreSession({ ...session, engineKind });
}

/** The searches' results (a calibration clears them: put back after it). */
function restoreSearches(record: SessionRecord<FileSource>): void {
  useApp.setState((s) => ({ searchResult: record.searchResult, visited: [...record.visited], visitedRevision: s.visitedRevision + 1 }));
}

// A lost compute worker took the model, its data and its calibration with it. The page drops them
// at once, so that nothing on screen claims a worker that is gone, and builds the session again in
// a new worker, once: nothing the user made is lost.
handleComputeWorkerLoss(({ reason, cancelled }) => {
  const session = currentSession(app());
  const retry = session !== null && !app().reopening;
  // The step that was running is left out of the rebuild: cancelled, over the time limit, or what
  // took the worker down, running it again would do the same.
  const skipped = cancelled?.jobKind ?? Object.values(app().jobs)[0]?.kind;
  const message = cancelled
    ? `Cancelled (${reason}): the compute worker was ended to stop it${retry ? '; your session is being built again in a new worker' : ''}`
    : `The compute worker stopped (${reason}): the open model and its calibration are lost${retry ? `; opening ${session.model.name} again in a new worker (your session is kept: data, settings, edits and undo history)` : '; open the model again'}`;
  app().modelClosed();
  app().notify(cancelled ? 'info' : 'error', message);
  if (retry) void restoreSession(session, { cancelledKind: skipped });
  return message;
});

/** The fields a saved session is made of: a change to one of them is saved. */
const SAVED_FIELDS = [
  'sources', 'engineKind', 'preprocess', 'limits', 'scheme', 'weightOptions', 'calibrationSettings', 'calibration',
  'qtable', 'tensorOverrides', 'rules', 'past', 'future', 'searchKind', 'searchRequests', 'searchResult', 'visitedRevision',
  // Not in the record, but in the recent list's summary: the output similarity it shows.
  'outputEvaluation',
] as const satisfies readonly (keyof AppState)[];

/** How long the page waits after a change before saving (edits come in bursts). */
const SAVE_DELAY_MS = 400;

const isQuota = (error: unknown) => error instanceof DOMException && error.name === 'QuotaExceededError';

/** The storage error said as the user can act on it. */
function saveFailure(error: unknown): string {
  return isQuota(error)
    ? `Your session could not be saved: the browser's storage for this page is full (${errorMessage(error)}). It will not come back after a reload; free some space (or drop smaller data) and it is saved again with the next change.`
    : `Your session could not be saved (${errorMessage(error)}); it will not come back after a reload.`;
}

let saving: Promise<void> = Promise.resolve();
let timer: ReturnType<typeof setTimeout> | undefined;

/** Saves the session after each change (IndexedDB and OPFS), from now on; a failure is shown once until saving works again. */
function keepSession(): void {
  useApp.subscribe((s, previous) => {
    // A session built again (a reload, a recent one reopened) is saved once it stands: it is the newest.
    const rebuilt = previous.reopening && !s.reopening;
    if (s.reopening || (!rebuilt && !SAVED_FIELDS.some((field) => s[field] !== previous[field]))) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      saving = saving.then(saveNow);
    }, SAVE_DELAY_MS);
  });
}

/** Saves now what waits to be saved (before another session replaces the open one). */
export function flushSave(): Promise<void> {
  if (timer !== undefined) {
    clearTimeout(timer);
    timer = undefined;
    saving = saving.then(saveNow);
  }
  return saving;
}

async function saveNow(): Promise<void> {
  const record = app().reopening ? null : currentSession(app());
  if (!record) return;
  // Another model file than the open session's starts a session of its own; the same file (built
  // again after a lost worker, on another engine, with a .qbench applied) goes on with its id.
  let current = useRecent.getState().current;
  if (!current || current.model !== record.model) {
    current = { id: newSessionId(), model: record.model };
    useRecent.setState({ current });
  }
  const s = app();
  const facts = { samples: s.dataset?.sampleCount ?? null, edits: s.qtable.layers.size, outputCos: s.outputEvaluation?.output.cos ?? null };
  try {
    const evicted = await saveMakingRoom(current.id, record, facts);
    if (evicted) app().notify('info', `The browser's storage for this page was full: ${evicted} older session${evicted === 1 ? ' was' : 's were'} removed from the recent sessions to keep this one.`);
    if (app().sessionSaveError) useApp.setState({ sessionSaveError: null });
  } catch (error) {
    const message = saveFailure(error);
    if (app().sessionSaveError === null) app().notify('error', message);
    useApp.setState({ sessionSaveError: message });
  }
  await refreshRecent();
}

/** Saves the session; when storage is full, removes the oldest other sessions one by one until it fits. The count removed. */
async function saveMakingRoom(id: string, record: SessionRecord<FileSource>, facts: Parameters<typeof saveSession>[2]): Promise<number> {
  for (let evicted = 0; ; evicted++) {
    try {
      await saveSession(id, record, facts);
      return evicted;
    } catch (error) {
      const oldest = isQuota(error) ? (await listSessions()).filter((s) => s.id !== id).at(-1) : undefined;
      if (!oldest) throw error;
      await removeSession(oldest.id);
    }
  }
}

/**
 * The page's start: the last saved session when there is one (unless `?session=0`), else the demo
 * (unless `?demo=0`); from then on every change is saved. The recent sessions are listed either
 * way. The per-inference time limit follows the Limits setting.
 */
export async function startPage(query: URLSearchParams, startDemo: () => Promise<void>): Promise<void> {
  setRunTimeLimit(app().limits.runSeconds);
  useApp.subscribe((s, previous) => {
    if (s.limits !== previous.limits) setRunTimeLimit(s.limits.runSeconds);
  });
  const keeps = canKeepSessions();
  if (keeps) await refreshRecent();
  if (keeps && query.get('session') !== '0') {
    try {
      const { id, record, missing } = await loadSession();
      if (missing) app().notify('error', `Your last session could not be restored: ${missing}.`);
      if (id && record) {
        keepSession();
        app().notify('info', `Your last session on ${record.model.name} is back: data, settings, edits and undo history.`);
        useRecent.setState({ current: { id, model: record.model } });
        await restoreSession(record);
        return;
      }
    } catch (error) {
      app().notify('error', `Your last session could not be read back (${errorMessage(error)}).`);
    }
  }
  if (keeps) keepSession();
  if (query.get('demo') !== '0') await startDemo();
}
