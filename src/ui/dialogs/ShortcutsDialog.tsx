import { Dialog } from './Dialog';
import { SHORTCUTS, useShortcutsOpen } from './shortcuts';

/** The list of keyboard shortcuts (`?`). */
export function ShortcutsDialog() {
  const open = useShortcutsOpen((s) => s.open);
  if (!open) return null;
  const close = () => useShortcutsOpen.setState({ open: false });
  return (
    <Dialog title="Keyboard shortcuts" onClose={close} testId="shortcuts-dialog">
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.what}>
              <td className="keys">{s.keys.map((k, i) => <span key={k}>{i > 0 && ' '}<kbd>{k}</kbd></span>)}</td>
              <td>{s.what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="dialog-actions">
        <button className="btn" onClick={close} data-autofocus>Close</button>
      </div>
    </Dialog>
  );
}
