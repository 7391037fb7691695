import { describe, expect, it } from 'vitest';
import type { CaliEntry, CaliTable } from '../model/CaliTable';
import type { GraphNode } from '../model/ModelGraph';
import { formatCaliTable, parseCaliTable } from './caliTable';
import { messageOf } from '../../../test/support/messageOf';

const node = (name: string, opType: string, inputs: string[], outputs: string[]): GraphNode => ({ name, opType, domain: '', inputs, outputs, attributes: {} });
const entry = (threshold: number, min: number, max: number): CaliEntry => ({ threshold, min, max, source: 'imported' });
const at = new Date('2026-11-21T12:00:00Z');

// A graph input, a named Conv, an unnamed Relu (qbench name `<output>_<OpType>`), a two-output Split.
const nodes = [
  node('/conv1/Conv', 'Conv', ['input', 'w1', 'b1'], ['/conv1/Conv_output_0']),
  node('relu_out_Relu', 'Relu', ['/conv1/Conv_output_0'], ['relu_out']),
  node('/split/Split', 'Split', ['relu_out'], ['part0', 'part1']),
];

describe('TPU-MLIR cali_table', () => {
  it('write -> read gives the same table, with TPU-MLIR op names for node outputs', () => {
    const table: CaliTable = {
      entries: new Map([
        ['input', entry(2.64, -2.1179039, 2.64)],
        ['/conv1/Conv_output_0', entry(7.1234567, -9, 10)],
        ['relu_out', entry(1e-5, 0, 0)],
        ['part0', entry(1.5, -3.25, 1e-7)],
        ['part1', entry(1234567.125, -0.5, 1234567.125)],
      ]),
      int4Entries: new Map([['relu_out', entry(3.5, -4, 3.5)]]),
      asymOps: ['relu_out'],
      int4Ops: ['/conv1/Conv_output_0'],
      sampleCount: 100,
      histogramBins: 2048,
    };
    const text = formatCaliTable(table, { generatedAt: at, nodes });
    expect(text).toBe([
      '# mlir version: qbench',
      '# genetated time: 2026-11-21 12:00:00',
      '# histogram number: 2048',
      '# sample number: 100',
      '###',
      '# op_name    threshold    min    max',
      'input 2.6400000 -2.1179039 2.6400000',
      '/conv1/Conv_output_0_Conv 7.1234567 -9.0000000 10.0000000',
      'relu_out_Relu 0.0000100 0.0000000 0.0000000',
      'part0_Split 1.5000000 -3.2500000 0.0000001',
      'part1_Split 1234567.1250000 -0.5000000 1234567.1250000',
      '#int4_th',
      'relu_out_Relu 3.5000000 -4.0000000 3.5000000',
      '#asym_op',
      'relu_out_Relu',
      '#int4_op',
      '/conv1/Conv_output_0_Conv',
      '',
    ].join('\n'));
    const parsed = parseCaliTable(text, 'm_cali_table', nodes);
    expect(parsed.unknownTensors).toEqual([]);
    expect(parsed.table).toEqual(table);
  });

  it('without nodes writes and reads qbench tensor names as they are', () => {
    const table: CaliTable = { entries: new Map([['x', entry(1, -1, 1)], ['y.1', entry(0.25, 0, 0.25)]]) };
    const text = formatCaliTable(table, { generatedAt: at });
    expect(text).toBe('# mlir version: qbench\n# genetated time: 2026-11-21 12:00:00\n###\n# op_name    threshold    min    max\nx 1.0000000 -1.0000000 1.0000000\ny.1 0.2500000 0.0000000 0.2500000\n');
    expect(parseCaliTable(text, 't').table).toEqual(table);
  });

  it('an empty table writes a header only and reads back empty', () => {
    const text = formatCaliTable({ entries: new Map() }, { generatedAt: at, sampleCount: 0 });
    expect(text).toBe('# mlir version: qbench\n# genetated time: 2026-11-21 12:00:00\n# sample number: 0\n###\n# op_name    threshold    min    max\n');
    expect(parseCaliTable(text, 't').table).toEqual({ entries: new Map(), sampleCount: 0 });
  });

  it('reads the hand-written example of docs/formats.md', () => {
    const text = '# mlir version: qbench\n# histogram number: 2048\n# sample number: 100\n###\n# op_name    threshold    min    max\ninput 2.6400000 -2.1179039 2.6400000\nconv1_Conv 7.1234567 -9.0000000 10.0000000\n';
    expect(parseCaliTable(text, 'x_cali_table').table).toEqual({
      entries: new Map([['input', entry(2.64, -2.1179039, 2.64)], ['conv1_Conv', entry(7.1234567, -9, 10)]]),
      sampleCount: 100,
      histogramBins: 2048,
    });
    // With the model, conv1_Conv is the op TPU-MLIR made of the Conv whose output is conv1.
    const model = [node('Conv_0', 'Conv', ['input', 'w'], ['conv1'])];
    expect([...parseCaliTable(text, 'x_cali_table', model).table.entries.keys()]).toEqual(['input', 'conv1']);
  });

  // Shaped after sophgo/tpu-mlir regression/cali_tables/yolov8s_cali_table (numbers rewritten): the
  // input by its own name, every op as `<output>_<OpType>`, one line per Split output, "-0.0000000".
  it('reads an excerpt of a real run_calibration table and resolves it against the ONNX nodes', () => {
    const text = [
      '# genetated time: 2023-06-14 20:57:53.134137',
      '# histogram number: 2048',
      '# sample number: 100',
      '# tune number: 5',
      '###',
      '# op_name    threshold    min    max',
      'images 1.0000080 0.0000000 1.0000080',
      '/model.0/conv/Conv_output_0_Conv 41.2500000 -80.1250000 75.5000000',
      '/model.0/act/Mul_output_0_Mul 37.7500000 -0.2784646 75.5000000',
      '/model.2/Split_output_0_Split 18.5000000 -0.0000000 27.2500000',
      '/model.2/Split_output_1_Split 7.1250000 -0.2784646 16.3750000',
      'output0_Concat 40.1250000 -4.7500000 642.0000000',
      '',
    ].join('\n');
    const yolo = [
      node('/model.0/conv/Conv', 'Conv', ['images', 'model.0.conv.weight'], ['/model.0/conv/Conv_output_0']),
      node('/model.0/act/Mul', 'Mul', ['/model.0/conv/Conv_output_0', '/model.0/act/Sigmoid_output_0'], ['/model.0/act/Mul_output_0']),
      node('/model.2/Split', 'Split', ['/model.0/act/Mul_output_0'], ['/model.2/Split_output_0', '/model.2/Split_output_1']),
      node('/model.22/Concat_5', 'Concat', ['/model.2/Split_output_0', '/model.2/Split_output_1'], ['output0']),
    ];
    const parsed = parseCaliTable(text, 'yolov8s_cali_table', yolo);
    expect(parsed.unknownTensors).toEqual([]);
    expect(parsed.table.sampleCount).toBe(100);
    expect(parsed.table.histogramBins).toBe(2048);
    expect([...parsed.table.entries]).toEqual([
      ['images', entry(1.000008, 0, 1.000008)],
      ['/model.0/conv/Conv_output_0', entry(41.25, -80.125, 75.5)],
      ['/model.0/act/Mul_output_0', entry(37.75, -0.2784646, 75.5)],
      ['/model.2/Split_output_0', entry(18.5, -0, 27.25)],
      ['/model.2/Split_output_1', entry(7.125, -0.2784646, 16.375)],
      ['output0', entry(40.125, -4.75, 642)],
    ]);
  });

  it('reads exponent notation, runs of spaces and tabs, CRLF and sophgo_mq style tables', () => {
    const text = '# op_name    threshold    min    max\r\nconv1  1e-05  -2.5E+00\t+3\r\nrelu .5 0 5.\r\n';
    expect([...parseCaliTable(text, 'mq_cali_table').table.entries]).toEqual([['conv1', entry(1e-5, -2.5, 3)], ['relu', entry(0.5, 0, 5)]]);
  });

  it('resolves node names and reports names the model does not have', () => {
    const text = '/conv1/Conv 1.0 -1.0 1.0\nmissing_Add 2.0 -2.0 2.0\n#asym_op\nghost\n';
    const parsed = parseCaliTable(text, 't', nodes);
    expect([...parsed.table.entries.keys()]).toEqual(['/conv1/Conv_output_0']);
    expect(parsed.table.asymOps).toEqual([]);
    expect(parsed.unknownTensors).toEqual(['missing_Add', 'ghost']);
  });

  it('skips a #weight_scale section (per-channel weight scales) and says so', () => {
    const text = 'conv1 1.0 -1.0 1.0\n#weight_scale\nconv1_weight 2 0.01 0.02\n#int4_th\nconv1 0.5 -0.5 0.5\n';
    const parsed = parseCaliTable(text, 't');
    expect(parsed.ignoredSections).toEqual(['#weight_scale']);
    expect([...parsed.table.entries]).toEqual([['conv1', entry(1, -1, 1)]]);
    expect([...parsed.table.int4Entries!]).toEqual([['conv1', entry(0.5, -0.5, 0.5)]]);
  });

  it('names the line, what was expected and what was found for malformed input', () => {
    expect(messageOf(() => parseCaliTable('# h\nconv1 1.0 -1.0\n', 'bad_cali_table'))).toBe(
      'FormatError: bad_cali_table: line 2: expected 4 fields "<op_name> <threshold> <min> <max>", found 3 in "conv1 1.0 -1.0"',
    );
    expect(messageOf(() => parseCaliTable('conv1 1.0 -1.0 1.0 9\n', 'bad_cali_table'))).toBe(
      'FormatError: bad_cali_table: line 1: expected 4 fields "<op_name> <threshold> <min> <max>", found 5 in "conv1 1.0 -1.0 1.0 9"',
    );
    expect(messageOf(() => parseCaliTable('conv1 1.0 abc 1.0\n', 'bad_cali_table'))).toBe(
      'FormatError: bad_cali_table: line 1: the min of conv1 is "abc", expected a decimal number',
    );
    expect(messageOf(() => parseCaliTable('conv1 nan -1 1\n', 'bad_cali_table'))).toBe(
      'FormatError: bad_cali_table: line 1: the threshold of conv1 is "nan", expected a decimal number',
    );
    expect(messageOf(() => parseCaliTable('#asym_op\nconv1 relu1\n', 'bad_cali_table'))).toBe(
      'FormatError: bad_cali_table: line 2: expected one op name per line in the #asym_op section, found "conv1 relu1"',
    );
    expect(messageOf(() => parseCaliTable('#tpu-mlir-fp8 caliration table\nconv1 1 -1 1\n', 'fp8_cali_table'))).toBe(
      'FormatError: fp8_cali_table: line 1: this is an FP8 calibration table ("#tpu-mlir-fp8 caliration table"); qbench reads INT8 and INT4 thresholds only',
    );
  });

  it('refuses ranges no tensor can have, naming the line: past float64, a threshold not above 0, min above max', () => {
    expect(messageOf(() => parseCaliTable('# h\nconv1 1e999 -1 1\n', 'bad_cali_table'))).toBe(
      'FormatError: bad_cali_table: line 2: the threshold of conv1 is out of range (Infinity); a calibration range is a finite number',
    );
    expect(messageOf(() => parseCaliTable('conv1 1 -1e999 1\n', 'bad_cali_table'))).toBe(
      'FormatError: bad_cali_table: line 1: the min of conv1 is out of range (-Infinity); a calibration range is a finite number',
    );
    expect(messageOf(() => parseCaliTable('conv1 1 -1 1\nconv2 0 0 0\n', 'bad_cali_table'))).toBe(
      'FormatError: bad_cali_table: line 2: the threshold of conv2 is 0; a threshold is above 0 (TPU-MLIR floors its own at 1e-5)',
    );
    expect(messageOf(() => parseCaliTable('conv1 -2.5 -1 1\n', 'bad_cali_table'))).toBe(
      'FormatError: bad_cali_table: line 1: the threshold of conv1 is -2.5; a threshold is above 0 (TPU-MLIR floors its own at 1e-5)',
    );
    expect(messageOf(() => parseCaliTable('#int4_th\nconv1 1 2 -2\n', 'bad_cali_table'))).toBe(
      'FormatError: bad_cali_table: line 2: the min of conv1 (2) is above its max (-2)',
    );
    // -0 is not above 0 either; min = max is a constant tensor, which is fine.
    expect(messageOf(() => parseCaliTable('conv1 -0.0 0 0\n', 'bad_cali_table'))).toMatch(/line 1: the threshold of conv1 is 0;/);
    expect([...parseCaliTable('conv1 0.0000100 0 0\n', 't').table.entries]).toEqual([['conv1', entry(1e-5, 0, 0)]]);
  });

  it('reports 100,000 names the model does not have in well under a second (no quadratic check)', () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `ghost_${i} 1.0 -1.0 1.0`);
    lines.push('ghost_7 1.0 -1.0 1.0', '#asym_op', 'ghost_8', '/conv1/Conv');
    const started = performance.now();
    const parsed = parseCaliTable(lines.join('\n'), 'big_cali_table', nodes);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(parsed.unknownTensors).toHaveLength(100_000);
    expect(parsed.unknownTensors.slice(0, 2)).toEqual(['ghost_0', 'ghost_1']);
    expect(parsed.table.asymOps).toEqual(['/conv1/Conv_output_0']);
  });

  it('refuses to write what TPU-MLIR cannot read back: names with spaces, non-finite values', () => {
    const spaced: CaliTable = { entries: new Map([['my tensor', entry(1, -1, 1)]]) };
    expect(messageOf(() => formatCaliTable(spaced, { generatedAt: at }))).toBe(
      'QbenchError: cannot write "my tensor" to a TPU-MLIR calibration table: TPU-MLIR splits its lines on whitespace and reads "#" lines as comments, so a name must be non-empty, without spaces and not start with "#"',
    );
    const hashed: CaliTable = { entries: new Map([['#x', entry(1, -1, 1)]]) };
    expect(messageOf(() => formatCaliTable(hashed, { generatedAt: at }))).toBe(
      'QbenchError: cannot write "#x" to a TPU-MLIR calibration table: TPU-MLIR splits its lines on whitespace and reads "#" lines as comments, so a name must be non-empty, without spaces and not start with "#"',
    );
    const infinite: CaliTable = { entries: new Map([['x', entry(Infinity, -1, 1)]]) };
    expect(messageOf(() => formatCaliTable(infinite, { generatedAt: at }))).toBe(
      'QbenchError: cannot write x to a TPU-MLIR calibration table: its threshold is Infinity, and TPU-MLIR reads only finite numbers',
    );
  });

  it('writes values from 1e21 on in fixed point (toFixed would switch to exponent notation, which TPU-MLIR drops) and reads them back', () => {
    const huge: CaliTable = { entries: new Map([['x', entry(3.319250597188974e21, -1, 3.319250597188974e21)]]) };
    const text = formatCaliTable(huge, { generatedAt: at });
    expect(text.split('\n').find((l) => l.startsWith('x '))).toBe('x 3319250597188974149632.0000000 -1.0000000 3319250597188974149632.0000000');
    expect(Number('3319250597188974149632.0000000')).toBe(3.319250597188974e21); // reads back exactly
  });
});
