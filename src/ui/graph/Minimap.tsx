import { useEffect, useRef, type PointerEvent, type RefObject } from 'react';
import type { GraphLayout } from '../../core/layout/GraphLayout';

const MAX_WIDTH = 150;
const MAX_HEIGHT = 190;
/** Deep models are columns: below this width the minimap stretches x so boxes stay distinguishable. */
const MIN_WIDTH = 56;

/** Minimap pixels per layout unit, x and y apart (a deep model's column is widened, see MIN_WIDTH). */
export interface MinimapScale {
  readonly sx: number;
  readonly sy: number;
  readonly width: number;
  readonly height: number;
}

export function minimapScale(layout: GraphLayout): MinimapScale {
  const w = Math.max(layout.width, 1);
  const h = Math.max(layout.height, 1);
  const s = Math.min(MAX_WIDTH / w, MAX_HEIGHT / h);
  const sx = Math.min(MAX_WIDTH / w, Math.max(s, MIN_WIDTH / w));
  return { sx, sy: s, width: Math.max(1, Math.round(w * sx)), height: Math.max(1, Math.round(h * s)) };
}

export interface MinimapProps {
  layout: GraphLayout;
  scale: MinimapScale;
  heat: ReadonlyMap<string, number> | null;
  colorOf: (value: number) => string;
  /** The box GraphView moves on every zoom event (no React render during a gesture). */
  viewBoxRef: RefObject<HTMLDivElement | null>;
  /** Centre the view on this layout point. */
  onPan: (x: number, y: number) => void;
}

/**
 * The whole drawing in a corner, coloured like the graph, with the part on screen outlined; a
 * click or drag there moves the view. A canvas, drawn once per layout and heat: 10,000 boxes
 * cost a few milliseconds, where as many SVG elements would double the page's work on every frame.
 */
export function Minimap({ layout, scale, heat, colorOf, viewBoxRef, onPan }: MinimapProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const dragging = useRef(false);

  useEffect(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(scale.width * ratio);
    canvas.height = Math.round(scale.height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, scale.width, scale.height);
    ctx.strokeStyle = 'rgba(110, 130, 155, 0.35)';
    ctx.lineWidth = 0.6;
    ctx.beginPath();
    for (const e of layout.edges) {
      const a = e.points[0];
      const b = e.points[e.points.length - 1];
      ctx.moveTo(a.x * scale.sx, a.y * scale.sy);
      ctx.lineTo(b.x * scale.sx, b.y * scale.sy);
    }
    ctx.stroke();
    for (const n of layout.nodes) {
      const value = heat?.get(n.id);
      ctx.fillStyle = value === undefined || Number.isNaN(value) ? (n.kind === 'layer' ? '#3a4a5e' : '#5d7590') : colorOf(value);
      const w = Math.max(1.5, n.width * scale.sx);
      const h = Math.max(1, n.height * scale.sy);
      ctx.fillRect(n.x * scale.sx - w / 2, n.y * scale.sy - h / 2, w, h);
    }
  }, [layout, scale, heat, colorOf]);

  const panTo = (event: PointerEvent<HTMLDivElement>) => {
    const rect = event.currentTarget.getBoundingClientRect();
    onPan((event.clientX - rect.left) / scale.sx, (event.clientY - rect.top) / scale.sy);
  };

  return (
    <div
      className="qg-minimap"
      style={{ width: scale.width, height: scale.height }}
      data-testid="graph-minimap"
      title="Overview: click or drag to move the view"
      onPointerDown={(e) => {
        dragging.current = true;
        e.currentTarget.setPointerCapture(e.pointerId);
        panTo(e);
      }}
      onPointerMove={(e) => {
        if (dragging.current) panTo(e);
      }}
      onPointerUp={() => {
        dragging.current = false;
      }}
    >
      <canvas ref={canvasRef} style={{ width: scale.width, height: scale.height }} aria-hidden="true" />
      <div ref={viewBoxRef} className="qg-minimap-view" />
    </div>
  );
}
