import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../cli/ortNodeEngine';
import { GraphBuilder, randomSamples } from '../../../test/support/GraphBuilder';
import { maxRelativeDifference, modelOf, runModel } from '../../../test/support/runModel';
import { onnx } from '../io/onnx/protobuf';
import { foldBatchNorm } from './foldBatchNorm';

/** A BatchNormalization with seeded parameters: scale 0.5..1.5, bias ±0.5, mean ±0.5, variance 0.1..2. */
function batchNorm(b: GraphBuilder, x: string, channels: number, name: string): string {
  const uniform = (lo: number, hi: number) => Float32Array.from({ length: channels }, () => lo + (hi - lo) * b.random());
  const params = [uniform(0.5, 1.5), uniform(-0.5, 0.5), uniform(-0.5, 0.5), uniform(0.1, 2)].map((data) => b.constant(data, [channels]));
  return b.node('BatchNormalization', [x, ...params], { epsilon: { float: 1e-3 } }, 1, undefined, name)[0];
}

function convTranspose(b: GraphBuilder, x: string, out: number, group: number, name: string): string {
  const [n, c, h, w] = b.shapeOf(x);
  const weight = b.weight([c, out / group, 2, 2], 0.5);
  const bias = b.weight([out], 0.1);
  return b.node('ConvTranspose', [x, weight, bias], { kernel_shape: [2, 2], strides: [2, 2], group }, 1, [n, out, 2 * h, 2 * w], name)[0];
}

/** conv1 -> bn1 -> Relu -> conv2 (grouped, no bias) -> bn2 -> ConvTranspose (group 2) -> bn3 (graph output), and a skip. */
function bnModel(): Uint8Array {
  const b = new GraphBuilder({ seed: 21 });
  let x = b.input('x', [1, 3, 8, 8]);
  x = b.relu(batchNorm(b, b.conv(x, 8, 3, { name: 'conv1' }), 8, 'bn1'));
  x = batchNorm(b, b.conv(x, 8, 3, { name: 'conv2', group: 2, bias: false }), 8, 'bn2');
  const up = batchNorm(b, convTranspose(b, x, 4, 2, 'deconv'), 4, 'bn3');
  b.output(up);
  // conv4's output feeds bn4 and an Add: bn4 cannot be folded
  const c4 = b.conv(x, 8, 1, { name: 'conv4' });
  b.output(b.add(batchNorm(b, c4, 8, 'bn4'), c4));
  return b.toBytes();
}

