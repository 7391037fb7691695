import { create } from 'zustand';
import { useApp } from '../../state/store';

/** A question waiting for the user's answer (ConfirmDialog shows it). */
export interface ConfirmRequest {
  readonly title: string;
  readonly text: string;
  readonly confirmLabel: string;
  readonly answer: (yes: boolean) => void;
}

/** The one open question, if any: a store of its own, since it is UI state no session keeps. */
export const useConfirm = create<{ request: ConfirmRequest | null }>(() => ({ request: null }));

/** Asks a yes/no question in a dialog; resolves false on Cancel or Escape. */
export function confirm(title: string, text: string, confirmLabel: string): Promise<boolean> {
  useConfirm.getState().request?.answer(false);
  return new Promise((resolve) => {
    useConfirm.setState({
      request: {
        title, text, confirmLabel,
        answer: (yes) => {
          useConfirm.setState({ request: null });
          resolve(yes);
        },
      },
    });
  });
}

/**
 * Work opening another model would throw away: precision edits made in this page (the edit
 * history). A model just opened, calibrated and looked at has nothing to lose.
 */
export function hasUnsavedWork(): boolean {
  const s = useApp.getState();
  return s.model !== null && (s.past.length > 0 || s.qtable.layers.size > 0);
}

/** Asks before `what` replaces the open model when there are edits to lose; true to go on. */
export async function confirmReplace(what: string): Promise<boolean> {
  if (!hasUnsavedWork()) return true;
  const s = useApp.getState();
  const edits = s.qtable.layers.size;
  return confirm(
    `Replace ${s.model?.graph.fileName ?? 'the open model'}?`,
    `${what} replaces the open model${edits ? ` and its ${edits} precision setting${edits === 1 ? '' : 's'}` : ' and your edits'}. Export the QTable first (Export tab) to keep them.`,
    'Replace',
  );
}
