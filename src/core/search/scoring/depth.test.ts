import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../test/support/GraphBuilder';
import { modelOf } from '../../../../test/support/runModel';
import { nodeDepths } from './depth';

describe('nodeDepths', () => {
  it('a chain x -> Conv -> Relu -> Conv: 1, 2, 3 (weights and biases do not count)', () => {
    const b = new GraphBuilder({ seed: 1 });
    const x = b.input('x', [1, 2, 4, 4]);
    const relu = b.node('Relu', [b.conv(x, 2, 3, { name: 'conv1' })], {}, 1, undefined, 'relu')[0];
    b.output(b.conv(relu, 2, 3, { name: 'conv2' }));
    expect(nodeDepths(modelOf(b.toBytes()).graph)).toEqual(new Map([['conv1', 1], ['relu', 2], ['conv2', 3]]));
  });

  /**
   * x -> conv1 -> relu1 -> conv2 -> relu2 -> add(relu1, relu2) -> mul(x, add)   (skip from relu1, and from x)
   * y -> neg_y                                                                  (second input)
   * sub(neg_y, add) -> split -> out0, out1 -> concat(out1, x)
   * identity(constant)                                                          (reads only an initializer)
   */
  it('a branched graph: one deeper than the deepest input, whatever its position; graph inputs at 0', () => {
    const b = new GraphBuilder({ seed: 2 });
    const x = b.input('x', [1, 2, 4, 4]);
    const y = b.input('y', [1, 2, 4, 4]);
    const relu1 = b.node('Relu', [b.conv(x, 2, 3, { name: 'conv1' })], {}, 1, undefined, 'relu1')[0];
    const relu2 = b.node('Relu', [b.conv(relu1, 2, 3, { name: 'conv2' })], {}, 1, undefined, 'relu2')[0];
    const add = b.node('Add', [relu1, relu2], {}, 1, undefined, 'add')[0];
    b.output(b.node('Mul', [x, add], {}, 1, undefined, 'mul')[0]);
    const negY = b.node('Neg', [y], {}, 1, undefined, 'neg_y')[0];
    const sub = b.node('Sub', [negY, add], {}, 1, undefined, 'sub')[0];
    const [, second] = b.node('Split', [sub], { axis: 1 }, 2, [1, 1, 4, 4], 'split');
    b.output(b.node('Concat', [second, x], { axis: 1 }, 1, [1, 3, 4, 4], 'concat')[0]);
    b.output(b.node('Identity', [b.weight([2], 1)], {}, 1, [2], 'identity')[0]);
    const depths = nodeDepths(modelOf(b.toBytes()).graph);
    expect(Object.fromEntries(depths)).toEqual({
      conv1: 1, relu1: 2, conv2: 3, relu2: 4,
      add: 5, // relu1 (2) and relu2 (4): the deeper one
      mul: 6, // x (0) and add (5)
      neg_y: 1,
      sub: 6, // neg_y (1) and add (5)
      split: 7,
      concat: 8, // split's second output (7) and x (0)
      identity: 1, // only an initializer
    });
  });
});
