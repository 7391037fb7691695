import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../cli/ortNodeEngine';
import { GraphBuilder, seededRandom } from '../../../test/support/GraphBuilder';
import { onnx } from '../io/onnx/protobuf';
import type { Dataset } from '../io/dataset/Dataset';
import { silentJob } from '../jobs/Job';
import type { TensorMap } from '../model/tensor';
import type { QuantizationContext } from '../quant/QuantizationContext';
import { ALL_INT8, withPrecision } from '../model/QTable';
import { NO_SCORING } from '../metrics/outputParts';
import { Simulator } from '../sim/Simulator';
import { Workbench } from '../Workbench';
import { biasCorrection, measureConvBiasErrors } from './biasCorrection';

/**
 * conv1 runs with int4 weights (W4): 7 levels per channel round its weights coarsely, and with an
 * all-positive, skewed input (2 u^2) the rounding error (W - Wq) E[x] does not average out: conv1's
 * quantized output is biased per channel.
 */
function biasedModel(): Uint8Array {
  const b = new GraphBuilder({ seed: 51 });
  const x = b.input('x', [1, 3, 8, 8]);
  const perChannel = 3 * 3 * 3;
  const w = new Float32Array(8 * perChannel);
  for (let i = 0; i < w.length; i++) w[i] = (2 * b.random() - 1) * 0.1;
  const conv1 = b.node('Conv', [x, b.constant(w, [8, 3, 3, 3]), b.weight([8], 0.1)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 1, [1, 8, 8, 8], 'conv1')[0];
  b.output(b.conv(b.relu(conv1), 4, 3, { name: 'conv2' }));
  return b.toBytes();
}

/** conv1 with int4 weights (W4A8). */
const W4 = withPrecision(ALL_INT8, 'conv1', 'INT4');

function skewedSamples(count: number): TensorMap[] {
  const random = seededRandom(17);
  return Array.from({ length: count }, () => ({ x: { dtype: 'float32' as const, dims: [1, 3, 8, 8], data: Float32Array.from({ length: 192 }, () => 2 * random() ** 2) } }));
}

async function calibratedContext(): Promise<{ context: QuantizationContext; samples: Dataset; bench: Workbench }> {
  const bench = await Workbench.open(ortNodeEngine(1), biasedModel(), 'biased.onnx');
  const list = skewedSamples(8);
  const samples = { samples: list, sampleNames: list.map((_, i) => `s${i}`) };
  bench.setDataset(samples);
  await bench.calibrate(silentJob);
  await bench.evaluate(W4, 'outputs', silentJob); // calibrates conv1's output, which INT4 conv1 no longer fuses into its INT8 Relu
  const context: QuantizationContext = { model: bench.model, layers: bench.layers, types: bench.types, cali: bench.caliTable().entries, scheme: bench.scheme, weights: bench.weightOptions };
  return { context, samples, bench };
}

const maxAbs = (values: Float32Array) => Math.max(...Array.from(values, Math.abs));

describe('biasCorrection', () => {
  it('corrects the biased conv: its per-channel mean error shrinks tenfold and the output similarity does not drop', async () => {
    const engine = ortNodeEngine(1);
    const { context, samples } = await calibratedContext();
    // conv1's local cos is 0.998 here: a bias this size barely moves the cosine, hence 0.999
    const { model, corrected, measured } = await biasCorrection(context, W4, engine, samples, { minLayerCos: 0.999 });
    expect(measured.map((m) => m.layer)).toEqual(['conv1', 'conv2']);
    expect(corrected.map((c) => c.layer)).toEqual(['conv1']);
    const conv1 = corrected.find((c) => c.layer === 'conv1')!;
    expect(conv1.meanShift).toBeGreaterThan(0);
    expect(conv1.localCos).toBeLessThan(0.999);
    // the bias moved by exactly the measured mean error
    const biasName = (name: string) => context.model.graph.nodes.find((n) => n.name === name)!.inputs[2];
    const before = context.model.weight(biasName('conv1')).data as Float32Array;
    const after = model.weight(model.graph.nodes.find((n) => n.name === 'conv1')!.inputs[2]).data as Float32Array;
    after.forEach((v, m) => expect(v).toBeCloseTo(before[m] + conv1.shift[m], 6));

    const errorBefore = measured.find((m) => m.layer === 'conv1')!.meanError;
    const remeasured = await measureConvBiasErrors({ ...context, model }, W4, engine, samples, { reference: context.model });
    const errorAfter = remeasured.find((m) => m.layer === 'conv1')!.meanError;
    expect(maxAbs(errorAfter)).toBeLessThan(maxAbs(errorBefore) / 10); // 0.0169 -> 0.00007 when written

    const floatOutputs = [] as TensorMap[];
    const session = await engine.createSession(context.model.encode());
    for (const sample of samples.samples) floatOutputs.push(await session.run(sample));
    await session.dispose();
    const cos = async (m: typeof model) => {
      const simulator = new Simulator({ ...context, model: m, engine, samples, floatOutputs, scoring: NO_SCORING });
      const evaluation = await simulator.evaluate(W4, 'outputs', silentJob);
      await simulator.dispose();
      return evaluation.output.cos;
    };
    expect(await cos(model)).toBeGreaterThanOrEqual(await cos(context.model)); // 0.99618 -> 0.99821 when written
  });

  it('only integer convs below minLayerCos are corrected; none below: the model comes back as it is', async () => {
    const engine = ortNodeEngine(1);
    const { context, samples } = await calibratedContext();
    const none = await biasCorrection(context, ALL_INT8, engine, samples, { minLayerCos: -1 });
    expect(none.corrected).toEqual([]);
    expect(none.model).toBe(context.model);
    const floatConv2 = await biasCorrection(context, withPrecision(ALL_INT8, 'conv2', 'FP32'), engine, samples, { minLayerCos: 1 });
    expect(floatConv2.measured.map((m) => m.layer)).toEqual(['conv1']);
  });

  it('never changes the input model; an empty dataset and a bad minLayerCos are refused', async () => {
    const engine = ortNodeEngine(1);
    const { context, samples } = await calibratedContext();
    const bytes = onnx.ModelProto.encode(context.model.proto).finish();
    await biasCorrection(context, ALL_INT8, engine, samples, { minLayerCos: 1 });
    expect(onnx.ModelProto.encode(context.model.proto).finish()).toEqual(bytes);
    await expect(biasCorrection(context, ALL_INT8, engine, { samples: [], sampleNames: [] })).rejects.toThrow('bias correction needs at least one sample; the dataset is empty');
    await expect(biasCorrection(context, ALL_INT8, engine, samples, { minLayerCos: 2 })).rejects.toThrow(new RangeError('minLayerCos must be in [-1, 1], got 2'));
  });
});
