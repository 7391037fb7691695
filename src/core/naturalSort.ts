/**
 * The one name order of qbench (issue #13 item 7): samples, layers in the table, search results,
 * the layers an export lists and the Pareto list's ties all sort with it, so Add.10 follows Add.9.
 *
 * Orders names as a person would: runs of digits compare by value, so "img2" < "img10". Written out
 * rather than Intl.Collator so the order (and so every sample index) is the same in every browser
 * and Node version. Other characters compare by code unit; names equal but for leading zeros put
 * the shorter digit run first ("img1" before "img01"); plain comparison settles the rest.
 * @example ['img10.png', 'img2.png', 'img1.png'].sort(naturalCompare) // ['img1.png', 'img2.png', 'img10.png']
 */
export function naturalCompare(a: string, b: string): number {
  const chunks = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const x = chunks(a);
  const y = chunks(b);
  let zeros = 0; // first difference in leading zeros, used only if nothing else differs
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === q) continue;
    const pDigits = /^\d/.test(p);
    const qDigits = /^\d/.test(q);
    if (pDigits && qDigits) {
      const pValue = p.replace(/^0+(?=\d)/, '');
      const qValue = q.replace(/^0+(?=\d)/, '');
      if (pValue.length !== qValue.length) return pValue.length - qValue.length;
      if (pValue !== qValue) return pValue < qValue ? -1 : 1;
      zeros ||= p.length - q.length;
      continue;
    }
    return p < q ? -1 : 1;
  }
  if (x.length !== y.length) return x.length - y.length;
  if (zeros !== 0) return zeros;
  return a < b ? -1 : a > b ? 1 : 0;
}
