import { describe, expect, it } from 'vitest';
import type { CaliTable } from '../model/CaliTable';
import type { GraphNode, WeightDesc } from '../model/ModelGraph';
import type { QTable } from '../model/QTable';
import { boltClipTable, boltLayerName, formatBoltClip, parseBoltClip, type BoltClipTable, type BoltLayerClips } from './boltClip';
import { messageOf } from '../../../test/support/messageOf';

const node = (name: string, opType: string, inputs: string[], outputs: string[]): GraphNode => ({ name, opType, domain: '', inputs, outputs, attributes: {} });
const weight = (name: string, dims: number[]): WeightDesc => ({ name, dtype: 'float32', dims });
const clips = (inputs: [string, number][], weights: [string, number][], outputs: [string, number][]): BoltLayerClips => ({
  inputs: new Map(inputs),
  weights: new Map(weights),
  outputs: new Map(outputs),
});
const cali = (entries: [string, number][]): CaliTable => ({ entries: new Map(entries.map(([t, th]) => [t, { threshold: th, min: -th, max: th, source: 'max' as const }])) });

const graph = {
  nodes: [
    node('conv1', 'Conv', ['data', 'conv1_w', 'conv1_b'], ['conv1_out']),
    node('relu1', 'Relu', ['conv1_out'], ['relu1_out']),
    node('fc_out_Gemm', 'Gemm', ['relu1_out', 'fc_w', 'fc_b'], ['fc_out']), // unnamed in the ONNX file
    node('mm', 'MatMul', ['fc_out', 'mm_w'], ['mm_out']),
  ],
  weights: [weight('conv1_b', [8]), weight('conv1_w', [8, 3, 3, 3]), weight('fc_w', [10, 8]), weight('fc_b', [10]), weight('mm_w', [10, 4])],
};

