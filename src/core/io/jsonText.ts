import { FormatError } from '../errors';

/**
 * Small helpers shared by the JSON table readers (oneConfig, visq, boltClip, modelExplorer): parse
 * with an error that names the file, line and column, and describe what was found at a path so a
 * FormatError reads "<file>: <path>: expected <what>, found <what>".
 */

export type JsonObject = { readonly [key: string]: unknown };

/**
 * JSON.parse with a FormatError instead of a SyntaxError, naming the line and column of the first
 * error and the text there. The position is found by our own scan (engines word and place their
 * errors differently), so messages are the same in every browser and Node.
 * @example parseJsonText('{"a": 1,}', 'x.json', 'a visq error map')
 * // throws FormatError "x.json: expected a visq error map in JSON, found invalid JSON at line 1, column 9 near '}'"
 */
export function parseJsonText(text: string, fileName: string, expected: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.trim() === '') throw new FormatError(fileName, `expected ${expected} in JSON, found an empty file`);
  // Before anything walks the text: the syntax scan and the readers recurse, and a file of a
  // million '[' would end in "Maximum call stack size exceeded" instead of a message (issue #12).
  const deep = nestingOffset(body, MAX_JSON_DEPTH);
  if (deep >= 0) {
    throw new FormatError(fileName, `expected ${expected} in JSON, found arrays and objects nested more than ${MAX_JSON_DEPTH} levels deep (at ${lineColumn(body, deep)}); no table qbench reads is nested that deep: check that this is the file you meant`);
  }
  try {
    return JSON.parse(body);
  } catch {
    const offset = jsonSyntaxErrorOffset(body);
    if (offset >= body.length) throw new FormatError(fileName, `expected ${expected} in JSON, found JSON that ends too early`);
    if (offset < 0) throw new FormatError(fileName, `expected ${expected} in JSON, found text that is not valid JSON`);
    const near = body.slice(offset, offset + 12).split(/\r?\n/)[0];
    throw new FormatError(fileName, `expected ${expected} in JSON, found invalid JSON at ${lineColumn(body, offset)} near '${near}'`);
  }
}

/** Deepest nesting of arrays and objects a JSON table may have; the tables qbench reads use a few levels. */
export const MAX_JSON_DEPTH = 64;

/** `line 3, column 7` of an offset in text. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/**
 * The offset of the bracket that opens level `limit + 1` of arrays and objects, or -1: one loop
 * with a counter (brackets inside strings do not count), so it cannot overflow the stack itself.
 */
function nestingOffset(text: string, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (++depth > limit) return i;
    } else if (c === ']' || c === '}') depth--;
  }
  return -1;
}

/**
 * The offset of the first syntax error in `text` per RFC 8259 (text.length when it ends too early),
 * or -1 when it is valid JSON.
 */
export function jsonSyntaxErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw new JsonSyntaxError(i);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail();
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        i++;
        if (i < text.length && '"\\/bfnrt'.includes(text[i])) i++;
        else if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
        else fail();
      } else if (c < ' ') fail();
      else i++;
    }
  };
  const number = () => {
    const match = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?/y;
    match.lastIndex = i;
    if (!match.exec(text)) fail();
    i = match.lastIndex;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          space();
          if (text[i] !== '"') fail();
          string();
          space();
          if (text[i] !== ':') fail();
          i++;
        }
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === close) {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length;
        return;
      }
    }
    fail();
  };
  try {
    value();
    space();
    if (i < text.length) fail();
    return -1;
  } catch (error) {
    if (error instanceof JsonSyntaxError) return Math.min(error.offset, text.length);
    throw error;
  }
}

class JsonSyntaxError {
  constructor(readonly offset: number) {}
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What a JSON value is, for "found ..." in error messages.
 * @example describeJson('abc') // 'a string ("abc")'
 */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)})`;
    case 'number': return `a number (${value})`;
    case 'boolean': return String(value);
    default: return 'an object';
  }
}

/** `path["key"]`: object keys are quoted, since layer and tensor names hold dots and slashes. */
export function jsonKeyPath(path: string, key: string): string {
  return `${path}[${JSON.stringify(key)}]`;
}

/** A finite number at `path`, or a FormatError naming the path and what was found. */
export function expectFiniteNumber(value: unknown, fileName: string, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new FormatError(fileName, `${path}: expected a number, found ${describeJson(value)}`);
  }
  return value;
}

export function expectString(value: unknown, fileName: string, path: string): string {
  if (typeof value !== 'string') throw new FormatError(fileName, `${path}: expected a string, found ${describeJson(value)}`);
  return value;
}

export function expectObject(value: unknown, fileName: string, path: string, what = 'an object'): JsonObject {
  if (!isJsonObject(value)) throw new FormatError(fileName, `${path}: expected ${what}, found ${describeJson(value)}`);
  return value;
}

export function expectArray(value: unknown, fileName: string, path: string, what = 'an array'): readonly unknown[] {
  if (!Array.isArray(value)) throw new FormatError(fileName, `${path}: expected ${what}, found ${describeJson(value)}`);
  return value;
}
