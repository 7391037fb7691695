import { describe, expect, it } from 'vitest';
import type { GraphNode } from '../model/ModelGraph';
import { formatQTable, parseQTable } from './qtable';

const node = (name: string, opType: string, output: string): GraphNode => ({ name, opType, domain: '', inputs: [], outputs: [output], attributes: {} });

describe('TPU-MLIR qtable', () => {
  it('write -> read gives the same table', () => {
    const table = { defaultPrecision: 'INT8' as const, layers: new Map([['conv1_Conv', 'FP16' as const], ['gelu_3', 'FP32' as const], ['mm', 'INT16' as const]]) };
    const text = formatQTable(table, { sampleCount: 30, generatedAt: new Date('2026-11-21T12:00:00Z') });
    expect(text).toBe([
      '# genetated time: 2026-11-21 12:00:00',
      '# sample number: 30',
      '# number of F16 layer: 1',
      '# number of F32 layer: 1',
      '# default precision: INT8 (qbench)',
      '###',
      '# op_name   quantize_mode',
      'conv1_Conv F16',
      'gelu_3 F32',
      'mm INT16',
      '',
    ].join('\n'));
    const parsed = parseQTable(text, 't.qtable');
    expect(parsed.table.defaultPrecision).toBe('INT8');
    expect([...parsed.table.layers]).toEqual([...table.layers]);
  });

  it('reads the hand-written example of docs/formats.md', () => {
    const text = '# genetated time: 2026-11-21 12:00:00\n# sample number: 30\n# number of F16 layer: 2\n###\n# op_name   quantize_mode\nconv1_Conv F16\ngelu_3 F32\n';
    expect([...parseQTable(text, 'x.qtable').table.layers]).toEqual([['conv1_Conv', 'FP16'], ['gelu_3', 'FP32']]);
  });

  it('resolves TPU-MLIR op names (<output>_<OpType>) and tensor names to layers', () => {
    const nodes = [node('Conv_0', 'Conv', 'input.4'), node('relu_7_Relu', 'Relu', 'relu_7')];
    const parsed = parseQTable('input.4_Conv F32\nrelu_7 F16\nmissing_Add F32\n', 't.qtable', nodes);
    expect([...parsed.table.layers]).toEqual([['Conv_0', 'FP32'], ['relu_7_Relu', 'FP16']]);
    expect(parsed.unknownLayers).toEqual(['missing_Add']);
  });

  it('names the line of a bad mode and a bad line', () => {
    expect(() => parseQTable('# c\nconv1 F8\n', 'bad.qtable')).toThrow('bad.qtable: line 2: unknown quantize mode "F8" for conv1 (expected one of F32, F16, BF16, INT8, INT16, INT4)');
    expect(() => parseQTable('conv1 F32 extra\n', 'bad.qtable')).toThrow('bad.qtable: line 1: expected "<op_name> <quantize_mode>", found "conv1 F32 extra"');
  });
});
