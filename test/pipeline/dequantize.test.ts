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
import { ALL_INT8 } from '../../src/core/quant/QTable';
import { Workbench } from '../../src/core/Workbench';
import { DEMO_PREPROCESS } from '../../src/demo/preprocess';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../support/models';
import { meanCosine, runModel } from '../support/runModel';

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
});
