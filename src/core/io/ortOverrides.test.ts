import { describe, expect, it } from 'vitest';
import type { GraphNode } from '../model/ModelGraph';
import type { Precision, QTable } from '../model/QTable';
import { formatOrtQuantConfig, ortQuantConfig, parseOrtQuantConfig } from './ortOverrides';

const node = (name: string, opType: string, inputs: string[], outputs: string[]): GraphNode => ({ name, opType, domain: '', inputs, outputs, attributes: {} });
const NODES = [
  node('Conv.10', 'Conv', ['x', 'w10', 'b10'], ['c10']),
  node('Conv.9', 'Conv', ['c10', 'w9'], ['c9']),
  node('Add.2', 'Add', ['c9', 'c10'], ['a2']),
  node('Softmax.1', 'Softmax', ['a2'], ['y']),
  node('Shape.1', 'Shape', ['y'], ['s']),
];
const QUANTIZABLE = new Set(['Conv.10', 'Conv.9', 'Add.2', 'Softmax.1']);
const WEIGHTS = new Set(['w10', 'b10', 'w9']);
const table = (layers: [string, Precision][]): QTable => ({ defaultPrecision: 'INT8', layers: new Map(layers) });

describe("onnxruntime's nodes_to_exclude and TensorQuantOverrides", () => {
  it('float layers are excluded (natural order), INT16 layers override their activation inputs and outputs, INT4 their weights', () => {
    const config = ortQuantConfig(table([['Softmax.1', 'FP32'], ['Conv.10', 'FP16'], ['Conv.9', 'FP32'], ['Add.2', 'INT16'], ['Shape.1', 'FP32']]), NODES, QUANTIZABLE, WEIGHTS);
    expect(config.nodes_to_exclude).toEqual(['Conv.9', 'Conv.10', 'Softmax.1']);
    expect(config.extra_options.TensorQuantOverrides).toEqual({
      a2: [{ quant_type: 'QInt16', symmetric: true }], c9: [{ quant_type: 'QInt16', symmetric: true }], c10: [{ quant_type: 'QInt16', symmetric: true }],
    });
    expect(Object.keys(config.extra_options.TensorQuantOverrides)).toEqual(['a2', 'c9', 'c10']);
    const int4 = ortQuantConfig(table([['Conv.9', 'INT4']]), NODES, QUANTIZABLE, WEIGHTS);
    expect(int4.extra_options.TensorQuantOverrides).toEqual({ w9: [{ quant_type: 'QInt4', symmetric: true }] });
  });

  it('reads back what it writes, and the bare forms', () => {
    const written = formatOrtQuantConfig(ortQuantConfig(table([['Conv.9', 'FP32'], ['Softmax.1', 'INT16']]), NODES, QUANTIZABLE, WEIGHTS));
    const parsed = parseOrtQuantConfig(written, 'ort.json', NODES);
    // Softmax's input a2 is overridden too: its writer, Add.2, reads as INT16 (onnxruntime quantizes a tensor once)
    expect(parsed.table.layers).toEqual(new Map([['Conv.9', 'FP32'], ['Softmax.1', 'INT16'], ['Add.2', 'INT16']]));
    expect(parseOrtQuantConfig('["Add.2", "nope"]', 'x.json', NODES)).toMatchObject({ table: { layers: new Map([['Add.2', 'FP32']]) }, unknownNames: ['nope'] });
    expect(parseOrtQuantConfig('{"c9": [{"quant_type": "QUInt16"}], "w10": [{"quant_type": "QInt4"}]}', 'x.json', NODES).table.layers).toEqual(new Map([['Conv.9', 'INT16'], ['Conv.10', 'INT4']]));
    const scaled = parseOrtQuantConfig('{"TensorQuantOverrides": {"c9": [{"scale": 0.1, "zero_point": 0}]}}', 'x.json', NODES);
    expect(scaled.ignored[0]).toMatch(/its own scale/);
    expect(() => parseOrtQuantConfig('{"nodes_to_exclude": "Conv.9"}', 'x.json', NODES)).toThrow(/x\.json: nodes_to_exclude: expected a list/);
  });
});
