import { useState } from 'react';
import { reopenRecent, removeRecent } from '../state/session/recent';
import { useRecent } from '../state/session/recentStore';
import { MAX_SESSIONS, type SessionSummary } from '../state/session/storage';
import { confirmReplace } from './dialogs/confirm';
import { Dialog } from './dialogs/Dialog';
import { formatMetric } from './format';
import './RecentSessions.css';

/**
 * The recent sessions kept in this browser (issue #13 item 5): each with its model, data, edits,
 * when it was last saved and its last output similarity, reopened in one click (the page asks
 * first when edited work would be replaced) or removed.
 */

function when(savedAt: number, now: number): string {
  if (savedAt <= 0) return 'earlier';
  const minutes = Math.round((now - savedAt) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 24 * 60) return `${Math.round(minutes / 60)} h ago`;
  return new Date(savedAt).toLocaleDateString();
}

function dataText(s: SessionSummary): string {
  if (s.samples !== null) return `${s.samples} sample${s.samples === 1 ? '' : 's'}`;
  return s.dataFiles ? `${s.dataFiles} data file${s.dataFiles === 1 ? '' : 's'}` : 'no data';
}

/** Reopens `s` in place of the open session, after asking when edits would be lost. */
async function reopen(s: SessionSummary): Promise<boolean> {
  if (!(await confirmReplace(`The session on ${s.modelName}`))) return false;
  return reopenRecent(s.id);
}

export function RecentSessionList({ onReopen, heading }: { onReopen?: () => void; heading?: string }) {
  const sessions = useRecent((s) => s.sessions);
  const currentId = useRecent((s) => s.current?.id ?? null);
  const listError = useRecent((s) => s.listError);
  if (listError) return <p className="muted" data-testid="recent-sessions-error">The recent sessions could not be read: {listError}</p>;
  if (sessions.length === 0) return null;
  const now = Date.now();
  const list = (
    <ul className="recent-sessions" data-testid="recent-sessions" aria-label="Recent sessions">
      {sessions.map((s) => {
        const open = s.id === currentId;
        return (
          <li key={s.id} className={`recent-session${open ? ' open' : ''}`} data-testid="recent-session" data-model={s.modelName} data-id={s.id}>
            <button className="recent-open" disabled={open} data-testid="recent-open"
              title={open ? 'The session open now' : `Reopen the session on ${s.modelName}: its model, data, settings, precisions and undo history (saved ${s.savedAt > 0 ? new Date(s.savedAt).toLocaleString() : 'by an earlier version'})`}
              onClick={() => void reopen(s).then((done) => (done ? onReopen?.() : undefined))}>
              <span className="recent-name">{s.modelName}</span>
              <span className="recent-facts">
                {dataText(s)} · {s.edits} precision setting{s.edits === 1 ? '' : 's'} · {when(s.savedAt, now)}
                {open && <b className="recent-badge"> · open</b>}
              </span>
              <span className="recent-cos" data-testid="recent-cos" data-value={s.outputCos ?? ''} title="The last output similarity measured (cosine, quantized vs float)">
                {s.outputCos === null ? '–' : `cos ${formatMetric('cos', s.outputCos)}`}
              </span>
            </button>
            <button className="btn ghost icon recent-remove" data-testid="recent-remove" aria-label={`Remove the session on ${s.modelName}`}
              title="Remove this session and the files no other session uses from this browser's storage" onClick={() => void removeRecent(s.id)}>×</button>
          </li>
        );
      })}
    </ul>
  );
  return heading ? <section className="recent-block"><h3>{heading}</h3>{list}</section> : list;
}

/** The Recent sessions button (at the right of the bottom panel's tabs) and its dialog. */
export function RecentSessionsButton() {
  const [open, setOpen] = useState(false);
  const count = useRecent((s) => s.sessions.length);
  return (
    <>
      <button className="btn ghost recent-button" disabled={count === 0} onClick={() => setOpen(true)} data-testid="recent-sessions-button"
        title={count ? `The ${count} recent session${count === 1 ? '' : 's'} kept in this browser, each reopened in one click` : 'No session kept in this browser yet'}>
        Recent sessions{count ? ` (${count})` : ''}
      </button>
      {open && (
        <Dialog title="Recent sessions" onClose={() => setOpen(false)} testId="recent-sessions-dialog">
          <p className="dialog-text muted">Kept in this browser with their model and data; the oldest go past {MAX_SESSIONS}.</p>
          <RecentSessionList onReopen={() => setOpen(false)} />
          <div className="dialog-actions">
            <button className="btn" onClick={() => setOpen(false)}>Close</button>
          </div>
        </Dialog>
      )}
    </>
  );
}
