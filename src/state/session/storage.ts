import type { FileSource } from '../../../workers/client';
import { errorMessage } from '../../core/errors';
import { hexOf } from '../../core/io/sessionFile';
import { mapFiles, recordFiles, type SessionRecord } from './record';

/**
 * The recent sessions across reloads and tab crashes (issues #12 and #13): each record in
 * IndexedDB under its id with a summary for the list, the files they name (model, data, labels) in
 * the origin-private file system, each stored once under the SHA-256 of its bytes however many
 * sessions name it. A file the page got by URL (the demo) is kept as its URL. The last
 * MAX_SESSIONS sessions saved are kept; an older one goes with the files no other session names.
 * Writing fails loudly: a quota error is the caller's to show, never swallowed.
 */

/** A file as the stored record names it: its OPFS entry, or the URL it came from. */
export interface StoredFile {
  readonly name: string;
  readonly url?: string;
  /** The OPFS file that holds its bytes (the SHA-256 of them; older records: name, size and time). */
  readonly key?: string;
}

/** What the list of recent sessions shows of one, without reading its record. */
export interface SessionSummary {
  readonly id: string;
  readonly modelName: string;
  /** Samples read from the data (null: none read when saved), and the data files. */
  readonly samples: number | null;
  readonly dataFiles: number;
  /** Precision settings in the QTable. */
  readonly edits: number;
  /** The last output similarity measured (null: none). */
  readonly outputCos: number | null;
  /** Date.now() of the last save. */
  readonly savedAt: number;
}

/** The summary's fields the caller gives (the id and the time are the store's). */
export type SummaryFacts = Omit<SessionSummary, 'id' | 'savedAt' | 'modelName' | 'dataFiles'>;

interface StoredSession {
  readonly summary: SessionSummary;
  readonly record: SessionRecord<StoredFile>;
}

/** Sessions kept; the oldest saved goes first. */
export const MAX_SESSIONS = 8;

const DB = 'qbench-session';
const STORE = 'sessions';
/** The one session pages before the list kept, under this key (read as the oldest of the list). */
const LEGACY = 'current';
const FILES_DIR = 'qbench-session-files';

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB could not be opened'));
    request.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
}

async function inStore<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error ?? request.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

async function filesDir(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(FILES_DIR, { create: true });
}

/** One change at a time: a save, a removal and their clean-ups never interleave. */
let queue: Promise<unknown> = Promise.resolve();
function serial<T>(work: () => Promise<T>): Promise<T> {
  const next = queue.then(work, work);
  queue = next.catch(() => {});
  return next;
}

/** Keys (SHA-256) of the bytes already hashed in this page: a file is hashed and written once. */
const keys = new WeakMap<object, string>();

