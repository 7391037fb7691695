import { useEffect, useRef } from 'react';
import type { ConfigurationRow } from '../core/search/pareto';
import type { VisitedConfiguration } from '../core/search/SearchSession';
import { formatBytes } from './format';

/** What the page knows about a configuration beyond its figures: whether it is what is in force, what applying it involves. */
export interface ConfigurationNotes {
  /** The configuration the page is in now (its QTable and overrides), if it is one of them. */
  readonly currentId: number | null;
  /** Why its figure may not be what applying it gives, or what applying it sets besides its QTable; null when nothing. */
  readonly noteOf: (configuration: VisitedConfiguration) => { readonly text: string; readonly stale: boolean } | null;
}

/** "cos 0.979512 · 2.21 MB · 3 float, 1 INT16": a configuration's figures in one line. */
export function rowFigures(row: ConfigurationRow): string {
  const { configuration: c } = row;
  return `cos ${c.outputCos.toFixed(6)} · ${formatBytes(c.weightBytes, 2)} · ${row.floatLayers} float, ${row.int16Layers} INT16`;
}

/**
 * The configurations under the Pareto chart (those in view when it is zoomed), smallest first:
 * size to a byte's precision where the chart cannot tell them apart. A row applies its own
 * configuration; hovering a row highlights its point, and a point hovered on the chart brings its
 * row into view.
 */
export function ParetoList({ rows, hoverId, scrollToHover, notes, onHover, onApply }: {
  rows: readonly ConfigurationRow[];
  hoverId: number | null;
  /** The hover came from the chart: the list scrolls to its row. */
  scrollToHover: boolean;
  notes: ConfigurationNotes;
  onHover: (row: ConfigurationRow | null) => void;
  onApply: (configuration: VisitedConfiguration) => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (scrollToHover && hoverId !== null && box.current) revealRow(box.current, hoverId);
  }, [hoverId, scrollToHover]);
  return (
    <div className="pareto-list" ref={box}>
      <table className="mini-table" data-testid="pareto-list">
        <thead><tr><th title="Weight bytes">Bytes</th><th title="Output cosine">cos</th><th title="Layers at FP32, FP16 or BF16">Float</th><th>INT16</th><th>Configuration</th></tr></thead>
        <tbody onMouseLeave={() => onHover(null)}>
          {rows.map((row) => {
            const c = row.configuration;
            const note = notes.noteOf(c);
            const classes = [row.onFront ? 'on-front' : '', c.id === hoverId ? 'hovered' : '', c.id === notes.currentId ? 'current' : '', note?.stale ? 'stale' : ''].filter(Boolean).join(' ');
            return (
              <tr key={c.id} className={classes} data-testid="pareto-row" data-id={c.id} tabIndex={0}
                title={`${c.label}: ${rowFigures(row)}${note ? `\n${note.text}` : ''}\nClick to apply.`}
                onMouseEnter={() => onHover(row)} onFocus={() => onHover(row)}
                onClick={() => onApply(c)} onKeyDown={(e) => e.key === 'Enter' && onApply(c)}>
                <td className="num">{c.weightBytes.toLocaleString('en')}</td>
                <td className="num">{c.outputCos.toFixed(6)}{note ? <span className={note.stale ? 'warn' : 'muted'}> *</span> : null}</td>
                <td className="num">{row.floatLayers}</td>
                <td className="num">{row.int16Layers}</td>
                <td className="label">{c.id === notes.currentId ? '● ' : ''}{c.label}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Scrolls the list (and only the list: scrollIntoView would scroll the panel too, moving the chart
 * under a pointer that is hovering it) so that a configuration's row is visible below the header.
 */
function revealRow(box: HTMLElement, id: number): void {
  const row = box.querySelector(`tr[data-id="${id}"]`);
  if (!row) return;
  const r = row.getBoundingClientRect();
  const b = box.getBoundingClientRect();
  const head = box.querySelector('thead')?.getBoundingClientRect().height ?? 0;
  if (r.top < b.top + head) box.scrollTop -= b.top + head - r.top;
  else if (r.bottom > b.bottom) box.scrollTop += r.bottom - b.bottom;
}
