import type { GraphLayout, LayoutNode } from '../../core/layout/GraphLayout';

export type Direction = 'up' | 'down' | 'left' | 'right';

/**
 * Moves a keyboard cursor through the drawing: down to the first consumer, up to the first
 * producer (the one nearest in x, so a residual branch is not preferred over the main path), left
 * and right to the nearest box on about the same row. Returns null where there is nothing that way.
 */
export function neighbour(layout: GraphLayout, nodeById: ReadonlyMap<string, LayoutNode>, from: LayoutNode, direction: Direction): LayoutNode | null {
  if (direction === 'up' || direction === 'down') {
    const next = layout.edges
      .filter((e) => (direction === 'down' ? e.from === from.id : e.to === from.id))
      .map((e) => nodeById.get(direction === 'down' ? e.to : e.from))
      .filter((n): n is LayoutNode => n !== undefined && n.id !== from.id);
    next.sort((a, b) => Math.abs(a.x - from.x) - Math.abs(b.x - from.x) || (direction === 'down' ? a.y - b.y : b.y - a.y));
    return next[0] ?? null;
  }
  const sign = direction === 'right' ? 1 : -1;
  let best: LayoutNode | null = null;
  let bestScore = Infinity;
  for (const n of layout.nodes) {
    const dx = (n.x - from.x) * sign;
    const dy = Math.abs(n.y - from.y);
    if (dx <= 0 || dy > from.height * 2) continue;
    const score = dx + dy * 4;
    if (score < bestScore) {
      bestScore = score;
      best = n;
    }
  }
  return best;
}