async function keyOf(source: FileSource, blob: Blob): Promise<string> {
  const holder: object = source.file ?? source.bytes ?? blob;
  let key = keys.get(holder);
  if (!key) {
    key = hexOf(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
    keys.set(holder, key);
  }
  return key;
}

async function exists(dir: FileSystemDirectoryHandle, key: string, size: number): Promise<boolean> {
  try {
    return (await (await dir.getFileHandle(key)).getFile()).size === size;
  } catch {
    return false;
  }
}

async function store(source: FileSource, dir: FileSystemDirectoryHandle): Promise<StoredFile> {
  if (source.url && !source.file && !source.bytes) return { name: source.name, url: source.url };
  const blob = source.file ?? new Blob([source.bytes as Uint8Array<ArrayBuffer>]);
  const key = await keyOf(source, blob);
  // Another session (or an earlier save of this one) holds the same bytes: stored once.
  if (await exists(dir, key, blob.size)) return { name: source.name, key };
  const handle = await dir.getFileHandle(key, { create: true });
  const writable = await handle.createWritable();
  try {
    await writable.write(blob);
    await writable.close();
  } catch (error) {
    await writable.abort().catch(() => {});
    // No empty or cut file stays under the key of the whole one.
    await dir.removeEntry(key).catch(() => {});
    throw error;
  }
  return { name: source.name, key };
}

/** Every stored session, whatever its age (a record of the one-session store is read as the oldest). */
async function allStored(): Promise<Map<string, StoredSession>> {
  const stored = new Map<string, StoredSession>();
  const [ids, values] = await Promise.all([
    inStore<IDBValidKey[]>('readonly', (s) => s.getAllKeys()),
    inStore<unknown[]>('readonly', (s) => s.getAll()),
  ]);
  ids.forEach((id, i) => {
    const value = values[i] as Partial<StoredSession> & { version?: number };
    if (typeof id !== 'string') return;
    if (value?.summary && value.record?.version === 1) stored.set(id, value as StoredSession);
    else if (id === LEGACY && value?.version === 1) {
      const record = value as unknown as SessionRecord<StoredFile>;
      stored.set(id, { record, summary: { id, modelName: record.model.name, samples: null, dataFiles: record.data?.length ?? 0, edits: record.qtable.layers.length, outputCos: null, savedAt: 0 } });
    }
  });
  return stored;
}

const newestFirst = (a: SessionSummary, b: SessionSummary) => b.savedAt - a.savedAt;

/** Drops the sessions past MAX_SESSIONS (the oldest saved) and the files no session left names. */
async function prune(dir: FileSystemDirectoryHandle): Promise<void> {
  const stored = await allStored();
  const old = [...stored.values()].map((s) => s.summary).sort(newestFirst).slice(MAX_SESSIONS);
  for (const { id } of old) {
    await inStore('readwrite', (s) => s.delete(id));
    stored.delete(id);
  }
  const named = new Set<string>();
  for (const { record } of stored.values()) for (const file of recordFiles(record)) if (file.key) named.add(file.key);
  for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) {
    if (!named.has(name)) await dir.removeEntry(name).catch(() => {});
  }
}

/** Writes `record` as session `id` (the newest); the oldest sessions past MAX_SESSIONS and the files no session names go. */
export function saveSession(id: string, record: SessionRecord<FileSource>, facts: SummaryFacts): Promise<SessionSummary> {
  return serial(async () => {
    const dir = await filesDir();
    const stored = await mapFiles(record, (source) => store(source, dir));
    const summary: SessionSummary = { ...facts, id, modelName: record.model.name, dataFiles: record.data?.length ?? 0, savedAt: Date.now() };
    await inStore('readwrite', (s) => s.put({ summary, record: stored } satisfies StoredSession, id));
    await prune(dir);
    return summary;
  });
}

/** The recent sessions, newest first. */
export async function listSessions(): Promise<SessionSummary[]> {
  return [...(await allStored()).values()].map((s) => s.summary).sort(newestFirst);
}

/**
 * Session `id` (the newest when not given) with its files back as File objects, or a null record
 * when there is none. A file that is gone (storage cleared) makes the record unusable: null, with
 * the reason in `missing`.
 */
export async function loadSession(id?: string): Promise<{ readonly id: string | null; readonly record: SessionRecord<FileSource> | null; readonly missing: string | null }> {
  const stored = await allStored();
  const chosen = id === undefined ? [...stored.values()].sort((a, b) => newestFirst(a.summary, b.summary))[0] : stored.get(id);
  if (!chosen) return { id: null, record: null, missing: null };
  const dir = await filesDir();
  try {
    const record = await mapFiles(chosen.record, async (file): Promise<FileSource> => {
      if (file.url) return { name: file.name, url: file.url };
      const blob = await (await dir.getFileHandle(file.key!)).getFile();
      keys.set(blob, file.key!);
      return { name: file.name, file: blob };
    });
    return { id: chosen.summary.id, record, missing: null };
  } catch (error) {
    return { id: chosen.summary.id, record: null, missing: `a file of the saved session could not be read back (${errorMessage(error)})` };
  }
}

/** Forgets session `id`, and the files no other session names. */
export function removeSession(id: string): Promise<void> {
  return serial(async () => {
    await inStore('readwrite', (s) => s.delete(id));
    await prune(await filesDir());
  });
}

/** Whether this page can keep sessions (IndexedDB and the origin-private file system). */
export function canKeepSessions(): boolean {
  return typeof indexedDB !== 'undefined' && typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
}
