import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { loadDataset } from '../../src/core/io/dataset/loadDataset';
import { silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8 } from '../../src/core/model/QTable';
import { softmaxOutputQParams, TARGET_SCHEMES } from '../../src/core/quant/schemes';
import { Workbench } from '../../src/core/Workbench';
import { DEMO_PREPROCESS } from '../../src/demo/preprocess';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../support/models';
import { SHARED_CORPUS } from '../corpus/corpusModels';

describe('8-bit Softmax outputs keep their calibrated qparams, floored where onnxruntime\'s QLinearSoftmax would overflow', () => {
  const qp = (scale: number) => ({ type: 'uint8' as const, scale, zeroPoint: 0 });
  it('the scale is never below 1 / (100 D); above it the calibrated one stays; D unknown: onnxruntime\'s fixed 1/256 (uint8) or 1/127 (int8)', () => {
    expect(softmaxOutputQParams('Softmax', 'INT8', TARGET_SCHEMES['ort-qdq'], qp(0.00268), 2)).toEqual(qp(Math.fround(1 / 200)));
    expect(softmaxOutputQParams('Softmax', 'INT8', TARGET_SCHEMES['ort-qdq'], qp(3.9e-6), 1000)).toEqual(qp(Math.fround(1e-5)));
    expect(softmaxOutputQParams('Softmax', 'INT8', TARGET_SCHEMES['ort-qdq'], qp(0.004), 1000)).toEqual(qp(0.004));
    expect(softmaxOutputQParams('Softmax', 'INT8', TARGET_SCHEMES['ort-qdq'], qp(0.004), null)).toEqual({ type: 'uint8', scale: Math.fround(1 / 256), zeroPoint: 0 });
    expect(softmaxOutputQParams('Softmax', 'INT8', TARGET_SCHEMES['tpu-mlir'], { type: 'int8', scale: 0.004, zeroPoint: 0 }, null)).toEqual({ type: 'int8', scale: Math.fround(1 / 127), zeroPoint: 0 });
  });

  it('not for ONE (its own rules), INT16, or another operator', () => {
    expect(softmaxOutputQParams('Softmax', 'INT8', TARGET_SCHEMES.one, qp(0.001), 2)).toBeUndefined();
    expect(softmaxOutputQParams('Softmax', 'INT16', TARGET_SCHEMES['ort-qdq'], qp(0.001), 2)).toBeUndefined();
    expect(softmaxOutputQParams('Sigmoid', 'INT8', TARGET_SCHEMES['ort-qdq'], qp(0.001), 2)).toBeUndefined();
  });

  it('PP-OCR\'s direction classifier (2-class Softmax, calibrated maximum 0.68) keeps its outputs: all-INT8 cos > 0.99, not 0.21', async () => {
    const bench = await Workbench.open(ortNodeEngine(1), REAL_MODELS.ppocrCls(), 'cls.onnx');
    const files = ['app_screen.png', 'book_columns.jpg'].map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
    bench.setDataset(await loadDataset(files, bench.graph.inputs, { ...DEMO_PREPROCESS, inputSize: [48, 192] }, nodeImageDecoder));
    await bench.calibrate(silentJob);
    // onnxruntime's QLinearSoftmax overflows float32 for output scales below ~1/300: every output read 0.
    expect((await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos).toBeGreaterThan(0.99);
    await bench.dispose();
  }, 120_000);

  it('a 1000-class Softmax with near-uniform outputs (the ONNX test suite\'s squeezenet) is not zeroed by a fixed 1/256 scale: all-INT8 cos > 0.99', async () => {
    const file = join(SHARED_CORPUS, 'onnx-opset9', 'light_squeezenet.onnx');
    if (!existsSync(file)) return; // the shared corpus lies beside the repository in CI
    const bench = await Workbench.open(ortNodeEngine(1), new Uint8Array(readFileSync(file)), 'light_squeezenet.onnx');
    const files = ['app_screen.png', 'book_columns.jpg'].map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
    bench.setDataset(await loadDataset(files, bench.graph.inputs, { ...DEMO_PREPROCESS, inputSize: null, resizeDims: [256, 256], pixelFormat: 'rgb' }, nodeImageDecoder));
    await bench.calibrate(silentJob);
    expect((await bench.evaluate(ALL_INT8, 'outputs', silentJob)).output.cos).toBeGreaterThan(0.99);
    await bench.dispose();
  }, 120_000);
});
