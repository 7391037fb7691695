/**
 * Two clusters of points by k-means (search_qtable's clustering: [cos loss, SQNR] per layer).
 * Each feature is standardized first (loss and dB differ in scale by orders of magnitude); the
 * centres start at the points with the lowest and highest first feature, so the result is
 * deterministic and cluster 1 is the high-loss one.
 * @returns the cluster (0 or 1) of each point
 */
export function twoMeans(points: readonly (readonly number[])[], iterations = 100): number[] {
  if (points.length === 0) return [];
  const dims = points[0].length;
  const mean = Array.from({ length: dims }, (_, d) => points.reduce((s, p) => s + p[d], 0) / points.length);
  const std = Array.from({ length: dims }, (_, d) => Math.sqrt(points.reduce((s, p) => s + (p[d] - mean[d]) ** 2, 0) / points.length) || 1);
  const z = points.map((p) => p.map((v, d) => (v - mean[d]) / std[d]));
  let lo = 0;
  let hi = 0;
  z.forEach((p, i) => {
    if (p[0] < z[lo][0]) lo = i;
    if (p[0] > z[hi][0]) hi = i;
  });
  let centres = [z[lo], z[hi]];
  let assignment = z.map(() => 0);
  for (let it = 0; it < iterations; it++) {
    const next = z.map((p) => (distance(p, centres[1]) < distance(p, centres[0]) ? 1 : 0));
    const changed = next.some((c, i) => c !== assignment[i]);
    assignment = next;
    centres = [0, 1].map((k) => {
      const members = z.filter((_, i) => assignment[i] === k);
      return members.length ? Array.from({ length: dims }, (_, d) => members.reduce((s, p) => s + p[d], 0) / members.length) : centres[k];
    });
    if (!changed && it > 0) break;
  }
  return assignment;
}

function distance(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}
