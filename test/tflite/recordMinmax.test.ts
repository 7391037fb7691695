import * as flatbuffers from 'flatbuffers';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { exportTable, type TableSource } from '../../src/core/export/tables';
import * as circle from '../../src/core/io/circle/generated/circle';
import { readOnnx } from '../../src/core/io/onnx/OnnxModel';
import { readFlatbufferModel } from '../../src/core/io/tflite/readFlatbufferModel';
import { silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8 } from '../../src/core/model/QTable';
import { Workbench } from '../../src/core/Workbench';
import { seededRandom } from '../support/GraphBuilder';
import { tfliteToCircle, to16x8 } from './flatbufferFixtures';

const CORPUS = new URL('../../../shared/corpus/tflite/', import.meta.url).pathname;
const present = existsSync(CORPUS);
const read = (file: string) => new Uint8Array(readFileSync(CORPUS + file));

/** A model opened and calibrated on 3 random samples of its input (NHWC as the file has it), uniform in [low, high). */
async function calibrated(bytes: Uint8Array, file: string, low = -1, high = 1): Promise<Workbench> {
  const bench = await Workbench.open(ortNodeEngine(1), bytes, file);
  const input = bench.graph.inputs[0];
  const dims = input.dims!.map(Number);
  const random = seededRandom(5);
  const samples = [0, 1, 2].map(() => ({ [input.name]: { dtype: 'float32' as const, dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => low + random() * (high - low)) } }));
  bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
  await bench.calibrate(silentJob);
  return bench;
}

function source(bench: Workbench, calibrated = true): TableSource {
  return { model: bench.model, graph: bench.graph, caliTable: calibrated ? bench.caliTable() : { entries: new Map() }, sourceFile: bench.sourceFile };
}

/** Reads a written .circle back with the generated reader: each tensor's name, whether it is constant, and its quantization. */
function readBack(bytes: Uint8Array) {
  const bb = new flatbuffers.ByteBuffer(bytes);
  expect(circle.Model.bufferHasIdentifier(bb)).toBe(true);
  const model = circle.Model.getRootAsModel(bb);
  const graph = model.subgraphs(0)!;
  return Array.from({ length: graph.tensorsLength() }, (_, i) => {
    const t = graph.tensors(i)!;
    const q = t.quantization();
    const data = model.buffers(t.buffer())?.dataLength() ?? 0;
    return { name: t.name()!, type: t.type(), constant: data > 0, min: q ? [...(q.minArray() ?? [])] : [], max: q ? [...(q.maxArray() ?? [])] : [], scale: q ? [...(q.scaleArray() ?? [])] : [] };
  });
}

/**
 * Issue 14: "the calibration as record-minmax's min/max per tensor where ONE can take it". ONE's
 * record-minmax writes each activation's min and max into the .circle's tensor quantization
 * (MinMaxComputer / RecordMinMax.cpp: quantparam->min/max, one value each), which circle-quantizer
 * --quantize_with_minmax then reads (luci QuantizeActivation). The export writes that .circle from
 * the file the user opened; read back with the generated reader, its min/max are qbench's calibration.
 */
