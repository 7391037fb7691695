import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { loadDataset } from '../../src/core/io/dataset/loadDataset';
import { silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8 } from '../../src/core/quant/QTable';
import { ortFixedQParams, TARGET_SCHEMES } from '../../src/core/quant/schemes';
import { Workbench } from '../../src/core/Workbench';
import { DEMO_PREPROCESS } from '../../src/demo/preprocess';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../support/models';

describe('8-bit Softmax outputs take onnxruntime\'s fixed qparams', () => {
  it('uint8 1/256 zp 0 under ORT/QDQ, int8 1/127 zp 0 under TPU-MLIR, none under ONE (its own rules) or for INT16', () => {
    expect(ortFixedQParams('Softmax', 'INT8', TARGET_SCHEMES['ort-qdq'])).toEqual({ type: 'uint8', scale: Math.fround(1 / 256), zeroPoint: 0 });
    expect(ortFixedQParams('Softmax', 'INT8', TARGET_SCHEMES['tpu-mlir'])).toEqual({ type: 'int8', scale: Math.fround(1 / 127), zeroPoint: 0 });
    expect(ortFixedQParams('Softmax', 'INT8', TARGET_SCHEMES.one)).toBeUndefined();
    expect(ortFixedQParams('Softmax', 'INT16', TARGET_SCHEMES['ort-qdq'])).toBeUndefined();
    expect(ortFixedQParams('Sigmoid', 'INT8', TARGET_SCHEMES['ort-qdq'])).toBeUndefined();
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
});