describe('foldBatchNorm', () => {
  it('keeps the function: outputs equal the original model within 1e-5 relative', async () => {
    const engine = ortNodeEngine(1);
    const model = modelOf(bnModel());
    const { model: folded } = foldBatchNorm(model);
    const samples = randomSamples('x', [1, 3, 8, 8], 4);
    const before = await runModel(engine, model, samples);
    const after = await runModel(engine, folded, samples);
    expect(maxRelativeDifference(before, after)).toBeLessThan(1e-5);
  });

  it('removes the folded BN nodes, keeps the convolutions\' names and makes them produce the BN outputs', () => {
    const model = modelOf(bnModel());
    const bnOutput = (name: string) => model.graph.nodes.find((n) => n.name === name)!.outputs[0];
    const { model: folded, folded: report, skipped } = foldBatchNorm(model);
    expect(report).toEqual([
      { conv: 'conv1', batchNorm: 'bn1' },
      { conv: 'conv2', batchNorm: 'bn2' },
      { conv: 'deconv', batchNorm: 'bn3' },
    ]);
    expect(skipped).toEqual([{ batchNorm: 'bn4', reason: 'the output of Conv "conv4" also feeds 1 other node(s)' }]);
    const names = folded.graph.nodes.map((n) => n.name);
    expect(names).not.toContain('bn1');
    expect(names).not.toContain('bn2');
    expect(names).not.toContain('bn3');
    expect(names).toContain('bn4');
    const node = (name: string) => folded.graph.nodes.find((n) => n.name === name)!;
    expect(node('conv1').outputs[0]).toBe(bnOutput('bn1'));
    expect(node('conv2').outputs[0]).toBe(bnOutput('bn2'));
    expect(node('deconv').outputs[0]).toBe(bnOutput('bn3'));
    expect(node('conv2').inputs).toHaveLength(3); // a bias was added
    expect(folded.graph.outputs.map((o) => o.name)).toEqual(model.graph.outputs.map((o) => o.name));
    // the BN parameters are gone with their nodes; bn4's stay
    expect(folded.graph.weights.length).toBe(model.graph.weights.length - 3 * 4 + 1);
  });

  it('never changes the input model', () => {
    const model = modelOf(bnModel());
    const bytes = onnx.ModelProto.encode(model.proto).finish();
    const w = Float32Array.from(model.weight(model.graph.nodes.find((n) => n.name === 'conv1')!.inputs[1]).data as Float32Array);
    foldBatchNorm(model);
    expect(onnx.ModelProto.encode(model.proto).finish()).toEqual(bytes);
    expect(model.weight(model.graph.nodes.find((n) => n.name === 'conv1')!.inputs[1]).data).toEqual(w);
  });

  it('a weight shared by two convolutions is copied for the folded one; the other keeps the original values', async () => {
    const b = new GraphBuilder({ seed: 5 });
    const x = b.input('x', [1, 4, 6, 6]);
    const w = b.weight([4, 4, 3, 3], 0.3, 'shared_w');
    const c1 = b.node('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 1, [1, 4, 6, 6], 'convA')[0];
    const c2 = b.node('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 1, [1, 4, 6, 6], 'convB')[0];
    b.output(b.add(batchNorm(b, c1, 4, 'bnA'), c2));
    const model = modelOf(b.toBytes());
    const { model: folded, folded: report } = foldBatchNorm(model);
    expect(report).toEqual([{ conv: 'convA', batchNorm: 'bnA' }]);
    const node = (name: string) => folded.graph.nodes.find((n) => n.name === name)!;
    expect(node('convB').inputs[1]).toBe('shared_w');
    expect(node('convA').inputs[1]).toBe('shared_w_bn_folded');
    expect(folded.weight('shared_w').data).toEqual(model.weight('shared_w').data);
    const samples = randomSamples('x', [1, 4, 6, 6], 2);
    const engine = ortNodeEngine(1);
    expect(maxRelativeDifference(await runModel(engine, model, samples), await runModel(engine, folded, samples))).toBeLessThan(1e-5);
  });

  it('a BN after something other than a convolution, or with non-constant parameters, is reported and kept', () => {
    const b = new GraphBuilder({ seed: 2 });
    const x = b.input('x', [1, 4, 5, 5]);
    const y = batchNorm(b, b.relu(x), 4, 'bnAfterRelu');
    const c = b.conv(y, 4, 1, { name: 'conv' });
    const scale = b.input('scale', [4]);
    const params = [b.weight([4], 0.1), b.weight([4], 0.1), b.constant(new Float32Array([1, 1, 1, 1]), [4])];
    b.output(b.node('BatchNormalization', [c, scale, ...params], {}, 1, undefined, 'bnInputScale')[0]);
    const model = modelOf(b.toBytes());
    const result = foldBatchNorm(model);
    expect(result.model).toBe(model);
    expect(result.folded).toEqual([]);
    const relu = model.graph.nodes.find((n) => n.opType === 'Relu')!.outputs[0];
    expect(result.skipped).toEqual([
      { batchNorm: 'bnAfterRelu', reason: `its input "${relu}" is not produced by a Conv or ConvTranspose` },
      { batchNorm: 'bnInputScale', reason: 'its scale, bias, mean and variance are not all float32 initializers' },
    ]);
  });
});
