/**
 * Text a user types to pick layers by name, made into a test. Shared by the layer table's filter
 * and the name rules, so a pattern that finds layers in the table sets the same layers in a rule.
 */

/** A compiled pattern: `test` is null when the text is not a valid pattern (`error` says why). */
export interface NamePattern {
  readonly test: ((name: string) => boolean) | null;
  readonly error?: string;
}

const REGEX_ONLY = /[\\^$[\](){}|+]/;
const GLOB = /[*?]/;

/** A glob as a regex: `*` any run, `?` one character, everything else literal. Unanchored, as the filter's plain text is. */
export function globToRegex(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(body, 'i');
}

function compiled(source: string, flags: string): NamePattern {
  try {
    const re = new RegExp(source, flags);
    return { test: (name) => re.test(name) };
  } catch (error) {
    return { test: null, error: `not a valid regular expression: ${(error as Error).message}` };
  }
}

/**
 * A regular expression, as a name rule takes it (case-sensitive, as onnxruntime and AI Edge
 * Quantizer match names; `(?i)` at the start makes it case-insensitive).
 * @example regexPattern('Conv\\.4\\d$').test!('p2o.Conv.42') // true
 */
export function regexPattern(text: string): NamePattern {
  if (text.startsWith('(?i)')) return compiled(text.slice(4), 'i');
  return compiled(text, '');
}

/**
 * What the table's filter box makes of a term: `/re/` or `re:re` is a regular expression; text with
 * `*` or `?` and no other pattern character a glob (`Conv.4*`, since "." is a layer name's usual
 * separator and a regex would read it as any character); text with a regex character a regular
 * expression; anything else a substring. All case-insensitive, none anchored (as the substring is).
 * @example filterPattern('Conv.4*').test!('p2o.Conv.41') // true
 */
export function filterPattern(term: string): NamePattern {
  const slashed = /^\/(.*)\/([a-z]*)$/.exec(term);
  if (slashed) return compiled(slashed[1], slashed[2].includes('i') ? slashed[2] : `${slashed[2]}i`);
  if (term.startsWith('re:')) return compiled(term.slice(3), 'i');
  if (GLOB.test(term) && !REGEX_ONLY.test(term)) {
    const re = globToRegex(term);
    return { test: (name) => re.test(name) };
  }
  if (REGEX_ONLY.test(term)) return compiled(term, 'i');
  const needle = term.toLowerCase();
  return { test: (name) => name.toLowerCase().includes(needle) };
}
