import { useCallback, useState, type KeyboardEvent, type RefObject } from 'react';

/**
 * Keyboard access to a windowed table: one row at a time is in the Tab order (the focused one,
 * else the selected one, else the first: a "roving tabindex"), the arrows, Page Up/Down, Home and
 * End move the focus through every row (scrolling it into the window, since rows off screen are
 * not rendered), and Enter picks the focused row. Rows carry `data-layer` with their key.
 */
export function useRowKeys(body: RefObject<HTMLDivElement | null>, keys: readonly string[], rowHeight: number, selected: string | null, onEnter: (key: string) => void) {
  const [focused, setFocused] = useState<string | null>(null);
  const current = focused !== null && keys.includes(focused) ? focused : selected !== null && keys.includes(selected) ? selected : keys[0] ?? null;

  const focusRow = useCallback((key: string, index: number) => {
    setFocused(key);
    const el = body.current;
    if (!el) return;
    const top = index * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
    // The row may only be rendered after the scroll re-renders the window.
    const focus = (tries: number) => {
      const row = el.querySelector<HTMLElement>(`[data-layer="${CSS.escape(key)}"]`);
      if (row) row.focus({ preventScroll: true });
      else if (tries > 0) requestAnimationFrame(() => focus(tries - 1));
    };
    focus(3);
  }, [body, rowHeight]);

  const onKeyDown = useCallback((e: KeyboardEvent<HTMLDivElement>) => {
    const row = (e.target as HTMLElement).closest<HTMLElement>('[data-layer]');
    if (!row || row !== e.target) return; // a control inside the row keeps its keys
    const key = row.dataset.layer!;
    const i = keys.indexOf(key);
    const page = Math.max(1, Math.floor((body.current?.clientHeight ?? rowHeight * 10) / rowHeight) - 1);
    const to = e.key === 'ArrowDown' ? i + 1 : e.key === 'ArrowUp' ? i - 1 : e.key === 'PageDown' ? i + page : e.key === 'PageUp' ? i - page : e.key === 'Home' ? 0 : e.key === 'End' ? keys.length - 1 : null;
    if (to !== null) {
      e.preventDefault();
      const index = Math.min(keys.length - 1, Math.max(0, to));
      focusRow(keys[index], index);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      setFocused(key);
      onEnter(key);
    }
  }, [keys, body, rowHeight, focusRow, onEnter]);

  return { onKeyDown, tabIndexOf: (key: string) => (key === current ? 0 : -1), onFocusRow: setFocused };
}
