import type { FileSource } from '../../../workers/client';
import { errorMessage } from '../../core/errors';
import { checkSessionModel, describeModel, formatSessionFile, hexOf, parseSessionFile, sessionFileName, type SessionFile } from '../../core/io/sessionFile';
import { NO_RULES } from '../../core/rules/rules';
import type { OutputFile } from '../actions';
import { useApp } from '../store';
import { currentSession, type SessionRecord } from './record';
import { restoreSession } from './restore';

/**
 * The page's side of the `.qbench` session file (src/core/io/sessionFile.ts): Save session writes
 * the open session with its model's SHA-256; Open session applies a file's settings and QTable to
 * the open model and data when the model is the one it was made on, and otherwise waits for that
 * model, asking for it by name.
 */

const app = () => useApp.getState();

/** Digests by file: a model is hashed once however often a session is saved or opened on it. */
const digests = new WeakMap<FileSource, Promise<{ sha256: string; bytes: number }>>();

async function bytesOf(source: FileSource): Promise<ArrayBuffer> {
  if (source.file) return source.file.arrayBuffer();
  if (source.bytes) return new Uint8Array(source.bytes).buffer;
  if (source.url) return (await fetch(source.url)).arrayBuffer();
  throw new Error(`${source.name}: no bytes to read`);
}

/** SHA-256 and size of the model's bytes (crypto.subtle: the page has no other hash). */
export function modelDigest(source: FileSource): Promise<{ sha256: string; bytes: number }> {
  let digest = digests.get(source);
  if (!digest) {
    digest = bytesOf(source).then(async (buffer) => ({ sha256: hexOf(await crypto.subtle.digest('SHA-256', buffer)), bytes: buffer.byteLength }));
    digests.set(source, digest);
  }
  return digest;
}

/** The open session as a `.qbench` file (undo history included); undefined while no model is open. */
export async function saveSessionFile(): Promise<OutputFile | undefined> {
  const record = currentSession(app());
  if (!record) return undefined;
  const { sha256, bytes } = await modelDigest(record.model);
  const file: Omit<SessionFile, 'qbench_session'> = {
    model: { name: record.model.name, bytes, sha256 },
    data: record.data?.map((f) => f.name) ?? null,
    labels: record.labels ? { ...(record.labels.source ? { file: record.labels.source.name } : {}), ...(record.labels.folders ? { folders: true } : {}) } : null,
    importedTable: record.importedTable?.name ?? null,
    options: record.options,
    preprocess: record.preprocess,
    limits: record.limits,
    scheme: record.scheme,
    weightOptions: record.weightOptions,
    calibrationSettings: record.calibrationSettings,
    corrections: record.corrections,
    qtable: record.qtable,
    overrides: record.overrides,
    rules: record.rules ?? NO_RULES,
    outputTasks: record.outputTasks,
    past: record.past,
    future: record.future,
    searchKind: record.searchKind,
    searchRequests: record.searchRequests,
    searchResult: record.searchResult,
    visited: record.visited,
  };
  return { fileName: sessionFileName(record.model.name), data: formatSessionFile(file), type: 'application/json' };
}

/** A session file read while another model (or none) was open: applied when its model opens. */
let pending: { readonly session: SessionFile; readonly fileName: string } | null = null;

/** Reads a `.qbench` and applies it to the open model, or waits for the model it names. */
export async function openSessionFile(file: File): Promise<void> {
  let session: SessionFile;
  try {
    session = parseSessionFile(await file.text(), file.name);
  } catch (error) {
    app().notify('error', errorMessage(error));
    return;
  }
  pending = { session, fileName: file.name };
  const model = app().sources.model;
  if (model && (await modelDigest(model)).sha256 === session.model.sha256) {
    await applyPendingSession();
    return;
  }
  const data = session.data?.length ? ` and its data (${session.data.slice(0, 3).join(', ')}${session.data.length > 3 ? ', …' : ''})` : '';
  app().notify('info', `${file.name} was made on ${describeModel(session.model)}${model ? `, not on ${model.name}` : ''}: open ${session.model.name}${data} and the session is applied to it.`);
}

/**
 * Applies the waiting session if the open model is the one it was made on: its settings, QTable,
 * corrections and the rest built again (restoreSession) over the model and data open now.
 * Called after files are opened; a model that does not match leaves the session waiting, said once.
 */
export async function applyPendingSession(): Promise<void> {
  const waiting = pending;
  const current = currentSession(app());
  if (!waiting || !current) return;
  try {
    checkSessionModel(waiting.session, { name: current.model.name, ...(await modelDigest(current.model)) }, waiting.fileName);
  } catch (error) {
    app().notify('error', errorMessage(error));
    return;
  }
  pending = null;
  if (await restoreSession(recordFrom(waiting.session, current))) {
    const missing = (waiting.session.data?.length ?? 0) > 0 && !current.data ? ` Open its data (${waiting.session.data!.join(', ')}) to calibrate.` : '';
    app().notify('info', `${waiting.fileName} applied to ${current.model.name}: settings, precisions, rules and corrections.${missing}`);
  }
}

/** The file's session over the files open now (the file names them, never holds them). */
function recordFrom(s: SessionFile, current: SessionRecord<FileSource>): SessionRecord<FileSource> {
  return {
    ...current,
    options: s.options,
    preprocess: s.preprocess,
    limits: s.limits,
    scheme: s.scheme,
    weightOptions: s.weightOptions,
    calibrationSettings: s.calibrationSettings,
    corrections: s.corrections,
    qtable: s.qtable,
    overrides: s.overrides,
    rules: s.rules,
    past: s.past ?? [],
    future: s.future ?? [],
    outputTasks: s.outputTasks,
    // The imported cali_table is a file the session file only names: not applied.
    importedTable: null,
    searchKind: s.searchKind ?? current.searchKind,
    searchRequests: s.searchRequests ?? {},
    searchResult: s.searchResult ?? null,
    visited: s.visited ?? [],
  };
}
