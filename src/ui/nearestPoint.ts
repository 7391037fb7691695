/**
 * The point a pointer at `at` designates: the nearest within `radius`, the last drawn among equally
 * near ones (the one on top, as the eye sees it); -1 when none is that close. Charts hit-test with
 * this instead of each mark's own hit area, so overlapping marks never take a click meant for
 * another, and what is highlighted on hover is what a click applies.
 * @example nearestPoint([{ x: 0, y: 0 }, { x: 3, y: 0 }], { x: 2, y: 0 }, 5) // 1
 */
export function nearestPoint(points: readonly { readonly x: number; readonly y: number }[], at: { readonly x: number; readonly y: number }, radius: number): number {
  let best = -1;
  let bestDistance = radius * radius;
  points.forEach((p, i) => {
    const d = (p.x - at.x) ** 2 + (p.y - at.y) ** 2;
    if (d <= bestDistance) {
      best = i;
      bestDistance = d;
    }
  });
  return best;
}
