import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../cli/ortNodeEngine';
import { GraphBuilder, randomSamples } from '../../../test/support/GraphBuilder';
import { onnx } from '../io/onnx/protobuf';
import { readTensorProto } from '../io/onnx/tensorProto';
import { silentJob } from '../jobs/Job';
import { Workbench } from '../Workbench';
import { ALL_INT8 } from '../model/QTable';
import { TARGET_SCHEMES } from './schemes';

/** Builds, calibrates and exports a model under a scheme; returns a reader of the exported graph. */
async function exported(build: (b: GraphBuilder) => void, scheme: keyof typeof TARGET_SCHEMES) {
  const b = new GraphBuilder({ seed: 21 });
  build(b);
  const bench = await Workbench.open(ortNodeEngine(1), b.toBytes(), 'm.onnx');
  const inputs = bench.graph.inputs;
  const samples = randomSamples(inputs[0].name, inputs[0].dims as number[], 4, 5);
  bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
  bench.setScheme(TARGET_SCHEMES[scheme]);
  await bench.calibrate(silentJob);
  const proto = onnx.ModelProto.decode(await bench.exportQdq(ALL_INT8));
  const graph = proto.graph!;
  const init = new Map(graph.initializer.map((t) => [t.name, t]));
  const value = (name: string) => {
    const t = readTensorProto(init.get(name)!, 'm');
    return Array.from(t.data as ArrayLike<number>, Number);
  };
  /** scale and zero point of the QuantizeLinear that quantizes `tensor` (its producer's output). */
  const quantizerOf = (tensor: string) => {
    const q = graph.node.find((n) => n.opType === 'QuantizeLinear' && (n.input[0] === tensor || n.input[0] === `${tensor}_prequant`));
    if (!q) return undefined;
    return { scale: value(q.input[1])[0], zeroPoint: value(q.input[2])[0], type: init.get(q.input[2])!.dataType };
  };
  return { bench, graph, quantizerOf, proto };
}

describe('ONE: QuantizeWithMinMax rules in the simulated and exported model', () => {
  it('a Reshape passes its input qparams through (forward)', async () => {
    const { quantizerOf, bench } = await exported((b) => {
      const x = b.input('x', [1, 2, 4, 4]);
      const c = b.conv(x, 4, 3, { name: 'conv' });
      const [r] = b.node('Reshape', [c, b.constant(new BigInt64Array([1n, 64n]), [2])], {}, 1, [1, 64], 'reshape');
      b.output(r);
    }, 'one');
    const conv = bench.graph.nodes.find((n) => n.name === 'conv')!.outputs[0];
    const reshape = bench.graph.nodes.find((n) => n.name === 'reshape')!.outputs[0];
    expect(quantizerOf(reshape)).toEqual(quantizerOf(conv));
    expect(quantizerOf(conv)!.type).toBe(onnx.TensorProto.DataType.UINT8);
  });

  it("a Concat's inputs take the Concat's qparams (backward)", async () => {
    const { quantizerOf, bench } = await exported((b) => {
      const x = b.input('x', [1, 2, 4, 4]);
      const left = b.conv(x, 3, 3, { name: 'left' });
      const right = b.node('Mul', [b.conv(x, 3, 1, { name: 'right' }), b.constant(new Float32Array([5]), [])], {}, 1, [1, 3, 4, 4], 'scaled')[0];
      b.output(b.node('Concat', [left, right], { axis: 1 }, 1, [1, 6, 4, 4], 'concat')[0]);
    }, 'one');
    const [left, scaled, concat] = ['left', 'scaled', 'concat'].map((n) => bench.graph.nodes.find((x) => x.name === n)!.outputs[0]);
    expect(quantizerOf(left)).toEqual(quantizerOf(concat));
    expect(quantizerOf(scaled)).toEqual(quantizerOf(concat));
    // Under ORT/QDQ each keeps its own range.
    const ort = await exported((b) => {
      const x = b.input('x', [1, 2, 4, 4]);
      const l = b.conv(x, 3, 3, { name: 'left' });
      const r = b.node('Mul', [b.conv(x, 3, 1, { name: 'right' }), b.constant(new Float32Array([5]), [])], {}, 1, [1, 3, 4, 4], 'scaled')[0];
      b.output(b.node('Concat', [l, r], { axis: 1 }, 1, [1, 6, 4, 4], 'concat')[0]);
    }, 'ort-qdq');
    const o = ['left', 'scaled'].map((n) => ort.bench.graph.nodes.find((x) => x.name === n)!.outputs[0]);
    expect(ort.quantizerOf(o[0])!.scale).not.toBeCloseTo(ort.quantizerOf(o[1])!.scale, 6);
  });

  it('Sigmoid, Tanh and Softmax outputs get the fixed qparams', async () => {
    const { quantizerOf, bench } = await exported((b) => {
      const x = b.input('x', [1, 8]);
      const h = b.gemm(x, 8);
      b.output(b.node('Sigmoid', [h], {}, 1, [1, 8], 'sigmoid')[0]);
      b.output(b.node('Tanh', [h], {}, 1, [1, 8], 'tanh')[0]);
      b.output(b.softmax(h));
    }, 'one');
    const out = (op: string) => bench.graph.nodes.find((n) => n.opType === op)!.outputs[0];
    expect(quantizerOf(out('Sigmoid'))).toEqual({ scale: Math.fround(1 / 256), zeroPoint: 0, type: onnx.TensorProto.DataType.UINT8 });
    expect(quantizerOf(out('Tanh'))).toEqual({ scale: Math.fround(2 / 256), zeroPoint: 128, type: onnx.TensorProto.DataType.UINT8 });
    expect(quantizerOf(out('Softmax'))).toEqual({ scale: Math.fround(1 / 255), zeroPoint: 0, type: onnx.TensorProto.DataType.UINT8 });
  });
});

