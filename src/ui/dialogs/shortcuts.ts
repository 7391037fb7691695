import { create } from 'zustand';
import { EDITABLE_PRECISIONS, type Precision } from '../../core/model/QTable';
import { redo, setPrecision, undo } from '../../state/actions';
import { setPrecisions } from '../../state/ruleActions';
import { useApp } from '../../state/store';

/** Every keyboard shortcut of the page, as the `?` dialog lists them (one list: the handler and the help cannot disagree). */
export const SHORTCUTS: readonly { readonly keys: readonly string[]; readonly what: string }[] = [
  { keys: ['1', '2', '3', '4'], what: 'Set the selected layers to INT8, INT16, FP16, FP32' },
  { keys: ['Ctrl+Z'], what: 'Undo the last precision change' },
  { keys: ['Ctrl+Y', 'Ctrl+Shift+Z'], what: 'Redo' },
  { keys: ['/'], what: 'Find a layer, op or tensor in the graph' },
  { keys: ['↑', '↓', '←', '→'], what: 'Graph: move to the producer, consumer, or the box beside; table: previous or next row' },
  { keys: ['Enter'], what: 'Select the layer under the cursor (graph) or the focused row (table)' },
  { keys: ['Enter', 'Shift+Enter'], what: 'In the graph search: next or previous match' },
  { keys: ['Esc'], what: 'Close a dialog, clear the graph search' },
  { keys: ['?'], what: 'Show this list' },
];

/** Whether the shortcuts dialog is open. */
export const useShortcutsOpen = create<{ open: boolean }>(() => ({ open: false }));

/** Keys 1-4: INT8, INT16, FP16, FP32 (the precision control's order). */
const PRECISION_KEYS: Readonly<Record<string, Precision>> = Object.fromEntries(EDITABLE_PRECISIONS.map((p, i) => [String(i + 1), p]));

/** Where typing is text, not a shortcut (and a field's own Ctrl+Z undoes typing). */
function isTextEntry(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit', 'range', 'file'].includes(target.type);
}

/** The page's key handler (App installs it on window). */
export function onPageKey(e: KeyboardEvent): void {
  if (e.defaultPrevented || isTextEntry(e.target)) return;
  const key = e.key.toLowerCase();
  if (e.ctrlKey || e.metaKey) {
    if (e.altKey) return;
    if (key === 'z') {
      e.preventDefault();
      if (e.shiftKey) redo(); else undo();
    } else if (key === 'y') {
      e.preventDefault();
      redo();
    }
    return;
  }
  if (e.altKey) return;
  if (e.key === '?') {
    e.preventDefault();
    useShortcutsOpen.setState((s) => ({ open: !s.open }));
    return;
  }
  if (e.key === '/') {
    const search = document.querySelector<HTMLInputElement>('[data-testid=graph-search]');
    if (search) {
      e.preventDefault();
      search.focus();
      search.select();
    }
    return;
  }
  const precision = PRECISION_KEYS[e.key];
  if (precision) {
    const { selection, selected } = useApp.getState();
    const layers = selection.length > 1 ? selection : selected !== null ? [selected] : [];
    if (layers.length === 0) return;
    e.preventDefault();
    // One edit (one Undo step, one evaluation) for a multi-selection.
    if (layers.length > 1) setPrecisions(layers, precision);
    else setPrecision(layers[0], precision);
  }
}
