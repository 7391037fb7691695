import { useRef, type KeyboardEvent, type PointerEvent } from 'react';

export interface SplitterProps {
  /** 'horizontal': a bar between panels stacked top and bottom (drag up and down). */
  orientation: 'horizontal' | 'vertical';
  /** The size of the panel the splitter resizes, in px. */
  value: number;
  min: number;
  max: number;
  /**
   * Which way dragging grows the panel: -1 when the panel is below (or right of) the bar, so
   * dragging up (or left) makes it bigger.
   */
  direction: 1 | -1;
  onChange: (value: number) => void;
  label: string;
  className?: string;
  testId?: string;
}

/**
 * A bar between two panels, dragged with the pointer or moved with the arrow keys (Shift: 10x
 * faster; Home and End go to the limits): a WAI-ARIA window splitter.
 */
export function Splitter({ orientation, value, min, max, direction, onChange, label, className, testId }: SplitterProps) {
  const start = useRef<{ pointer: number; value: number } | null>(null);
  const coordinate = (e: PointerEvent) => (orientation === 'horizontal' ? e.clientY : e.clientX);
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = e.shiftKey ? 80 : 8;
    const grow: Record<string, number> = orientation === 'horizontal' ? { ArrowUp: -direction, ArrowDown: direction } : { ArrowLeft: -direction, ArrowRight: direction };
    const sign = grow[e.key];
    if (sign !== undefined) onChange(value + sign * step);
    else if (e.key === 'Home') onChange(min);
    else if (e.key === 'End') onChange(max);
    else return;
    e.preventDefault();
  };
  return (
    <div
      className={`splitter ${orientation}${className ? ` ${className}` : ''}`}
      role="separator"
      aria-orientation={orientation}
      aria-label={label}
      aria-valuenow={Math.round(value)}
      aria-valuemin={Math.round(min)}
      aria-valuemax={Math.round(max)}
      tabIndex={0}
      title={`${label}: drag, or focus and use the arrow keys`}
      data-testid={testId}
      onKeyDown={onKey}
      onPointerDown={(e) => {
        if (e.button !== 0) return;
        e.preventDefault();
        e.currentTarget.setPointerCapture(e.pointerId);
        start.current = { pointer: coordinate(e), value };
      }}
      onPointerMove={(e) => {
        if (start.current) onChange(start.current.value + direction * (coordinate(e) - start.current.pointer));
      }}
      onPointerUp={() => {
        start.current = null;
      }}
    />
  );
}
