import * as flatbuffers from 'flatbuffers';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as circle from '../../src/core/io/circle/generated/circle';
import { parseCaliTable } from '../../src/core/io/caliTable';
import { formatNpy } from '../../src/core/io/dataset/npy';
import { readFlatModel } from '../../src/core/io/tflite/flatModel';
import { seededRandom } from '../support/GraphBuilder';
import { writeOneH5 } from '../support/oneH5';
import { runQbench } from '../support/runQbench';
import { tfliteToCircle, to16x8 } from './flatbufferFixtures';

const CORPUS = new URL('../../../shared/corpus/tflite/', import.meta.url).pathname;
const present = existsSync(CORPUS);
const read = (file: string) => new Uint8Array(readFileSync(CORPUS + file));
const INPUT = 'serving_default_keras_tensor:0';

/** The names the file's operators go by in ONE: the tensors they write. */
function operatorNames(bytes: Uint8Array): Set<string> {
  const model = readFlatModel(bytes, 'm.circle');
  return new Set(model.operators.flatMap((op) => op.outputs.map((t) => model.tensors[t].name)));
}

/** ONE's flow's inputs: a .circle written from the corpus's float MobileNetV2 and 3 samples in ONE's .h5 layout. */
async function oneFolder(): Promise<{ dir: string; names: Set<string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'qbench-one-'));
  const bytes = tfliteToCircle(read('keras_mobilenetv2_035_96_float.tflite'));
  writeFileSync(join(dir, 'm.circle'), bytes);
  const random = seededRandom(3);
  const dims = [1, 96, 96, 3];
  const samples = [0, 1, 2].map(() => ({ [INPUT]: { dtype: 'float32' as const, dims, data: Float32Array.from({ length: 96 * 96 * 3 }, () => random() * 2 - 1) } }));
  writeFileSync(join(dir, 'd.h5'), await writeOneH5(samples, [INPUT]));
  return { dir, names: operatorNames(bytes) };
}

/** ONE's layer configuration's names (`name` and `names`). */
function configNames(path: string): string[] {
  const config = JSON.parse(readFileSync(path, 'utf8')) as { layers: { name?: string; names?: string[] }[] };
  return config.layers.flatMap((l) => [...(l.name ? [l.name] : []), ...(l.names ?? [])]);
}

/**
 * Issue 14: "ONE's whole flow works in the page and the CLI: a .circle and an .h5 in, bisection or
 * pattern resolver, the config out", with record-minmax's .circle beside it.
 */
describe.skipIf(!present)('ONE\'s flow in the CLI on a .circle and an .h5', () => {
  it('search bisection: the qtable and ONE\'s configuration name the .circle\'s operators; --record_minmax writes its min/max', async () => {
    const { dir, names } = await oneFolder();
    const r = await runQbench(['search', 'bisection', '--model', 'm.circle', '--data', 'd.h5', '--target', 'one', '--metric', 'mae', '--bisection', 'false', '--workers', '1',
      '-o', 'out.qtable', '--one_config', 'one.json', '--record_minmax', 'rm.circle'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^note: converted from Circle \(65 operators\)/);
    expect(r.stdout).toMatch(/Bisection \(ONE mpqsolver\)/);
    const layers = configNames(join(dir, 'one.json'));
    expect(layers.length).toBeGreaterThan(0);
    for (const name of layers) expect(names.has(name), name).toBe(true);
    const rows = readFileSync(join(dir, 'out.qtable'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(names.has(row.split(' ')[0]), row).toBe(true);
    expect(String.fromCharCode(...readFileSync(join(dir, 'rm.circle')).subarray(4, 8))).toBe('CIR0');
  }, 180_000);

  it('search pattern_resolver writes ONE\'s configuration', async () => {
    const { dir } = await oneFolder();
    const r = await runQbench(['search', 'pattern_resolver', '--model', 'm.circle', '--data', 'd.h5', '--target', 'one', '--workers', '1', '-o', 'pr.qtable', '--one_config', 'pr.json'], { cwd: dir });
    expect(r.code).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, 'pr.json'), 'utf8')) as { default_quantization_dtype: string; model_path: string };
    expect(config).toMatchObject({ default_quantization_dtype: 'uint8', model_path: 'm.circle' });
  }, 180_000);

  it('calibrate --record_minmax: each activation\'s min/max in the .circle is the cali_table\'s', async () => {
    const { dir } = await oneFolder();
    const r = await runQbench(['calibrate', '--model', 'm.circle', '--data', 'd.h5', '-o', 'cali', '--record_minmax', 'rm.circle'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nwrote rm\.circle: min\/max of 66 activations \(record-minmax's \.circle\)\n/);
    const cali = parseCaliTable(readFileSync(join(dir, 'cali'), 'utf8'), 'cali').table.entries;
    const model = circle.Model.getRootAsModel(new flatbuffers.ByteBuffer(new Uint8Array(readFileSync(join(dir, 'rm.circle')))));
    const graph = model.subgraphs(0)!;
    let recorded = 0;
    for (let i = 0; i < graph.tensorsLength(); i++) {
      const t = graph.tensors(i)!;
      const q = t.quantization();
      if (!q || q.minLength() === 0) continue;
      // the cali_table names a tensor as TPU-MLIR does, `<tensor>_<op type>` where a node writes it
      const name = t.name()!;
      const entry = cali.get(name) ?? [...cali].find(([k]) => k.startsWith(`${name}_`))![1];
      expect(q.minLength()).toBe(1);
      expect(q.min(0)!).toBeCloseTo(entry.min, 5);
      expect(q.max(0)!).toBeCloseTo(entry.max, 5);
      recorded++;
    }
    expect(recorded).toBe(66);
  }, 180_000);
});

describe.skipIf(!present)('a 16x8 .tflite in the CLI', () => {
  it('eval starts from the file\'s own precisions: its int16 operators INT16', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qbench-16x8-'));
    writeFileSync(join(dir, 'hello_16x8.tflite'), to16x8(read('hello_world_int8.tflite')));
    const random = seededRandom(4);
    writeFileSync(join(dir, 'x.npy'), formatNpy({ dtype: 'float32', dims: [8, 1], data: Float32Array.from({ length: 8 }, () => random() * 2 * Math.PI) }));
    const r = await runQbench(['eval', '--model', 'hello_16x8.tflite', '--data', 'x.npy'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nnote: the file's own precisions are the QTable \(3 INT16; the rest INT8\); --qtable replaces them\n/);
    // the three operators and the two fused Relus that follow their operator's precision
    const rows = r.stdout.split('\n').filter((l) => /\s(INT8|INT16|FP32)\s/.test(l));
    expect(rows.length).toBe(5);
    for (const row of rows) expect(row).toMatch(/\sINT16\s/);
    expect(r.stdout).toMatch(/\nthe file's own quantized model: cos /);
  }, 180_000);
});