describe('Bolt clip-value table', () => {
  it("names a layer as Bolt's ONNX converter does: the node name, or the first output when unnamed", () => {
    expect(boltLayerName(graph.nodes[0])).toBe('conv1');
    expect(boltLayerName(graph.nodes[2])).toBe('fc_out');
  });

  it('builds the table for the quantized layers: activation thresholds, one weight clip (not the bias)', () => {
    const qtable: QTable = { defaultPrecision: 'INT8', layers: new Map([['mm', 'FP16']]) };
    const { table, skipped } = boltClipTable({
      graph,
      caliTable: cali([['data', 2.5], ['conv1_out', 6], ['relu1_out', 6], ['mm_out', 3]]),
      weightClips: new Map([['conv1_w', 0.8], ['fc_w', 0.5], ['conv1_b', 9]]),
      qtable,
    });
    expect([...table]).toEqual([
      ['conv1', clips([['data', 2.5]], [['conv1_w', 0.8]], [['conv1_out', 6]])],
      ['fc_out', clips([['relu1_out', 6]], [['fc_w', 0.5]], [])],
    ]);
    expect(skipped).toEqual([{ layer: 'fc_out', tensor: 'fc_out', role: 'output', reason: 'no calibration' }]);
  });

  it('write -> read gives the same table and per-tensor clips', () => {
    const table: BoltClipTable = new Map([
      ['conv1', clips([['data', 2.5]], [['conv1_w', 0.8]], [['conv1_out', 6]])],
      ['/fc/Gemm', clips([['conv1_out', 6]], [['fc.weight', 1.25e-3]], [])],
      ['mm', clips([['a', 1e-7], ['b', 3]], [], [['mm_out', 123456.5]])],
    ]);
    const text = formatBoltClip(table);
    expect(text).toBe(`{
  "conv1": {
    "inputs": {
      "data": 2.5
    },
    "weights": {
      "conv1_w": 0.8
    },
    "outputs": {
      "conv1_out": 6
    }
  },
  "/fc/Gemm": {
    "inputs": {
      "conv1_out": 6
    },
    "weights": {
      "fc.weight": 0.00125
    },
    "outputs": {}
  },
  "mm": {
    "inputs": {
      "a": 1e-7,
      "b": 3
    },
    "weights": {},
    "outputs": {
      "mm_out": 123456.5
    }
  }
}
`);
    const parsed = parseBoltClip(text, 'scale.json');
    expect(parsed.table).toEqual(table);
    expect([...parsed.activationClips]).toEqual([['data', 2.5], ['conv1_out', 6], ['a', 1e-7], ['b', 3], ['mm_out', 123456.5]]);
    expect([...parsed.weightClips]).toEqual([['conv1_w', 0.8], ['fc.weight', 0.00125]]);
    expect(parsed.conflictingTensors).toEqual([]);
  });

  it('an empty table is "{}" and reads back empty', () => {
    expect(formatBoltClip(new Map())).toBe('{}\n');
    expect(parseBoltClip('{}', 'scale.json').table).toEqual(new Map());
  });

  it('reads the hand-written example of docs/formats.md, and a "quantization": "static" key', () => {
    const text = '{"quantization": "static", "conv1": {"inputs": {"data": 2.5}, "weights": {"conv1_w": 0.8}, "outputs": {"conv1_out": 6.0}}}';
    const parsed = parseBoltClip(text, 'scale.json');
    expect([...parsed.table]).toEqual([['conv1', clips([['data', 2.5]], [['conv1_w', 0.8]], [['conv1_out', 6]])]]);
  });

  it('reports a tensor two layers clip differently (Bolt applies each per layer)', () => {
    const text = '{"a": {"outputs": {"t": 4}}, "b": {"inputs": {"t": 5}}, "c": {"inputs": {"t": 4}}}';
    const parsed = parseBoltClip(text, 'scale.json');
    expect(parsed.activationClips.get('t')).toBe(4);
    expect(parsed.conflictingTensors).toEqual(['t']);
  });

  it('refuses to write what Bolt cannot use: a clip <= 0, two weight clips, a layer named "quantization"', () => {
    expect(messageOf(() => formatBoltClip(new Map([['conv1', clips([['data', 0]], [], [])]])))).toBe(
      'QbenchError: cannot write the clip of data in layer conv1: Bolt computes 127 / clip, so it must be a positive number, found 0',
    );
    expect(messageOf(() => formatBoltClip(new Map([['conv1', clips([], [['w', 1], ['b', 2]], [])]])))).toBe(
      'QbenchError: cannot write layer conv1 to a Bolt clip table: Bolt takes one weight clip per layer, found 2 (w, b)',
    );
    expect(messageOf(() => formatBoltClip(new Map([['quantization', clips([], [], [])]])))).toBe(
      'QbenchError: cannot write a layer named "quantization" to a Bolt clip table: Bolt reads that key as the quantization mode',
    );
  });

  it('the builder skips a non-positive threshold instead of writing a scale Bolt would divide by', () => {
    const { table, skipped } = boltClipTable({ graph, caliTable: cali([['data', 0], ['conv1_out', -1]]), weightClips: new Map(), isQuantized: (n) => n.name === 'conv1' });
    expect([...table]).toEqual([['conv1', clips([], [], [])]]);
    expect(skipped).toEqual([
      { layer: 'conv1', tensor: 'data', role: 'input', reason: 'clip is not a positive number' },
      { layer: 'conv1', tensor: 'conv1_w', role: 'weight', reason: 'no weight clip' },
      { layer: 'conv1', tensor: 'conv1_out', role: 'output', reason: 'clip is not a positive number' },
    ]);
  });

  it('names the entry, what was expected and what was found for malformed input', () => {
    expect(messageOf(() => parseBoltClip('{"conv1": {"weights": {"w": 1, "b": 2}}}', 'scale.json'))).toBe(
      'FormatError: scale.json: ["conv1"].weights: expected one weight clip (Bolt checks there is exactly one), found 2',
    );
    expect(messageOf(() => parseBoltClip('{"conv1": {"input": {"data": 1}}}', 'scale.json'))).toBe(
      'FormatError: scale.json: ["conv1"]: unknown section "input" (expected inputs, weights or outputs)',
    );
    expect(messageOf(() => parseBoltClip('{"conv1": {"inputs": {"data": "2.5"}}}', 'scale.json'))).toBe(
      'FormatError: scale.json: ["conv1"].inputs["data"]: expected a number, found a string ("2.5")',
    );
    expect(messageOf(() => parseBoltClip('{"conv1": [2.5]}', 'scale.json'))).toBe(
      'FormatError: scale.json: ["conv1"]: expected an object with "inputs", "weights" and "outputs", found an array',
    );
    expect(messageOf(() => parseBoltClip('{"quantization": "dynamic", "quant_ops": ["conv1"]}', 'scale.json'))).toBe(
      'FormatError: scale.json: "quantization" is "dynamic": that file lists quant_ops/no_quant_ops for dynamic quantization, not clip values',
    );
    expect(messageOf(() => parseBoltClip('{"conv1": {"inputs": {"data": 2.5,}}}', 'scale.json'))).toBe(
      'FormatError: scale.json: expected a Bolt clip table in JSON, found invalid JSON at line 1, column 35 near \'}}}\'',
    );
  });
});
