import { describe, expect, it } from 'vitest';
import { formatRules, parseRules } from './rulesFile';
import type { Rule } from './rules';

describe('the rules file', () => {
  it('writes and reads back the same rules, in order', () => {
    const rules: Rule[] = [{ kind: 'op', value: 'Softmax', precision: 'FP32' }, { kind: 'scope', value: '/model.22/', precision: 'INT16', enabled: false }, { kind: 'last', value: '2', precision: 'FP16' }];
    expect(parseRules(formatRules(rules), 'r.json')).toEqual(rules);
  });

  it('takes the bare list, counts as numbers and TPU-MLIR modes', () => {
    expect(parseRules('[{"kind": "first", "value": 3, "precision": "f32"}]', 'r.json')).toEqual([{ kind: 'first', value: '3', precision: 'FP32' }]);
  });

  it('refuses a malformed rule by its index and what is wrong', () => {
    expect(() => parseRules('{"rules": [{"kind": "op", "value": "Conv", "precision": "FP32"}, {"kind": "name", "value": "([", "precision": "FP32"}]}', 'r.json')).toThrow(/r\.json: rules\[1\] \(name "\(\["\): not a valid regular expression/);
    expect(() => parseRules('{"rules": [{"kind": "type", "value": "Conv", "precision": "FP32"}]}', 'r.json')).toThrow(/rules\[0\]: kind is one of op, name, scope, first, last/);
    expect(() => parseRules('{"rules": [{"kind": "op", "value": "Conv", "precision": "INT9"}]}', 'r.json')).toThrow(/precision is one of/);
    expect(() => parseRules('{"layers": []}', 'r.json')).toThrow(/expected a qbench rules file/);
  });
});
