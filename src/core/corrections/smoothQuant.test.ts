import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../cli/ortNodeEngine';
import { GraphBuilder, randomSamples } from '../../../test/support/GraphBuilder';
import { maxRelativeDifference, modelOf, runModel } from '../../../test/support/runModel';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { onnx } from '../io/onnx/protobuf';
import { silentJob } from '../jobs/Job';
import type { TensorMap } from '../model/tensor';
import { ALL_INT8 } from '../model/QTable';
import { TARGET_SCHEMES, type TargetScheme } from '../quant/schemes';
import { Workbench } from '../Workbench';
import { smoothingScales, smoothQuant } from './smoothQuant';

/** LayerNorm whose scale has two outlier channels (40 and -25: LLM-style activation outliers) -> q_proj, k_proj. */
function lnModel(): Uint8Array {
  const b = new GraphBuilder({ seed: 41, opset: 17 });
  const x = b.input('x', [1, 16, 32]);
  const gamma = Float32Array.from({ length: 32 }, () => 0.5 + b.random());
  gamma[5] = 40;
  gamma[17] = -25;
  const ln = b.node('LayerNormalization', [x, b.constant(gamma, [32]), b.weight([32], 0.1)], { axis: -1 }, 1, [1, 16, 32], 'ln')[0];
  b.output(b.node('MatMul', [ln, b.weight([32, 24], 0.3)], {}, 1, [1, 16, 24], 'q_proj')[0]);
  b.output(b.node('MatMul', [ln, b.weight([32, 24], 0.3)], {}, 1, [1, 16, 24], 'k_proj')[0]);
  return b.toBytes();
}

/** The affine tail of a decomposed LayerNorm: Add(Mul(x, gamma), beta) -> Gemm (transB = 1). */
function decomposedModel(): Uint8Array {
  const b = new GraphBuilder({ seed: 43, opset: 13 });
  const x = b.input('x', [8, 32]);
  const gamma = Float32Array.from({ length: 32 }, (_, c) => (c === 3 ? 30 : 0.5 + b.random()));
  const mul = b.node('Mul', [x, b.constant(gamma, [32])], {}, 1, undefined, 'gamma_mul')[0];
  const add = b.node('Add', [mul, b.weight([32], 0.2)], {}, 1, undefined, 'beta_add')[0];
  b.output(b.node('Gemm', [add, b.weight([16, 32], 0.3), b.weight([16], 0.1)], { transB: 1 }, 1, [8, 16], 'fc')[0]);
  return b.toBytes();
}

const dataset = (samples: TensorMap[]) => ({ samples, sampleNames: samples.map((_, i) => `s${i}`) });

