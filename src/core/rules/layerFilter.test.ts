import { describe, expect, it } from 'vitest';
import { layerFilter } from './layerFilter';

const rows = [
  { name: 'p2o.Conv.4', op: 'Conv', outputs: ['conv2d_4.tmp_0'] },
  { name: 'p2o.Conv.41', op: 'Conv', outputs: ['conv2d_41.tmp_0'] },
  { name: 'p2o.Conv.17', op: 'Conv', outputs: ['conv2d_17.tmp_0'] },
  { name: 'p2o.Relu.4', op: 'Relu', outputs: ['relu_4.tmp_0'] },
  { name: '/model.22/Softmax', op: 'Softmax', outputs: ['/model.22/Softmax_output_0'] },
];
const names = (text: string) => rows.filter(layerFilter(text).test ?? (() => false)).map((r) => r.name);

describe('the layer table filter (issue #13: op:Conv and Conv.4* found nothing)', () => {
  it('op: takes op types, exact and case-insensitive, several with commas, globs', () => {
    expect(names('op:Conv')).toEqual(['p2o.Conv.4', 'p2o.Conv.41', 'p2o.Conv.17']);
    expect(names('op:relu,softmax')).toEqual(['p2o.Relu.4', '/model.22/Softmax']);
    expect(names('op:Soft*')).toEqual(['/model.22/Softmax']);
  });

  it('a glob, a /regex/, re: and plain text (names, op types and tensor names)', () => {
    expect(names('Conv.4*')).toEqual(['p2o.Conv.4', 'p2o.Conv.41']);
    expect(names('/Conv\\.4\\d$/')).toEqual(['p2o.Conv.41']);
    expect(names('re:^p2o\\.(relu|conv)\\.4$')).toEqual(['p2o.Conv.4', 'p2o.Relu.4']);
    expect(names('Conv\\.1')).toEqual(['p2o.Conv.17']);
    expect(names('p2o.Conv.17')).toEqual(['p2o.Conv.17']);
    expect(names('softmax')).toEqual(['/model.22/Softmax']);
    expect(names('conv2d_41')).toEqual(['p2o.Conv.41']);
  });

  it('terms all hold; scope: is a prefix; a bad regex says why and shows nothing', () => {
    expect(names('op:Conv 4*')).toEqual(['p2o.Conv.4', 'p2o.Conv.41']);
    expect(names('scope:/model.22/')).toEqual(['/model.22/Softmax']);
    const bad = layerFilter('/([/');
    expect(bad.test).toBeNull();
    expect(bad.error).toMatch(/not a valid regular expression/);
    expect(names('   ')).toHaveLength(rows.length);
  });
});
