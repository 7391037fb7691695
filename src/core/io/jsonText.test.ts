import { describe, expect, it } from 'vitest';
import { describeJson, jsonSyntaxErrorOffset, parseJsonText } from './jsonText';
import { messageOf } from '../../../test/support/messageOf';

const valid = ['{}', '[]', '0', '-0.5e+3', '"a\\u00e9\\n"', ' {"a": [1, {"b": null}], "c": true, "d": false} ', '[[[]]]', '"\\/"'];
const invalid = ['{"a": 1,}', '[1, 2', '{a: 1}', "{'a': 1}", '01', '1.', '.5', '+1', 'NaN', '[1] x', '"tab\there"', '"\\x"', '{"a" 1}', 'tru', '[,]', '{"a":}'];

describe('JSON text', () => {
  it('the syntax scan agrees with JSON.parse on what is valid', () => {
    for (const text of valid) expect(jsonSyntaxErrorOffset(text), text).toBe(-1);
    for (const text of invalid) {
      expect(() => JSON.parse(text), text).toThrow();
      expect(jsonSyntaxErrorOffset(text), text).toBeGreaterThanOrEqual(0);
    }
  });

  it('finds the offset of the first error, or the end for text that stops early', () => {
    expect(jsonSyntaxErrorOffset('{"a": 1,}')).toBe(8);
    expect(jsonSyntaxErrorOffset('[1, 2')).toBe(5);
    expect(jsonSyntaxErrorOffset('{"a": [1,\n  2 3]}')).toBe(14);
  });

  it('errors name the file, the line and column, and the text there; a byte order mark is skipped', () => {
    expect(messageOf(() => parseJsonText('{\n  "a": 1,\n  }', 'x.json', 'a table'))).toBe(
      "FormatError: x.json: expected a table in JSON, found invalid JSON at line 3, column 3 near '}'",
    );
    expect(messageOf(() => parseJsonText('[1, 2', 'x.json', 'a table'))).toBe('FormatError: x.json: expected a table in JSON, found JSON that ends too early');
    expect(messageOf(() => parseJsonText('\n', 'x.json', 'a table'))).toBe('FormatError: x.json: expected a table in JSON, found an empty file');
    expect(parseJsonText('\ufeff{"a": 1}', 'x.json', 'a table')).toEqual({ a: 1 });
  });

  it('describes what was found', () => {
    expect([null, undefined, [1], 'abc', 2.5, true, {}].map(describeJson)).toEqual(['null', 'nothing', 'an array', 'a string ("abc")', 'a number (2.5)', 'true', 'an object']);
  });
});
