import { describe, expect, it } from 'vitest';
import type { Precision, QTable } from '../model/QTable';
import { reapplyRules, ruleError, ruleMatches, ruleOutcome, rulesOnly, withPrecisions, type Rule, type RuleLayer } from './rules';

const layer = (name: string, opType: string, extra: Partial<RuleLayer> = {}): RuleLayer => ({ name, opType, outputs: [`${name}_out`], quantizable: true, ...extra });
const LAYERS: RuleLayer[] = [
  layer('/model.0/conv/Conv', 'Conv'),
  layer('/model.0/act/Sigmoid', 'Sigmoid'),
  layer('shape', 'Shape', { quantizable: false }),
  layer('/model.22/cv2/Conv', 'Conv', { outputs: ['box_branch'] }),
  layer('/model.22/Softmax', 'Softmax'),
  layer('p2o.Conv.41', 'Conv'),
];
const table = (layers: [string, Precision][] = []): QTable => ({ defaultPrecision: 'INT8', layers: new Map(layers) });
const rule = (kind: Rule['kind'], value: string, precision: Precision, enabled?: boolean): Rule => ({ kind, value, precision, ...(enabled === false ? { enabled } : {}) });

describe('precision rules', () => {
  it('each kind picks its layers: op types, a name regex over layer and tensor names, a scope prefix, first/last N quantizable', () => {
    expect(ruleMatches(rule('op', 'conv, Softmax', 'FP32'), LAYERS)).toEqual(['/model.0/conv/Conv', '/model.22/cv2/Conv', '/model.22/Softmax', 'p2o.Conv.41']);
    expect(ruleMatches(rule('name', 'Conv\\.4\\d$', 'FP32'), LAYERS)).toEqual(['p2o.Conv.41']);
    expect(ruleMatches(rule('name', '^box_', 'FP32'), LAYERS)).toEqual(['/model.22/cv2/Conv']);
    expect(ruleMatches(rule('name', '(?i)SIGMOID', 'FP32'), LAYERS)).toEqual(['/model.0/act/Sigmoid']);
    expect(ruleMatches(rule('scope', '/model.22/', 'INT16'), LAYERS)).toEqual(['/model.22/cv2/Conv', '/model.22/Softmax']);
    // the Shape layer is not quantizable: it neither takes a precision nor counts
    expect(ruleMatches(rule('first', '3', 'FP16'), LAYERS)).toEqual(['/model.0/conv/Conv', '/model.0/act/Sigmoid', '/model.22/cv2/Conv']);
    expect(ruleMatches(rule('last', '2', 'FP16'), LAYERS)).toEqual(['/model.22/Softmax', 'p2o.Conv.41']);
  });

  it('the later rule wins; a switched-off or malformed rule picks nothing', () => {
    const outcome = ruleOutcome([rule('op', 'Conv', 'FP32'), rule('scope', '/model.22/', 'INT16'), rule('op', 'Softmax', 'FP16', false), rule('name', '([', 'FP32')], LAYERS);
    expect([...outcome]).toEqual([['/model.0/conv/Conv', 'FP32'], ['/model.22/cv2/Conv', 'INT16'], ['/model.22/Softmax', 'INT16'], ['p2o.Conv.41', 'FP32']]);
    expect(ruleError(rule('name', '([', 'FP32'))).toMatch(/not a valid regular expression/);
    expect(ruleError(rule('first', 'three', 'FP32'))).toMatch(/not a layer count/);
    expect(ruleError(rule('op', ' ', 'FP32'))).toMatch(/no op type/);
  });

  it('a rule change keeps the hand edits: a layer set apart from what the old rules gave keeps its precision', () => {
    const rules = [rule('op', 'Conv', 'FP32')];
    const withRules = reapplyRules(table(), [], rules, LAYERS);
    expect([...withRules.layers]).toEqual([['/model.0/conv/Conv', 'FP32'], ['/model.22/cv2/Conv', 'FP32'], ['p2o.Conv.41', 'FP32']]);
    // by hand: one Conv back to INT8 (the default: no entry), the Softmax to FP16
    const edited = withPrecisions(withPrecisions(withRules, ['p2o.Conv.41'], 'INT8'), ['/model.22/Softmax'], 'FP16');
    const changed = reapplyRules(edited, rules, [rule('op', 'Conv', 'INT16')], LAYERS);
    expect([...changed.layers].sort()).toEqual([['/model.0/conv/Conv', 'INT16'], ['/model.22/Softmax', 'FP16'], ['/model.22/cv2/Conv', 'INT16']]);
    // removing the rules puts the rule-set layers back to the default, hand edits still kept
    expect([...reapplyRules(changed, [rule('op', 'Conv', 'INT16')], [], LAYERS).layers]).toEqual([['/model.22/Softmax', 'FP16']]);
    // "reset every override": hand edits go, rules stay
    expect([...rulesOnly(edited, rules, LAYERS).layers]).toEqual([...withRules.layers]);
  });

  it('a bulk edit is one new table, or the same table when nothing changes', () => {
    const t = table([['a', 'FP32']]);
    expect(withPrecisions(t, ['a'], 'FP32')).toBe(t);
    const next = withPrecisions(t, ['a', 'b', 'c'], 'INT16');
    expect([...next.layers]).toEqual([['a', 'INT16'], ['b', 'INT16'], ['c', 'INT16']]);
    expect(withPrecisions(next, ['a', 'b'], 'INT8').layers).toEqual(new Map([['c', 'INT16']]));
  });

  it('re-applies to a 2,000-layer graph well within 100 ms (timing logged, not asserted)', () => {
    const ops = ['Conv', 'Relu', 'Add', 'Mul', 'Sigmoid', 'Concat', 'Softmax', 'MatMul'];
    const big: RuleLayer[] = Array.from({ length: 2000 }, (_, i) => layer(`/model.${Math.floor(i / 20)}/${ops[i % ops.length]}_${i}`, ops[i % ops.length], { quantizable: i % 17 !== 0 }));
    const before = [rule('op', 'Softmax', 'FP32'), rule('scope', '/model.22/', 'INT16')];
    const after = [...before, rule('name', 'Conv_1\\d{2}$', 'FP16'), rule('first', '10', 'FP32'), rule('last', '10', 'FP32'), rule('op', 'MatMul,Gemm', 'INT16')];
    let qtable = reapplyRules(table(), [], before, big);
    qtable = withPrecisions(qtable, ['/model.3/Add_66'], 'FP32');
    const runs: number[] = [];
    for (let k = 0; k < 5; k++) {
      const start = performance.now();
      reapplyRules(qtable, before, after, big);
      runs.push(performance.now() - start);
    }
    const result = reapplyRules(qtable, before, after, big);
    console.log(`rules: re-applied 6 rules to 2,000 layers in ${Math.min(...runs).toFixed(2)} ms (best of 5; slowest ${Math.max(...runs).toFixed(2)} ms; target 100 ms)`);
    expect(result.layers.get('/model.3/Add_66')).toBe('FP32');
    expect(result.layers.size).toBeGreaterThan(300);
  });
});
