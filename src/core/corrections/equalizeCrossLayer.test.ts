import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../cli/ortNodeEngine';
import { GraphBuilder, randomSamples } from '../../../test/support/GraphBuilder';
import { maxRelativeDifference, modelOf, runModel } from '../../../test/support/runModel';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { onnx } from '../io/onnx/protobuf';
import { equalizeCrossLayer, pairRanges } from './equalizeCrossLayer';

/** A Conv whose output channels have very different ranges (scale e^u, u uniform in [-2, 2]). */
function unevenConv(b: GraphBuilder, x: string, out: number, kernel: number, name: string, group = 1): string {
  const [n, c, h, w] = b.shapeOf(x);
  const perChannel = (c / group) * kernel * kernel;
  const data = new Float32Array(out * perChannel);
  for (let m = 0; m < out; m++) {
    const scale = Math.exp(4 * b.random() - 2);
    for (let k = 0; k < perChannel; k++) data[m * perChannel + k] = (2 * b.random() - 1) * scale;
  }
  const weight = b.constant(data, [out, c / group, kernel, kernel]);
  const bias = b.weight([out], 0.2);
  const pad = Math.floor(kernel / 2);
  return b.node('Conv', [x, weight, bias], { kernel_shape: [kernel, kernel], pads: [pad, pad, pad, pad], group }, 1, [n, out, h, w], name)[0];
}

/** conv1 -> Relu -> conv2 (2 groups) -> LeakyRelu -> conv3 (depthwise) -> PRelu (per channel) -> conv4; conv5 -> Clip -> conv6. */
function chainModel(): Uint8Array {
  const b = new GraphBuilder({ seed: 31 });
  const x = b.input('x', [1, 4, 10, 10]);
  let y = b.relu(unevenConv(b, x, 8, 3, 'conv1'));
  y = b.node('LeakyRelu', [unevenConv(b, y, 8, 3, 'conv2', 2)], { alpha: { float: 0.1 } }, 1, undefined, 'leaky')[0];
  const slope = b.constant(Float32Array.from({ length: 8 }, (_, i) => 0.05 * (i + 1)), [8, 1, 1]);
  y = b.node('PRelu', [unevenConv(b, y, 8, 3, 'conv3', 8), slope], {}, 1, undefined, 'prelu')[0];
  b.output(unevenConv(b, y, 4, 1, 'conv4'));
  const z = b.relu6(unevenConv(b, x, 6, 1, 'conv5'));
  b.output(unevenConv(b, z, 3, 1, 'conv6'));
  return b.toBytes();
}

function conv(model: OnnxModel, name: string) {
  const node = model.graph.nodes.find((n) => n.name === name)!;
  const weight = model.weight(node.inputs[1]);
  return { weight: { dims: [...weight.dims], data: weight.data as Float32Array }, group: Number(node.attributes.group ?? 1) };
}

/** max over channels of |r1/r2 - 1| for a pair of convolutions of `model`. */
function rangeMismatch(model: OnnxModel, first: string, second: string): number {
  const a = conv(model, first);
  const b = conv(model, second);
  const { r1, r2 } = pairRanges(a.weight, b.weight, b.group);
  return Math.max(...Array.from(r1, (r, i) => Math.abs(r / r2[i] - 1)));
}