describe('Bolt and TPU-MLIR', () => {
  const model = (b: GraphBuilder) => {
    const x = b.input('x', [1, 2, 6, 6]);
    const c = b.conv(x, 4, 3, { name: 'conv' });
    const s = b.node('Sigmoid', [c], {}, 1, [1, 4, 6, 6], 'sigmoid')[0];
    b.output(b.conv(s, 2, 1, { name: 'conv2' }));
  };

  it('Bolt quantizes Conv/FC/MatMul only, int8 symmetric, per-tensor weights', async () => {
    const { graph, quantizerOf, bench } = await exported(model, 'bolt');
    const sigmoid = bench.graph.nodes.find((n) => n.name === 'sigmoid')!;
    expect(quantizerOf(sigmoid.outputs[0])?.zeroPoint ?? 0).toBe(0);
    expect(quantizerOf(bench.graph.nodes.find((n) => n.name === 'conv')!.outputs[0])!.type).toBe(onnx.TensorProto.DataType.INT8);
    const weightDq = graph.node.filter((n) => n.opType === 'DequantizeLinear' && n.input[0].endsWith('_quantized') && graph.initializer.find((t) => t.name === n.input[0])?.dims.length === 4);
    expect(weightDq).toHaveLength(2);
    for (const dq of weightDq) {
      expect(dq.attribute.find((a) => a.name === 'axis')).toBeUndefined();
      expect(graph.initializer.find((t) => t.name === dq.input[1])!.dims).toEqual([]);
    }
    // The Sigmoid runs in float (it reads the conv's int8-stored output dequantized); its output is
    // quantized only because conv2, an int8 layer, reads it.
    const evaluation = await bench.evaluate(ALL_INT8, 'layers', silentJob);
    expect(Object.fromEntries(evaluation.layers.map((l) => [l.layer, l.precision]))).toEqual({ conv: 'INT8', sigmoid: 'FP32', conv2: 'INT8' });
    expect(graph.node.find((n) => n.name === 'sigmoid')).toBeDefined();
  });

  it('TPU-MLIR stores activations int8 symmetric: zero point 0, scale threshold / 127', async () => {
    const { quantizerOf, bench } = await exported(model, 'tpu-mlir');
    const conv = bench.graph.nodes.find((n) => n.name === 'conv')!.outputs[0];
    const q = quantizerOf(conv)!;
    expect(q.type).toBe(onnx.TensorProto.DataType.INT8);
    expect(q.zeroPoint).toBe(0);
    const threshold = bench.caliTable().entries.get(conv)!.threshold;
    expect(q.scale).toBe(Math.fround(threshold / 127));
  });
});