describe.skipIf(!present)('record-minmax .circle export', () => {
  it('a float .tflite: a .circle whose activations carry the calibration\'s min/max, constants none', async () => {
    const file = 'keras_mobilenetv2_035_96_float.tflite';
    const bench = await calibrated(read(file), file);
    const written = exportTable('record_minmax', source(bench), ALL_INT8, null);
    expect(written.fileName).toBe('keras_mobilenetv2_035_96_float.minmax.circle');
    expect(written.warnings).toEqual([]);
    const bytes = written.bytes!;
    expect(String.fromCharCode(...bytes.subarray(4, 8))).toBe('CIR0');
    const tensors = readBack(bytes);
    const cali = bench.caliTable().entries;
    const activations = tensors.filter((t) => !t.constant);
    expect(activations.length).toBe(66); // the input and the 65 operators' outputs
    let checked = 0;
    for (const t of activations) {
      const entry = cali.get(t.name)!;
      expect(entry, t.name).toBeDefined();
      expect(t.min, t.name).toEqual([Math.fround(entry.min)]);
      expect(t.max, t.name).toEqual([Math.fround(entry.max)]);
      expect(t.scale).toEqual([]);
      checked++;
    }
    expect(checked).toBeGreaterThan(60);
    // several named ones, against the cali_table as qbench writes it
    for (const name of ['serving_default_keras_tensor:0', tensors.find((t) => /Conv1_1/.test(t.name) && !t.constant)!.name, 'StatefulPartitionedCall_1:0']) {
      const t = tensors.find((x) => x.name === name)!;
      expect(t.min[0]).toBe(Math.fround(cali.get(name)!.min));
      expect(t.max[0]).toBe(Math.fround(cali.get(name)!.max));
      expect(t.max[0]).toBeGreaterThanOrEqual(t.min[0]);
    }
    for (const t of tensors.filter((x) => x.constant)) expect(t.min, t.name).toEqual([]);
    // the written .circle is the same model: it converts to the same graph
    const again = readFlatbufferModel(bytes, 'm.circle');
    expect(again.format).toBe('circle');
    expect(readOnnx(again.float, 'm.circle').graph.nodes.map((n) => n.name)).toEqual(bench.graph.nodes.map((n) => n.name));
  }, 120_000);

  it('a .circle: the same file with min/max added, and an LSTM\'s outputs recorded', async () => {
    const bytes = tfliteToCircle(read('trained_lstm.tflite'));
    const bench = await calibrated(bytes, 'trained_lstm.circle', 0, 1);
    const written = exportTable('record_minmax', source(bench), ALL_INT8, null);
    const before = readBack(bytes);
    const after = readBack(written.bytes!);
    expect(after.map((t) => [t.name, t.type, t.constant])).toEqual(before.map((t) => [t.name, t.type, t.constant]));
    const recorded = after.filter((t) => t.min.length === 1);
    expect(recorded.length).toBeGreaterThanOrEqual(5);
    for (const t of recorded) {
      expect(t.min[0]).toBe(Math.fround(bench.caliTable().entries.get(t.name)!.min));
      expect(t.max[0]).toBe(Math.fround(bench.caliTable().entries.get(t.name)!.max));
    }
  }, 120_000);

  it('a quantized file, or a model that was ONNX, is refused in words', async () => {
    const bench = await Workbench.open(ortNodeEngine(1), read('hello_world_int8.tflite'), 'hello_world_int8.tflite');
    expect(() => exportTable('record_minmax', source(bench, false), ALL_INT8, null)).toThrow(/hello_world_int8\.tflite: the file is already quantized: record-minmax writes min\/max into a float model/);
    expect(() => exportTable('record_minmax', { ...source(bench, false), sourceFile: null }, ALL_INT8, null)).toThrow(/open the \.circle or the \.tflite itself/);
  });
});

/**
 * Issue 14: a "16x8" file's own precisions as a QTable. Written here from the int8 hello_world
 * (every activation int16, biases int64): its three FULLY_CONNECTED operators come out INT16.
 */
describe.skipIf(!present)('a 16x8 file\'s precisions', () => {
  it('int16 activations are INT16 in the file\'s QTable; an int8 file has none', async () => {
    const bytes = to16x8(read('hello_world_int8.tflite'));
    const converted = readFlatbufferModel(bytes, 'hello_16x8.tflite');
    expect(converted.quantized).not.toBeNull();
    const bench = await Workbench.open(ortNodeEngine(1), bytes, 'hello_16x8.tflite');
    const operators = [...bench.layers.values()].filter((l) => !l.operator && l.quantizable).map((l) => l.name);
    expect(operators).toHaveLength(3);
    expect(bench.fileQTable?.defaultPrecision).toBe('INT8');
    expect([...bench.fileQTable!.layers]).toEqual(operators.map((name) => [name, 'INT16']));
    const int8 = await Workbench.open(ortNodeEngine(1), read('hello_world_int8.tflite'), 'hello_world_int8.tflite');
    expect(int8.fileQTable).toBeNull();
  });
});
