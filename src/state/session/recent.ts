import { errorMessage } from '../../core/errors';
import { useApp } from '../store';
import { refreshRecent, useRecent } from './recentStore';
import { flushSave, restoreSession } from './restore';
import { loadSession, removeSession } from './storage';

/**
 * The recent sessions' actions (issue #13 item 5): one reopened in place of the open one (its
 * model, data, settings, QTable and undo history built again, as after a reload), or removed with
 * the files no other session names. The page asks before replacing edited work (src/ui).
 */

const app = () => useApp.getState();

/** Builds session `id` again in place of the open one; false when it could not be (the reason is shown). */
export async function reopenRecent(id: string): Promise<boolean> {
  const before = useRecent.getState().current;
  if (before?.id === id && app().model) return true;
  // The open session is saved as it stands first: it stays in the list.
  await flushSave();
  let loaded: Awaited<ReturnType<typeof loadSession>>;
  try {
    loaded = await loadSession(id);
  } catch (error) {
    app().notify('error', `The session could not be read back (${errorMessage(error)}).`);
    return false;
  }
  const { record, missing } = loaded;
  if (!record) {
    app().notify('error', missing ? `The session could not be reopened: ${missing}. Remove it from the list.` : 'That session is no longer kept.');
    await refreshRecent();
    return false;
  }
  useRecent.setState({ current: { id, model: record.model } });
  const built = await restoreSession(record);
  // The model did not open: the one still open goes on as its own session.
  if (!built && app().sources.model !== record.model) useRecent.setState({ current: before });
  if (built) app().notify('info', `Your session on ${record.model.name} is back: data, settings, edits and undo history.`);
  return built;
}

/** Forgets session `id` and the files only it named. */
export async function removeRecent(id: string): Promise<void> {
  try {
    await removeSession(id);
    // The open session removed is saved again, as a new one, at its next change.
    if (useRecent.getState().current?.id === id) useRecent.setState({ current: null });
  } catch (error) {
    app().notify('error', `The session could not be removed (${errorMessage(error)}).`);
  }
  await refreshRecent();
}
