import { describe, expect, it } from 'vitest';
import { DEFAULT_CALIBRATION } from '../calib/Calibration';
import { NO_CORRECTIONS } from '../corrections/CorrectionState';
import { DEFAULT_PREPROCESS } from './dataset/ImagePreprocess';
import { DEFAULT_LIMITS } from './limits';
import { DEFAULT_WEIGHT_OPTIONS } from '../quant/WeightOptions';
import { checkSessionModel, formatSessionFile, hexOf, parseSessionFile, sessionFileName, type SessionFile } from './sessionFile';

const HASH = 'ab'.repeat(32);

const session: Omit<SessionFile, 'qbench_session'> = {
  model: { name: 'net.onnx', bytes: 1234, sha256: HASH },
  data: ['a.npy', 'b.npy'],
  labels: null,
  importedTable: null,
  options: {},
  preprocess: { ...DEFAULT_PREPROCESS, mean: [1, 2, 3], pixelFormat: 'bgr', resizeMode: 'letterbox', padValue: 114 },
  limits: { ...DEFAULT_LIMITS, runSeconds: 60 },
  scheme: 'tpu-mlir',
  weightOptions: { ...DEFAULT_WEIGHT_OPTIONS, granularity: 'tensor' },
  calibrationSettings: { ...DEFAULT_CALIBRATION, method: 'kl', calibrationSamples: 4 },
  corrections: { ...NO_CORRECTIONS, equalize: true },
  qtable: { defaultPrecision: 'INT8', layers: [['conv1', 'FP32'], ['fc', 'INT16']] },
  overrides: [['t1', { method: 'mse' }], ['t2', { threshold: 3.5 }]],
  rules: [{ kind: 'op', value: 'Softmax', precision: 'FP32' }],
  outputTasks: { out: 'classifier', other: null },
  past: [{ qtable: { defaultPrecision: 'INT8', layers: [] }, overrides: [], rules: [] }],
  future: [],
};

const reread = (change: (o: Record<string, unknown>) => void) => {
  const o = JSON.parse(formatSessionFile(session)) as Record<string, unknown>;
  change(o);
  return () => parseSessionFile(JSON.stringify(o), 's.qbench');
};

describe('the .qbench session file', () => {
  it('writes and reads back the same session', () => {
    expect(parseSessionFile(formatSessionFile(session), 's.qbench')).toEqual({ qbench_session: 1, ...session });
  });

  it('reads a file with only the model and the QTable, the rest at the defaults', () => {
    const read = parseSessionFile(JSON.stringify({ qbench_session: 1, model: session.model, preprocess: DEFAULT_PREPROCESS, qtable: { defaultPrecision: 'INT8', layers: [] } }), 's.qbench');
    expect(read.limits).toEqual(DEFAULT_LIMITS);
    expect(read.calibrationSettings).toEqual(DEFAULT_CALIBRATION);
    expect(read.scheme).toBe('ort-qdq');
    expect(read.corrections).toBeNull();
    expect(read.data).toBeNull();
    expect(read.past).toBeUndefined();
  });

  it('refuses what is not a session file, naming the file', () => {
    expect(() => parseSessionFile('', 's.qbench')).toThrow(/^s\.qbench: expected a qbench session file in JSON, found an empty file/);
    expect(() => parseSessionFile('{"rules": []}', 's.qbench')).toThrow(/^s\.qbench: expected a qbench session file/);
    expect(() => parseSessionFile('{"qbench_session": 1,', 's.qbench')).toThrow(/^s\.qbench: .*JSON that ends too early/);
  });

  it('refuses an unknown version by its number', () => {
    expect(reread((o) => { o.qbench_session = 2; })).toThrow(/s\.qbench: session file version 2 is not one this qbench reads \(it reads version 1\)/);
  });

  it('refuses a malformed field by its path', () => {
    expect(reread((o) => { o.model = { name: 'net.onnx', bytes: 1, sha256: 'xyz' }; })).toThrow(/model\.sha256: expected a SHA-256 in 64 hex digits, found "xyz"/);
    expect(reread((o) => { (o.qtable as { layers: unknown[] }).layers.push(['x', 'INT9']); })).toThrow(/qtable\.layers\[2\]\[1\]: expected one of INT4, .*found "INT9"/);
    expect(reread((o) => { (o.preprocess as { mean: unknown }).mean = [1, 2]; })).toThrow(/preprocess\.mean: expected three numbers/);
    expect(reread((o) => { o.scheme = 'tensorrt'; })).toThrow(/scheme: expected one of ort-qdq/);
    expect(reread((o) => { o.rules = [{ kind: 'name', value: '([', precision: 'FP32' }]; })).toThrow(/s\.qbench: rules\[0\] \(name "\(\["\): not a valid regular expression/);
    expect(reread((o) => { o.overrides = [['t', { method: 'best' }]]; })).toThrow(/overrides\[0\]\[1\]\.method: expected one of/);
    expect(reread((o) => { o.calibrationSettings = { histogramBins: -3 }; })).toThrow(/calibrationSettings\.histogramBins: expected a positive whole number, found -3/);
  });

  it('refuses a model whose hash differs, naming the model it wants', () => {
    const file = parseSessionFile(formatSessionFile(session), 's.qbench');
    expect(() => checkSessionModel(file, { name: 'net.onnx', sha256: HASH.toUpperCase() }, 's.qbench')).not.toThrow();
    expect(() => checkSessionModel(file, { name: 'other.onnx', sha256: 'cd'.repeat(32) }, 's.qbench')).toThrow(/^s\.qbench: this session was made on net\.onnx \(1,234 bytes, SHA-256 abababababab…\), not on other\.onnx .*open net\.onnx with it/);
  });

  it('names the file after the model and writes digests in hex', () => {
    expect(sessionFileName('yolo.v8.onnx')).toBe('yolo.v8.qbench');
    expect(sessionFileName('model')).toBe('model.qbench');
    expect(hexOf(new Uint8Array([0, 15, 255]))).toBe('000fff');
  });
});
