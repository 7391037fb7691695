/**
 * The few Python literals a .npy header dict is written with (numpy `format.py` writes it with
 * `repr`): a dict with str keys, str, int, True/False/None, tuples and lists. Nothing is evaluated.
 */
export type PyValue =
  | string
  | number
  | boolean
  | null
  | { readonly kind: 'tuple' | 'list'; readonly items: readonly PyValue[] }
  | { readonly kind: 'dict'; readonly entries: ReadonlyMap<string, PyValue> };

/**
 * Parses one Python literal; throws an Error saying where the text stops making sense.
 * @example parsePyLiteral("{'shape': (2, 3), }") // { kind: 'dict', entries: Map { 'shape' => { kind: 'tuple', items: [2, 3] } } }
 */
export function parsePyLiteral(text: string): PyValue {
  let pos = 0;
  const skipSpace = () => {
    while (pos < text.length && ' \t\r\n'.includes(text[pos])) pos++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${pos} of ${JSON.stringify(text.trim())}`);
  };
  const expect = (char: string) => {
    skipSpace();
    if (text[pos] !== char) fail(`expected '${char}'`);
    pos++;
  };

  const value = (): PyValue => {
    skipSpace();
    const c = text[pos];
    if (c === '{') return dict();
    if (c === '(') return sequence('tuple', ')');
    if (c === '[') return sequence('list', ']');
    if (c === "'" || c === '"') return string(c);
    const word = /^[A-Za-z_]\w*|^-?\d+L?/.exec(text.slice(pos))?.[0];
    if (!word) return fail('unexpected text');
    pos += word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    // Python 2 numpy wrote long ints with an L suffix: (3L, 4L).
    if (/^-?\d+L?$/.test(word)) return Number.parseInt(word, 10);
    return fail(`unknown name ${word}`);
  };

  const string = (quote: string): string => {
    pos++;
    let out = '';
    while (pos < text.length && text[pos] !== quote) {
      if (text[pos] === '\\') pos++; // descr strings never hold escapes worth decoding; keep the char
      out += text[pos++];
    }
    if (pos >= text.length) fail('unterminated string');
    pos++;
    return out;
  };

  const sequence = (kind: 'tuple' | 'list', close: string): PyValue => {
    pos++;
    const items: PyValue[] = [];
    for (;;) {
      skipSpace();
      if (text[pos] === close) break;
      items.push(value());
      skipSpace();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== close) fail(`expected ',' or '${close}'`);
    }
    pos++;
    return { kind, items };
  };

  const dict = (): PyValue => {
    pos++;
    const entries = new Map<string, PyValue>();
    for (;;) {
      skipSpace();
      if (text[pos] === '}') break;
      const key = value();
      if (typeof key !== 'string') fail('expected a string key');
      expect(':');
      entries.set(key as string, value());
      skipSpace();
      if (text[pos] === ',') pos++;
      else if (text[pos] !== '}') fail("expected ',' or '}'");
    }
    pos++;
    return { kind: 'dict', entries };
  };

  const result = value();
  skipSpace();
  if (pos < text.length) fail('unexpected text after the literal');
  return result;
}
