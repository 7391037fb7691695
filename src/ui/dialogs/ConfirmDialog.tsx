import { Dialog } from './Dialog';
import { useConfirm } from './confirm';

/** The dialog of confirm(): its question, Cancel (the default under Escape) and the action. */
export function ConfirmDialog() {
  const request = useConfirm((s) => s.request);
  if (!request) return null;
  return (
    <Dialog title={request.title} onClose={() => request.answer(false)} testId="confirm-dialog">
      <p className="dialog-text">{request.text}</p>
      <div className="dialog-actions">
        <button className="btn" onClick={() => request.answer(false)} data-testid="confirm-cancel" data-autofocus>Cancel</button>
        <button className="btn primary" onClick={() => request.answer(true)} data-testid="confirm-ok">{request.confirmLabel}</button>
      </div>
    </Dialog>
  );
}
