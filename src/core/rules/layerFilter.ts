import { filterPattern, globToRegex } from './namePattern';

/** What the layer table's filter looks at in a row. */
export interface FilterableLayer {
  readonly name: string;
  readonly op: string;
  /** The tensors the layer writes (searched like its name). */
  readonly outputs?: readonly string[];
}

export interface LayerFilter {
  /** null: the filter has an error and shows nothing (rather than everything). */
  readonly test: ((layer: FilterableLayer) => boolean) | null;
  readonly error?: string;
}

const ALL: LayerFilter = { test: () => true };

/**
 * The layer table's filter (issue #13: `op:Conv` and `Conv.4*` found nothing). Whitespace-separated
 * terms, all of which must hold: `op:Conv` (op type, exact and case-insensitive; `op:Conv,Relu`
 * either; `op:Conv*` a glob), `scope:/model.22/` (name prefix), `/regex/` or `re:regex`, a glob with
 * `*` or `?`, or plain text found in the name, the op type or a tensor the layer writes.
 * @example layerFilter('op:Conv p2o.Conv.4*').test!({ name: 'p2o.Conv.41', op: 'Conv' }) // true
 */
export function layerFilter(text: string): LayerFilter {
  const terms = text.trim().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return ALL;
  const tests: ((layer: FilterableLayer) => boolean)[] = [];
  for (const term of terms) {
    const op = /^op:(.*)$/i.exec(term);
    if (op) {
      const exact = op[1].split(',').filter(Boolean).map((o) => new RegExp(`^(?:${globToRegex(o).source})$`, 'i'));
      tests.push((l) => exact.some((re) => re.test(l.op)));
      continue;
    }
    const scope = /^scope:(.+)$/i.exec(term);
    if (scope) {
      const prefix = scope[1];
      tests.push((l) => l.name.startsWith(prefix) || (l.outputs ?? []).some((t) => t.startsWith(prefix)));
      continue;
    }
    const pattern = filterPattern(term);
    if (!pattern.test) return { test: null, error: `"${term}": ${pattern.error}` };
    const test = pattern.test;
    const plain = !/^\/|^re:|[*?\\^$[\](){}|+]/.test(term);
    // plain text also finds the op type, as the filter always did ("conv" lists every Conv)
    tests.push((l) => test(l.name) || (plain && test(l.op)) || (l.outputs ?? []).some((t) => test(t)));
  }
  return { test: (l) => tests.every((t) => t(l)) };
}