async function int8Cosine(model: OnnxModel, samples: TensorMap[], scheme: TargetScheme): Promise<number> {
  const bench = await Workbench.open(ortNodeEngine(1), model.encode(), 'smooth.onnx');
  bench.setScheme(scheme);
  bench.setDataset(dataset(samples));
  await bench.calibrate(silentJob);
  const cos = (await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos;
  await bench.dispose();
  return cos;
}

describe('smoothQuant', () => {
  it('s = a^alpha / w^(1-alpha); a dead channel or a zero weight row keeps s = 1', () => {
    expect(Array.from(smoothingScales([4, 1, 0, 2], [1, 4, 3, 0], 0.5))).toEqual([2, 0.5, 1, 1]);
    expect(Array.from(smoothingScales([4, 1], [1, 4], 1))).toEqual([4, 1]);
    expect(Array.from(smoothingScales([4, 1], [2, 4], 0))).toEqual([0.5, 0.25]);
  });

  it('LayerNorm -> MatMul x2 with outlier channels: the float function is kept and the all-INT8 similarity rises', async () => {
    const engine = ortNodeEngine(1);
    const model = modelOf(lnModel());
    const samples = randomSamples('x', [1, 16, 32], 8);
    const { model: smoothed, pairs, skipped } = await smoothQuant(model, engine, dataset(samples));
    expect(skipped).toEqual([]);
    expect(pairs.map((p) => [p.producer, p.matmul])).toEqual([['ln', 'q_proj'], ['ln', 'k_proj']]);
    expect(pairs[0].alpha).toBe(pairs[1].alpha);
    expect(pairs[0].alpha).toBeGreaterThan(0);
    expect(maxRelativeDifference(await runModel(engine, model, samples), await runModel(engine, smoothed, samples))).toBeLessThan(1e-5);
    // the outliers moved from the LayerNorm scale into the weights
    const gamma = (m: OnnxModel) => m.weight(m.graph.nodes.find((n) => n.name === 'ln')!.inputs[1]).data as Float32Array;
    expect(Math.max(...Array.from(gamma(smoothed), Math.abs))).toBeLessThan(Math.max(...Array.from(gamma(model), Math.abs)) / 2);
    for (const scheme of [TARGET_SCHEMES['ort-qdq'], TARGET_SCHEMES['tpu-mlir']]) {
      const before = await int8Cosine(model, samples, scheme);
      const after = await int8Cosine(smoothed, samples, scheme);
      expect(after, scheme.id).toBeGreaterThan(before); // ort-qdq 0.99970 -> 0.99994, tpu-mlir 0.99964 -> 0.99993 (alpha 0.55) when written
    }
  });

  it('Add(Mul(x, gamma), beta) -> Gemm (transB = 1): gamma and beta take 1/s, the Gemm weight columns s', async () => {
    const engine = ortNodeEngine(1);
    const model = modelOf(decomposedModel());
    const samples = randomSamples('x', [8, 32], 4, 9);
    const { model: smoothed, pairs } = await smoothQuant(model, engine, dataset(samples), { alphaStep: 0.1 });
    expect(pairs.map((p) => [p.producer, p.matmul])).toEqual([['beta_add', 'fc']]);
    expect(Math.round(pairs[0].alpha * 10)).toBe(pairs[0].alpha * 10); // on the 0.1 grid
    expect(maxRelativeDifference(await runModel(engine, model, samples), await runModel(engine, smoothed, samples))).toBeLessThan(1e-5);
    const inputOf = (m: OnnxModel, node: string, k: number) => m.graph.nodes.find((n) => n.name === node)!.inputs[k];
    expect(smoothed.weight(inputOf(smoothed, 'gamma_mul', 1)).data).not.toEqual(model.weight(inputOf(model, 'gamma_mul', 1)).data);
    expect(smoothed.weight(inputOf(smoothed, 'beta_add', 1)).data).not.toEqual(model.weight(inputOf(model, 'beta_add', 1)).data);
  });

  it('a LayerNorm that also feeds a residual Add is reported, and a model without pairs comes back as it is, without a pass', async () => {
    const b = new GraphBuilder({ seed: 2, opset: 17 });
    const x = b.input('x', [1, 4, 8]);
    const ln = b.node('LayerNormalization', [x, b.weight([8], 1), b.weight([8], 0.1)], { axis: -1 }, 1, [1, 4, 8], 'ln')[0];
    b.output(b.add(b.node('MatMul', [ln, b.weight([8, 8], 0.3)], {}, 1, [1, 4, 8], 'proj')[0], ln));
    const model = modelOf(b.toBytes());
    const addName = model.graph.nodes.find((n) => n.opType === 'Add')!.name;
    const result = await smoothQuant(model, ortNodeEngine(1), dataset([]));
    expect(result).toEqual({ model, pairs: [], skipped: [{ producer: 'ln', reason: `its output also feeds Add "${addName}"; only MatMul/Gemm consumers can take the scales` }] });
    expect(result.model).toBe(model);
  });

  it('never changes the input model; an empty dataset and a bad alphaStep are refused', async () => {
    const engine = ortNodeEngine(1);
    const model = modelOf(lnModel());
    const bytes = onnx.ModelProto.encode(model.proto).finish();
    await smoothQuant(model, engine, dataset(randomSamples('x', [1, 16, 32], 2)));
    expect(onnx.ModelProto.encode(model.proto).finish()).toEqual(bytes);
    await expect(smoothQuant(model, engine, dataset([]))).rejects.toThrow('SmoothQuant needs at least one sample to measure the activations; the dataset is empty');
    await expect(smoothQuant(model, engine, dataset([]), { alphaStep: 0 })).rejects.toThrow(new RangeError('alphaStep must be in (0, 1], got 0'));
  });
});
