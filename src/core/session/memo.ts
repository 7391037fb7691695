/**
 * A derived value: computed from its inputs the first time it is asked for, and again only when
 * one of them is a different object (inputs are compared by identity, as a session's records are
 * never changed in place). `onReplace` releases what a replaced value holds (a simulator's
 * sessions). `builds` counts computations, for the tests that prove an edit recomputes exactly
 * what depends on it.
 */
export interface Derived<I extends readonly unknown[], R> {
  (...inputs: I): R;
  readonly builds: number;
  /** Forgets the value (releasing it): the next call computes again. */
  clear(): void;
}

export function derived<I extends readonly unknown[], R>(compute: (...inputs: I) => R, onReplace?: (old: R) => void): Derived<I, R> {
  let last: { readonly inputs: I; readonly value: R } | undefined;
  let builds = 0;
  const get = (...inputs: I): R => {
    if (last && last.inputs.length === inputs.length && last.inputs.every((v, k) => Object.is(v, inputs[k]))) return last.value;
    if (last) onReplace?.(last.value);
    last = { inputs, value: compute(...inputs) };
    builds++;
    return last.value;
  };
  const clear = () => {
    if (last) onReplace?.(last.value);
    last = undefined;
  };
  // defineProperty, not Object.assign: assign would copy the count once instead of the getter.
  return Object.defineProperties(get, { builds: { get: () => builds }, clear: { value: clear } }) as Derived<I, R>;
}
