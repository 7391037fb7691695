import type { FileSource } from '../../../workers/client';
import { errorMessage } from '../../core/errors';
import { mapFiles, type SessionRecord } from './record';

/**
 * The session across reloads and tab crashes (issue #12): the record in IndexedDB, the files it
 * names (model, data, labels) in the origin-private file system, each written once and named by
 * its content's identity. A file the page got by URL (the demo) is kept as its URL. Writing fails
 * loudly: a quota error is the caller's to show, never swallowed.
 */

/** A file as the stored record names it: its OPFS entry, or the URL it came from. */
export interface StoredFile {
  readonly name: string;
  readonly url?: string;
  /** The OPFS file that holds its bytes. */
  readonly key?: string;
}

const DB = 'qbench-session';
const STORE = 'sessions';
const CURRENT = 'current';
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

/** Keys already written in this page, by the blob they hold (a file is written once). */
const written = new WeakMap<Blob, string>();

/** A key for a file's contents: its name, size and time, enough to tell dropped files apart. */
function keyOf(source: FileSource, blob: Blob): string {
  const modified = blob instanceof File ? blob.lastModified : 0;
  return `${blob.size}-${modified}-${source.name}`.replace(/[^\w.-]/g, '_').slice(0, 200);
}

async function store(source: FileSource, dir: FileSystemDirectoryHandle, keep: Set<string>): Promise<StoredFile> {
  if (source.url && !source.file && !source.bytes) return { name: source.name, url: source.url };
  const blob = source.file ?? new Blob([source.bytes as Uint8Array<ArrayBuffer>]);
  const known = written.get(blob);
  const key = known ?? keyOf(source, blob);
  keep.add(key);
  if (!known) {
    const handle = await dir.getFileHandle(key, { create: true });
    const writable = await handle.createWritable();
    try {
      await writable.write(blob);
      await writable.close();
    } catch (error) {
      await writable.abort().catch(() => {});
      throw error;
    }
    written.set(blob, key);
  }
  return { name: source.name, key };
}

/** Writes `record` as the session to come back to; the files it no longer names are removed. */
export async function saveSession(record: SessionRecord<FileSource>): Promise<void> {
  const dir = await filesDir();
  const keep = new Set<string>();
  const stored = await mapFiles(record, (source) => store(source, dir, keep));
  await inStore('readwrite', (s) => s.put(stored, CURRENT));
  for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) {
    if (!keep.has(name)) await dir.removeEntry(name).catch(() => {});
  }
}

/**
 * The saved session with its files back as File objects, or null when there is none. A file that
 * is gone (storage cleared) makes the whole record unusable: null, with the reason in `missing`.
 */
export async function loadSession(): Promise<{ readonly record: SessionRecord<FileSource> | null; readonly missing: string | null }> {
  const stored = await inStore<SessionRecord<StoredFile> | undefined>('readonly', (s) => s.get(CURRENT) as IDBRequest<SessionRecord<StoredFile> | undefined>);
  if (!stored || stored.version !== 1) return { record: null, missing: null };
  const dir = await filesDir();
  try {
    const record = await mapFiles(stored, async (file): Promise<FileSource> => {
      if (file.url) return { name: file.name, url: file.url };
      const handle = await dir.getFileHandle(file.key!);
      const blob = await handle.getFile();
      written.set(blob, file.key!);
      return { name: file.name, file: blob };
    });
    return { record, missing: null };
  } catch (error) {
    return { record: null, missing: `a file of the saved session could not be read back (${errorMessage(error)})` };
  }
}

/** Forgets the saved session and its files. */
export async function clearSession(): Promise<void> {
  await inStore('readwrite', (s) => s.delete(CURRENT));
  const root = await navigator.storage.getDirectory();
  await root.removeEntry(FILES_DIR, { recursive: true }).catch(() => {});
}

/** Whether this page can keep a session (IndexedDB and the origin-private file system). */
export function canKeepSessions(): boolean {
  return typeof indexedDB !== 'undefined' && typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
}

