import type { ReactNode } from 'react';

export type Side = 'float' | 'quantized' | 'difference' | 'both';

export const SIDE_LABEL: Record<Side, string> = { float: 'Float', quantized: 'Quantized', difference: '|Difference|', both: 'Both' };

/** One of the side-by-side views of an output: a title, the picture or list, the figures under it. */
export function Pane({ side, title, children, figures }: { side: Side; title?: string; children: ReactNode; figures?: ReactNode }) {
  return (
    <figure className={`pane pane-${side}`} data-testid={`pane-${side}`}>
      <figcaption className="pane-title">{title ?? SIDE_LABEL[side]}</figcaption>
      {children}
      {figures && <div className="pane-figures">{figures}</div>}
    </figure>
  );
}

/** A figure with its name; `value` is the number behind the text (tests and tooltips read it). */
export function Figure({ name, value, text, testId }: { name: string; value: number; text?: string; testId?: string }) {
  return (
    <span className="figure" data-testid={testId} data-value={value}>
      {name} <b>{text ?? formatNumber(value)}</b>
    </span>
  );
}

/** Four significant digits, exponent form for the very small and very large. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude < 1e-3 || magnitude >= 1e5 ? value.toExponential(2) : Number(value.toPrecision(4)).toString();
}

/** A class as the user knows it: its label when there are labels, else its index. */
/** A class as the viewer shows it: its index, and its name beside it when known ("#3 tench"). */
export const classLabel = (labels: readonly string[] | undefined, cls: number) => (labels?.[cls] ? `#${cls} ${labels[cls]}` : `#${cls}`);

/** Pixels on a screen row shared by every picture of the viewer. */
export const PICTURE_HEIGHT = 160;
