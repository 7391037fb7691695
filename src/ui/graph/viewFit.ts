import { zoomIdentity, type ZoomTransform } from 'd3';
import type { GraphLayout, LayoutNode } from '../../core/layout/GraphLayout';

/** A three-layer graph fitted to the screen would be huge: fits never zoom in past this. */
export const FIT_MAX_ZOOM = 1.5;
/**
 * The smallest zoom at which a box's name (10px monospace) is still readable (about 6 screen px).
 * A graph wider than the view at this zoom opens at it, centred on its first input, instead of
 * fitting into specks.
 */
export const READABLE_ZOOM = 0.7;
/** Fitting the width never magnifies: at 1 the boxes are as designed, and more of a deep model shows. */
const FIT_WIDTH_MAX_ZOOM = 1;
/** Room above the drawing's top for the toolbar, which sits over the graph. */
const TOP_MARGIN = 52;
const MARGIN = 0.95;

/**
 * The whole drawing in the view. For a deep model this is a thin column of specks: the overview,
 * not the view a model opens with (see fitWidth).
 */
export function fitAll(layout: GraphLayout, [w, h]: readonly [number, number]): ZoomTransform {
  const k = Math.min(FIT_MAX_ZOOM, MARGIN * Math.min(w / Math.max(layout.width, 1), h / Math.max(layout.height, 1)));
  return zoomIdentity.translate((w - layout.width * k) / 2, (h - layout.height * k) / 2).scale(k);
}

/**
 * The drawing's width in the view, never below READABLE_ZOOM, scrolled vertically so that layout
 * row `centreY` is in the middle of the view (or, with `top`, the drawing's top at the view's top).
 * Models are deep rather than wide, so this keeps names readable and leaves the rest a pan or a
 * wheel away; when even READABLE_ZOOM is too wide, the view centres on `anchor` (the first input).
 */
export function fitWidth(layout: GraphLayout, [w, h]: readonly [number, number], at: { top: true; anchor?: LayoutNode } | { centreY: number; anchor?: LayoutNode }): ZoomTransform {
  const k = Math.min(FIT_WIDTH_MAX_ZOOM, Math.max(READABLE_ZOOM, (MARGIN * w) / Math.max(layout.width, 1)));
  const fitsAcross = layout.width * k <= w;
  const x = fitsAcross ? (w - layout.width * k) / 2 : w / 2 - (at.anchor?.x ?? layout.width / 2) * k;
  // A drawing shorter than the view is centred vertically too.
  if (layout.height * k <= h - TOP_MARGIN) return zoomIdentity.translate(x, TOP_MARGIN + (h - TOP_MARGIN - layout.height * k) / 2).scale(k);
  const y = 'top' in at ? TOP_MARGIN : h / 2 - at.centreY * k;
  return zoomIdentity.translate(x, y).scale(k);
}

/** The layout rows shown now: the middle of the view, in layout units. */
export function viewCentreY(t: ZoomTransform, h: number): number {
  return (h / 2 - t.y) / t.k;
}
