import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../../cli/ortNodeEngine';
import { GraphBuilder } from '../../../../test/support/GraphBuilder';
import { Workbench } from '../../Workbench';
import { quantUnits } from './units';

/**
 *  0 conv1 -> 1 relu1                                   Conv + Relu
 *  2 conv2 -> 3 bn2 -> 4 relu2                          Conv + BatchNormalization + Relu
 *  5 conv3 -> 6 clip3                                   Conv + Clip (relu6, min/max as initializers)
 *  7 conv4 -> 8 relu4, 9 add(conv4, relu4)              conv4's output feeds two nodes
 * 10 conv5 (a graph output) -> 11 relu5                 conv5's output is a graph output
 * 12 shape(relu5) -> 13 reshape(relu5, shape)           Shape is never quantized
 * 14 bn_after_reshape                                   BatchNormalization fuses only into a convolution
 */
function unitsModel(): Uint8Array {
  const b = new GraphBuilder({ seed: 11 });
  const x = b.input('x', [1, 2, 4, 4]);
  const bn = (input: string, name: string) => b.node('BatchNormalization', [input, b.weight([2], 1), b.weight([2], 0.1), b.weight([2], 0.1), b.constant(Float32Array.from([1, 2]), [2])], {}, 1, undefined, name)[0];
  const relu1 = b.node('Relu', [b.conv(x, 2, 3, { name: 'conv1' })], {}, 1, undefined, 'relu1')[0];
  const relu2 = b.node('Relu', [bn(b.conv(relu1, 2, 3, { name: 'conv2' }), 'bn2')], {}, 1, undefined, 'relu2')[0];
  const clip3 = b.node('Clip', [b.conv(relu2, 2, 3, { name: 'conv3' }), b.constant(new Float32Array([0]), []), b.constant(new Float32Array([6]), [])], {}, 1, undefined, 'clip3')[0];
  const conv4 = b.conv(clip3, 2, 3, { name: 'conv4' });
  const relu4 = b.node('Relu', [conv4], {}, 1, undefined, 'relu4')[0];
  const add = b.node('Add', [conv4, relu4], {}, 1, undefined, 'add')[0];
  const conv5 = b.conv(add, 2, 3, { name: 'conv5' });
  b.output(conv5);
  const relu5 = b.node('Relu', [conv5], {}, 1, undefined, 'relu5')[0];
  const shape = b.node('Shape', [relu5], {}, 1, [4], 'shape')[0];
  const reshape = b.node('Reshape', [relu5, shape], {}, 1, [1, 2, 4, 4], 'reshape')[0];
  b.output(bn(reshape, 'bn_after_reshape'));
  return b.toBytes();
}

describe('quantUnits', () => {
  let bench: Workbench;

  beforeAll(async () => {
    bench = await Workbench.open(ortNodeEngine(1), unitsModel(), 'units.onnx');
  });

  afterAll(async () => {
    await bench.dispose();
  });

  it('groups fused activations with their layer; a shared or graph-output tensor ends a unit; Shape is in none', () => {
    expect(bench.graph.nodes.map((n) => n.name)).toEqual([
      'conv1', 'relu1', 'conv2', 'bn2', 'relu2', 'conv3', 'clip3', 'conv4', 'relu4', 'add', 'conv5', 'relu5', 'shape', 'reshape', 'bn_after_reshape',
    ]);
    expect(bench.layers.get('shape')?.quantizable).toBe(false);
    expect(quantUnits(bench.graph, bench.layers)).toEqual([
      { head: 'conv1', layers: ['conv1', 'relu1'], position: 0 },
      { head: 'conv2', layers: ['conv2', 'bn2', 'relu2'], position: 2 },
      { head: 'conv3', layers: ['conv3', 'clip3'], position: 5 },
      { head: 'conv4', layers: ['conv4'], position: 7 }, // read by relu4 and add
      { head: 'relu4', layers: ['relu4'], position: 8 },
      { head: 'add', layers: ['add'], position: 9 },
      { head: 'conv5', layers: ['conv5'], position: 10 }, // a graph output
      { head: 'relu5', layers: ['relu5'], position: 11 },
      { head: 'reshape', layers: ['reshape'], position: 13 },
      { head: 'bn_after_reshape', layers: ['bn_after_reshape'], position: 14 },
    ]);
  });

  it('every quantizable layer is in exactly one unit, and positions are indices in graph.nodes', () => {
    const units = quantUnits(bench.graph, bench.layers);
    const members = units.flatMap((u) => u.layers);
    const quantizable = bench.graph.nodes.filter((n) => bench.layers.get(n.name)?.quantizable).map((n) => n.name);
    expect([...members].sort()).toEqual([...quantizable].sort());
    for (const unit of units) expect(bench.graph.nodes[unit.position].name).toBe(unit.head);
  });

  it('a fused activation that is not quantizable stays out of the unit', () => {
    const layers = new Map(bench.layers);
    layers.set('relu1', { ...layers.get('relu1')!, quantizable: false, reason: 'test' });
    const units = quantUnits(bench.graph, layers);
    expect(units[0]).toEqual({ head: 'conv1', layers: ['conv1'], position: 0 });
    expect(units.some((u) => u.layers.includes('relu1'))).toBe(false);
  });
});
