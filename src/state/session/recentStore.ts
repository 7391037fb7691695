import { create } from 'zustand';
import type { FileSource } from '../../../workers/client';
import { listSessions, type SessionSummary } from './storage';

/**
 * The recent sessions the page lists (issue #13 item 5), and which of them is open: the session
 * of the model open now is saved under its id; a model opened anew starts another.
 */
export interface RecentState {
  /** Newest first, as storage holds them. */
  readonly sessions: readonly SessionSummary[];
  /** The open session: its id and the model file it was made on (another model file starts another session). */
  readonly current: { readonly id: string; readonly model: FileSource } | null;
  /** Why the list could not be read (null: it was). */
  readonly listError: string | null;
}

const NO_SESSIONS: readonly SessionSummary[] = [];

export const useRecent = create<RecentState>(() => ({ sessions: NO_SESSIONS, current: null, listError: null }));

/** Reads the list again from storage (after a save or a removal). */
export async function refreshRecent(): Promise<void> {
  try {
    const sessions = await listSessions();
    useRecent.setState({ sessions: sessions.length ? sessions : NO_SESSIONS, listError: null });
  } catch (error) {
    useRecent.setState({ listError: error instanceof Error ? error.message : String(error) });
  }
}

/** A new id for a session that starts now. */
export function newSessionId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
