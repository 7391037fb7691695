import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CALIBRATION } from '../src/core/calib/Calibration';
import { DEFAULT_PREPROCESS } from '../src/core/io/dataset/ImagePreprocess';
import { formatNpy } from '../src/core/io/dataset/npy';
import { DEFAULT_LIMITS } from '../src/core/io/limits';
import { formatSessionFile, type SessionFile } from '../src/core/io/sessionFile';
import { DEFAULT_WEIGHT_OPTIONS } from '../src/core/quant/WeightOptions';
import { GraphBuilder, seededRandom } from '../test/support/GraphBuilder';
import { runQbench } from '../test/support/runQbench';

/** `qbench <command> --session file.qbench` (issue #13 item 5): the session's QTable and rules applied, after the model's hash is checked. */


/** The real `qbench` command, as a user runs it (test/support/runQbench.ts). */
const qbench = (...args: string[]) => runQbench(args);

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'qbench-session-'));
  const b = new GraphBuilder({ seed: 4 });
  let x = b.input('x', [1, 3, 8, 8]);
  x = b.relu(b.conv(x, 4, 3, { name: 'conv_a' }));
  x = b.conv(x, 4, 3, { name: 'conv_b' });
  b.output(x);
  const model = b.toBytes();
  writeFileSync(join(dir, 'model.onnx'), model);
  const random = seededRandom(3);
  for (let i = 0; i < 2; i++) {
    writeFileSync(join(dir, `s${i}.npy`), formatNpy({ dtype: 'float32', dims: [1, 3, 8, 8], data: Float32Array.from({ length: 192 }, () => random() * 2 - 1) }));
  }
  const session = (sha256: string): Omit<SessionFile, 'qbench_session'> => ({
    model: { name: 'model.onnx', bytes: model.length, sha256 },
    data: ['s0.npy', 's1.npy'],
    labels: null,
    importedTable: null,
    options: {},
    preprocess: DEFAULT_PREPROCESS,
    limits: DEFAULT_LIMITS,
    scheme: 'ort-qdq',
    weightOptions: DEFAULT_WEIGHT_OPTIONS,
    calibrationSettings: { ...DEFAULT_CALIBRATION, method: 'mse' },
    corrections: null,
    qtable: { defaultPrecision: 'INT8', layers: [['conv_b', 'FP32']] },
    overrides: [],
    rules: [],
    outputTasks: {},
  });
  const hash = createHash('sha256').update(model).digest('hex');
  writeFileSync(join(dir, 'model.qbench'), formatSessionFile(session(hash)));
  writeFileSync(join(dir, 'other.qbench'), formatSessionFile({ ...session('0'.repeat(64)), model: { name: 'yolo.onnx', bytes: 5, sha256: '0'.repeat(64) } }));
  writeFileSync(join(dir, 'v9.qbench'), formatSessionFile(session(hash)).replace('"qbench_session": 1', '"qbench_session": 9'));
  return { dir, model: join(dir, 'model.onnx'), data: [0, 1].map((i) => join(dir, `s${i}.npy`)).join(',') };
}

const precisionOf = (stdout: string, layer: string) => (JSON.parse(stdout) as { layers: { name: string; precision: string }[] }).layers.find((l) => l.name === layer)?.precision;

describe('qbench --session', () => {
  it('applies the session QTable (eval --json shows it), an explicit --qtable winning; refuses another model, another version, a bad file', async () => {
    const f = fixture();
    const applied = await qbench('eval', '--model', f.model, '--data', f.data, '--session', join(f.dir, 'model.qbench'), '--json');
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(precisionOf(applied.stdout, 'conv_b')).toBe('FP32');
    expect(precisionOf(applied.stdout, 'conv_a')).toBe('INT8');

    writeFileSync(join(f.dir, 't.qtable'), 'conv_a F16\n');
    const explicit = await qbench('eval', '--model', f.model, '--data', f.data, '--session', join(f.dir, 'model.qbench'), '--qtable', join(f.dir, 't.qtable'), '--json');
    expect(explicit.code).toBe(0);
    expect(precisionOf(explicit.stdout, 'conv_a')).toBe('FP16');
    expect(precisionOf(explicit.stdout, 'conv_b')).toBe('INT8');

    const other = await qbench('eval', '--model', f.model, '--data', f.data, '--session', join(f.dir, 'other.qbench'));
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/other\.qbench: this session was made on yolo\.onnx \(5 bytes, SHA-256 000000000000…\), not on model\.onnx .*open yolo\.onnx with it/);

    const version = await qbench('eval', '--model', f.model, '--data', f.data, '--session', join(f.dir, 'v9.qbench'));
    expect(version.code).toBe(1);
    expect(version.stderr).toMatch(/v9\.qbench: session file version 9 is not one this qbench reads/);

    writeFileSync(join(f.dir, 'bad.qbench'), '{"qbench_session": 1, "model": {"name": "model.onnx"}}');
    const bad = await qbench('eval', '--model', f.model, '--data', f.data, '--session', join(f.dir, 'bad.qbench'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.qbench: model\.bytes: expected a byte count/);
  });
});