describe('equalizeCrossLayer', () => {
  it('keeps the function: outputs equal the original within 1e-5 relative (grouped and depthwise second convs included)', async () => {
    const engine = ortNodeEngine(1);
    const model = modelOf(chainModel());
    const { model: equalized } = equalizeCrossLayer(model);
    const samples = randomSamples('x', [1, 4, 10, 10], 4);
    expect(maxRelativeDifference(await runModel(engine, model, samples), await runModel(engine, equalized, samples))).toBeLessThan(1e-5);
  });

  it('equalizes: afterwards r1[i] and r2[i] agree within 1e-3 for every pair, where they differed by more than 50%', () => {
    const model = modelOf(chainModel());
    const { model: equalized, pairs, iterations, lastChange } = equalizeCrossLayer(model);
    expect(pairs).toEqual([
      { first: 'conv1', second: 'conv2', activation: model.graph.nodes.find((n) => n.opType === 'Relu')!.name },
      { first: 'conv2', second: 'conv3', activation: 'leaky' },
      { first: 'conv3', second: 'conv4', activation: 'prelu' },
    ]);
    expect(iterations).toBeGreaterThan(1);
    expect(lastChange).toBeLessThan(1e-4);
    for (const { first, second } of pairs) {
      expect(rangeMismatch(model, first, second)).toBeGreaterThan(0.5);
      expect(rangeMismatch(equalized, first, second)).toBeLessThan(1e-3);
    }
  });

  it('hand-worked: r1 = [4, 1], r2 = [1, 4] give s = [2, 0.5]; W1 = [2, 2], W2 = [2, 2] after one sweep, two sweeps in all', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 1, 2, 2]);
    const c1 = b.node('Conv', [x, b.constant(new Float32Array([4, 1]), [2, 1, 1, 1]), b.constant(new Float32Array([8, -2]), [2])], { kernel_shape: [1, 1] }, 1, [1, 2, 2, 2], 'c1')[0];
    const r = b.relu(c1);
    b.output(b.node('Conv', [r, b.constant(new Float32Array([1, 4]), [1, 2, 1, 1])], { kernel_shape: [1, 1] }, 1, [1, 1, 2, 2], 'c2')[0]);
    const model = modelOf(b.toBytes());
    const { model: equalized, iterations } = equalizeCrossLayer(model);
    const node = (name: string) => equalized.graph.nodes.find((n) => n.name === name)!;
    expect(Array.from(equalized.weight(node('c1').inputs[1]).data as Float32Array)).toEqual([2, 2]);
    expect(Array.from(equalized.weight(node('c1').inputs[2]).data as Float32Array)).toEqual([4, -4]);
    expect(Array.from(equalized.weight(node('c2').inputs[1]).data as Float32Array)).toEqual([2, 2]);
    expect(iterations).toBe(2);
  });

  it('reports the pairs it cannot equalize: across Clip (Relu6), into a ConvTranspose', () => {
    const b = new GraphBuilder({ seed: 4 });
    const x = b.input('x', [1, 2, 4, 4]);
    const y = b.node('ConvTranspose', [b.conv(x, 4, 1, { name: 'c1' }), b.weight([4, 2, 2, 2], 0.3)], { kernel_shape: [2, 2], strides: [2, 2] }, 1, [1, 2, 8, 8], 'deconv')[0];
    b.output(y);
    const model = modelOf(chainModel());
    const result = equalizeCrossLayer(model);
    const clip = model.graph.nodes.find((n) => n.opType === 'Clip')!.name;
    expect(result.skipped).toEqual([{ first: 'conv5', second: 'conv6', reason: `Clip (Relu6) is not positively homogeneous: its bounds do not scale with the channel ("${clip}")` }]);
    const other = equalizeCrossLayer(modelOf(b.toBytes()));
    expect(other.pairs).toEqual([]);
    expect(other.skipped).toEqual([{ first: 'c1', second: 'deconv', reason: 'the second layer is a ConvTranspose; only Conv -> Conv pairs are equalized' }]);
  });

  it('never changes the input model; a model without pairs comes back as it is', () => {
    const model = modelOf(chainModel());
    const bytes = onnx.ModelProto.encode(model.proto).finish();
    equalizeCrossLayer(model);
    expect(onnx.ModelProto.encode(model.proto).finish()).toEqual(bytes);
    const b = new GraphBuilder();
    b.output(b.relu(b.conv(b.input('x', [1, 1, 3, 3]), 2, 1)));
    const lone = modelOf(b.toBytes());
    expect(equalizeCrossLayer(lone)).toEqual({ model: lone, pairs: [], iterations: 0, lastChange: 0, skipped: [] });
  });

  it('maxIterations stops the sweeps; invalid options are refused', () => {
    const model = modelOf(chainModel());
    const once = equalizeCrossLayer(model, { maxIterations: 1 });
    expect(once.iterations).toBe(1);
    expect(once.lastChange).toBeGreaterThan(1e-4);
    expect(() => equalizeCrossLayer(model, { tolerance: 0 })).toThrow(new RangeError('tolerance must be positive, got 0'));
    expect(() => equalizeCrossLayer(model, { maxIterations: 0.5 })).toThrow(new RangeError('maxIterations must be a positive integer, got 0.5'));
  });
});
