import { GraphBuilder } from './GraphBuilder';

/**
 * A model whose one inference takes seconds from a one-number input: the input is broadcast to a
 * [1, channels, side, side] map and runs through `convs` 3x3 convolutions. For the tests of issue #12
 * that need an inference to stop from outside (Cancel, the per-inference time limit) without
 * shipping a large data file.
 */
export function slowModel({ channels = 32, side = 384, convs = 6 }: { channels?: number; side?: number; convs?: number } = {}): Uint8Array {
  const b = new GraphBuilder({ seed: 12 });
  const x = b.input('x', [1, 1, 1, 1]);
  const shape = b.constant(new BigInt64Array([1n, BigInt(channels), BigInt(side), BigInt(side)]), [4]);
  let y = b.node('Expand', [x, shape], {}, 1, [1, channels, side, side], 'broadcast')[0];
  for (let i = 0; i < convs; i++) y = b.relu(b.conv(y, channels, 3, { name: `slow_conv_${i}` }));
  b.output(b.node('GlobalAveragePool', [y], {}, 1, [1, channels, 1, 1], 'pool')[0]);
  return b.toBytes();
}
