import { useEffect, useRef } from 'react';
import { useApp } from '../state/store';

/**
 * Errors and notes for the user; each names the file and the problem (from core's errors). They
 * sit in the page's flow under the header (never over a control), each with its own ×, and the
 * errors about one model leave when another model opens: they were about the model now gone.
 */
export function Messages() {
  const messages = useApp((s) => s.messages);
  const dismiss = useApp((s) => s.dismiss);
  const model = useApp((s) => s.model);
  const loading = useApp((s) => s.modelLoading);
  // Messages shown before the model now opening started to open (0: no open under way).
  const before = useRef(0);
  const shown = useRef(model);
  useEffect(() => {
    // A new model from an open (not BN folding's rebuilt graph, which opens nothing; not a session
    // built again after a lost or cancelled worker, whose messages say why it is being rebuilt).
    if (model && model !== shown.current && before.current > 0 && !useApp.getState().reopening) {
      for (const m of useApp.getState().messages) if (m.id <= before.current) dismiss(m.id);
    }
    shown.current = model;
  }, [model, dismiss]);
  useEffect(() => {
    before.current = loading ? useApp.getState().messageCount : 0;
  }, [loading]);
  if (messages.length === 0) return null;
  return (
    <div className="messages" data-testid="messages">
      {messages.map((m) => (
        <div key={m.id} className={`message ${m.kind}`} data-testid={`message-${m.kind}`} role={m.kind === 'error' ? 'alert' : 'status'}>
          <span data-testid="message-text">{m.text}</span>
          <span className="message-actions">
            {m === messages[messages.length - 1] && messages.length > 2 && (
              <button className="btn small ghost" onClick={() => { for (const x of messages) dismiss(x.id); }} data-testid="dismiss-all">Dismiss all</button>
            )}
            <button className="btn small ghost" aria-label="Dismiss" title="Dismiss" onClick={() => dismiss(m.id)} data-testid="message-dismiss">×</button>
          </span>
        </div>
      ))}
    </div>
  );
}
