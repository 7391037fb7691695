import type { VisitedConfiguration } from './SearchSession';

/**
 * The configurations on the Pareto front of output cosine against weight bytes: those that no other
 * configuration beats on both (at most as large and more accurate). Ids, smallest first.
 * @example paretoFront([{ id: 1, weightBytes: 10, outputCos: 0.9 }, { id: 2, weightBytes: 20, outputCos: 0.8 }]) // Set {1}
 */
export function paretoFront(points: readonly Pick<VisitedConfiguration, 'id' | 'weightBytes' | 'outputCos'>[]): Set<number> {
  const sorted = [...points].sort((a, b) => a.weightBytes - b.weightBytes || b.outputCos - a.outputCos);
  const front = new Set<number>();
  let best = -Infinity;
  for (const p of sorted) {
    if (p.outputCos > best) {
      front.add(p.id);
      best = p.outputCos;
    }
  }
  return front;
}
