import { useApp } from '../state/store';

/** Errors and notes for the user; each names the file and the problem (from core's errors). */
export function Messages() {
  const messages = useApp((s) => s.messages);
  const dismiss = useApp((s) => s.dismiss);
  if (messages.length === 0) return null;
  return (
    <div className="messages">
      {messages.map((m) => (
        <div key={m.id} className={`message ${m.kind}`} data-testid={`message-${m.kind}`} role={m.kind === 'error' ? 'alert' : 'status'}>
          <span>{m.text}</span>
          <button className="btn small ghost" aria-label="Dismiss" onClick={() => dismiss(m.id)}>×</button>
        </div>
      ))}
    </div>
  );
}
