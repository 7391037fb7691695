import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { loadDataset } from '../../src/core/io/dataset/loadDataset';
import { quantizedForm } from '../../src/core/io/onnx/quantizedForm';
import { readOnnx } from '../../src/core/io/onnx/OnnxModel';
import { silentJob } from '../../src/core/jobs/Job';
import type { GraphNode } from '../../src/core/model/ModelGraph';
import { ALL_INT8 } from '../../src/core/model/QTable';
import { Workbench } from '../../src/core/Workbench';
import { DEMO_PREPROCESS } from '../../src/demo/preprocess';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../support/models';
import { meanCosine, runModel } from '../support/runModel';
import { GraphBuilder, randomSamples } from '../support/GraphBuilder';
import { onnx } from '../../src/core/io/onnx/protobuf';

const node = (opType: string): GraphNode => ({ name: opType, opType, domain: '', inputs: [], outputs: [], attributes: {} });

describe('already-quantized models', () => {
  it('are recognised by form: QDQ pairs, QOperator integer ops, dynamic quantization; a float model is none', () => {
    expect(quantizedForm([node('QuantizeLinear'), node('DequantizeLinear'), node('Conv')])).toEqual({ form: 'qdq', operators: ['QuantizeLinear x1', 'DequantizeLinear x1'] });
    expect(quantizedForm([node('QuantizeLinear'), node('QLinearConv'), node('QLinearConv'), node('DequantizeLinear')])?.form).toBe('qoperator');
    expect(quantizedForm([node('DynamicQuantizeLinear'), node('MatMulInteger')])?.operators).toEqual(['DynamicQuantizeLinear x1', 'MatMulInteger x1']);
    expect(quantizedForm(readOnnx(REAL_MODELS.ppocrDet(), 'det.onnx').graph.nodes)).toBeNull();
  });

  it('a QDQ PP-OCRv4 det opened de-quantized and re-quantized with its own imported ranges reproduces the file (cos >= 0.999 against it)', async () => {
    const engine = ortNodeEngine(1);
    const files = ['document.jpg', 'receipt.jpg'].map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
    const preprocess = { ...DEMO_PREPROCESS, inputSize: [128, 128] as [number, number] };
    const source = await Workbench.open(engine, REAL_MODELS.ppocrDet(), 'det.onnx');
    source.setDataset(await loadDataset(files, source.graph.inputs, preprocess, nodeImageDecoder));
    await source.calibrate(silentJob);
    const int8File = await source.exportQdq(ALL_INT8, silentJob);
    await source.dispose();

    const bench = await Workbench.open(engine, int8File, 'det.qdq.onnx', { dequantize: true });
    expect(bench.findings.quantized).toBeNull(); // a float model now
    expect(bench.findings.notes[0]).toMatch(/^opened de-quantized: \d+ QuantizeLinear\/DequantizeLinear pairs removed/);
    const dataset = await loadDataset(files, bench.graph.inputs, preprocess, nodeImageDecoder);
    bench.setDataset(dataset);
    await bench.calibrate(silentJob);
    const requantized = await runModel(engine, await bench.exportQdq(ALL_INT8, silentJob), dataset.samples);
    const original = await runModel(engine, int8File, dataset.samples);
    expect(meanCosine(original, requantized)).toBeGreaterThanOrEqual(0.999);
    // The file's own model measured against the de-quantized float model is the figure to beat.
    expect((await bench.measureQuantizedOriginal(silentJob))!.cos).toBeCloseTo((await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos, 3);
    await bench.dispose();
  }, 120_000);

  it('a Relu that onnxruntime\'s quantizer folded into the quantizer after a Conv (range from 0) is put back in the float model', async () => {
    // Float: x -> Conv -> Relu -> y. As onnxruntime's quantizer writes it: Q/DQ(x) -> Conv(DQ w) -> Q(zp 0) -> DQ -> y, no Relu.
    const b = new GraphBuilder({ seed: 12 });
    const x = b.input('x', [1, 2, 5, 5]);
    b.output(b.relu(b.conv(x, 3, 3, { name: 'conv', bias: false })));
    const float = b.toModel();
    const w = float.graph!.initializer[0];
    const wValues = Float32Array.from(w.floatData.length ? w.floatData : new Float32Array(w.rawData!.slice().buffer));
    const wScale = Math.max(...wValues.map(Math.abs)) / 127;
    const f = onnx.TensorProto.DataType;
    const scalar = (name: string, dataType: number, value: number) => onnx.TensorProto.create({ name, dims: [], dataType, ...(dataType === f.FLOAT ? { floatData: [value] } : { int32Data: [value] }) });
    const qdq = onnx.ModelProto.create({
      irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'qdq',
        input: float.graph!.input,
        output: [onnx.ValueInfoProto.create({ name: 'y', type: float.graph!.output[0].type })],
        initializer: [
          onnx.TensorProto.create({ name: 'w_q', dims: w.dims, dataType: f.INT8, int32Data: Array.from(wValues, (v) => Math.round(v / wScale)) }),
          scalar('w_s', f.FLOAT, wScale), scalar('w_zp', f.INT8, 0),
          scalar('x_s', f.FLOAT, 2 / 255), scalar('x_zp', f.UINT8, 128),
          scalar('y_s', f.FLOAT, 0.02), scalar('y_zp', f.UINT8, 0),
        ],
        node: [
          { name: 'xq', opType: 'QuantizeLinear', input: ['x', 'x_s', 'x_zp'], output: ['x_q'] },
          { name: 'xdq', opType: 'DequantizeLinear', input: ['x_q', 'x_s', 'x_zp'], output: ['x_dq'] },
          { name: 'wdq', opType: 'DequantizeLinear', input: ['w_q', 'w_s', 'w_zp'], output: ['w_dq'] },
          { name: 'conv', opType: 'Conv', input: ['x_dq', 'w_dq'], output: ['c'], attribute: float.graph!.node[0].attribute },
          { name: 'yq', opType: 'QuantizeLinear', input: ['c', 'y_s', 'y_zp'], output: ['y_q'] },
          { name: 'ydq', opType: 'DequantizeLinear', input: ['y_q', 'y_s', 'y_zp'], output: ['y'] },
        ],
      },
    });
    const engine = ortNodeEngine(1);
    const bench = await Workbench.open(engine, onnx.ModelProto.encode(qdq).finish(), 'qdq.onnx', { dequantize: true });
    expect(bench.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Identity']);
    expect(bench.findings.notes[0]).toMatch(/1 Relu folded into a quantizer put back/);
    const samples = randomSamples('x', [1, 2, 5, 5], 2, 3);
    const reference = await runModel(engine, onnx.ModelProto.encode(float).finish(), samples);
    const restored = await runModel(engine, bench.model, samples);
    expect(meanCosine(reference, restored.map((r) => ({ [float.graph!.output[0].name]: r.y })))).toBeGreaterThan(0.999);
    await bench.dispose();
  });
});
