import { describe, expect, it } from 'vitest';
import type { LayerError } from '../model/Evaluation';
import { formatModelExplorerNodeData, modelExplorerNodeData, parseModelExplorerNodeData, type GraphNodeData } from './modelExplorer';
import { messageOf } from '../../../test/support/messageOf';

const layer = (name: string, cos: number, mse: number, sqnr: number): LayerError => ({ layer: name, tensor: `${name}:0`, precision: 'INT8', cos, mse, sqnr });

const layers = [layer('/conv1/Conv', 0.999, 0, 40), layer('/relu/Relu', 0.99, 0.045, Infinity), layer('/fc/Gemm', 0.9, 0.09, 10)];

describe('Model Explorer node data', () => {
  it('MSE with a gradient: one result per layer node id, light to dark red as the error grows', () => {
    const { data, skippedLayers } = modelExplorerNodeData(layers, { metric: 'mse' });
    expect(skippedLayers).toEqual([]);
    expect(formatModelExplorerNodeData(data)).toBe(`{
  "results": {
    "/conv1/Conv": {
      "value": 0
    },
    "/relu/Relu": {
      "value": 0.045
    },
    "/fc/Gemm": {
      "value": 0.09
    }
  },
  "gradient": [
    {
      "stop": 0,
      "bgColor": "#ffffcc"
    },
    {
      "stop": 0.5,
      "bgColor": "#fd8d3c"
    },
    {
      "stop": 1,
      "bgColor": "#800026"
    }
  ]
}
`);
  });

  it('cos and SQNR grow as a layer gets better, so their gradient runs the other way; infinite SQNR is left out', () => {
    expect(modelExplorerNodeData(layers, { metric: 'cos' }).data.gradient).toEqual([
      { stop: 0, bgColor: '#800026' },
      { stop: 0.5, bgColor: '#fd8d3c' },
      { stop: 1, bgColor: '#ffffcc' },
    ]);
    const sqnr = modelExplorerNodeData(layers, { metric: 'sqnr' });
    expect([...sqnr.data.results.keys()]).toEqual(['/conv1/Conv', '/fc/Gemm']);
    expect(sqnr.skippedLayers).toEqual(['/relu/Relu']);
  });

  it('thresholds: 9 YlOrRd bands of equal width, the last one ending at the largest value', () => {
    const { data } = modelExplorerNodeData(layers, { metric: 'mse', coloring: 'thresholds' });
    expect(data.gradient).toBeUndefined();
    const thresholds = data.thresholds!;
    expect(thresholds.map((t) => t.bgColor)).toEqual(['#ffffcc', '#ffeda0', '#fed976', '#feb24c', '#fd8d3c', '#fc4e2a', '#e31a1c', '#bd0026', '#800026']);
    expect(thresholds[0].value).toBeCloseTo(0.01, 12);
    expect(thresholds[4].value).toBeCloseTo(0.05, 12);
    expect(thresholds[8].value).toBe(0.09);
  });

  it('maps layers to Model Explorer node ids (e.g. `<node_3>` for an unnamed ONNX node) and leaves out unmapped ones', () => {
    const ids = new Map([['/conv1/Conv', '/conv1/Conv'], ['/fc/Gemm', '<node_3>']]);
    const { data, skippedLayers } = modelExplorerNodeData(layers, { metric: 'mse', nodeId: (l) => ids.get(l) });
    expect([...data.results]).toEqual([['/conv1/Conv', { value: 0 }], ['<node_3>', { value: 0.09 }]]);
    expect(skippedLayers).toEqual(['/relu/Relu']);
  });

  it('write -> read gives the same node data, as GraphNodeData and as ModelNodeData under a graph id', () => {
    const { data } = modelExplorerNodeData(layers, { metric: 'cos', coloring: 'thresholds' });
    expect(parseModelExplorerNodeData(formatModelExplorerNodeData(data), 'cos.json')).toEqual({ graphs: [{ graphId: undefined, data }] });
    const text = formatModelExplorerNodeData(data, '<main>');
    expect(Object.keys(JSON.parse(text))).toEqual(['<main>']);
    expect(parseModelExplorerNodeData(text, 'cos.json')).toEqual({ graphs: [{ graphId: '<main>', data }] });
  });

  it('an evaluation without layers gives empty results that read back', () => {
    const { data } = modelExplorerNodeData([], { metric: 'mse' });
    expect(parseModelExplorerNodeData(formatModelExplorerNodeData(data), 'e.json').graphs[0].data).toEqual(data);
  });

  it('reads hand-written node data in both forms of node_data_builder.py, with per-node colours', () => {
    const single = `{"results": {"/conv1/Conv": {"value": 0.5, "bgColor": "red", "textColor": "white"}, "add_1": {"value": -2}},
      "thresholds": [{"value": 10, "bgColor": "red"}, {"value": 50, "bgColor": "blue", "textColor": "#ffffff"}]}`;
    const expected: GraphNodeData = {
      results: new Map([['/conv1/Conv', { value: 0.5, bgColor: 'red', textColor: 'white' }], ['add_1', { value: -2 }]]),
      thresholds: [{ value: 10, bgColor: 'red' }, { value: 50, bgColor: 'blue', textColor: '#ffffff' }],
    };
    expect(parseModelExplorerNodeData(single, 'nd.json')).toEqual({ graphs: [{ graphId: undefined, data: expected }] });
    const model = '{"main": {"results": {"a": {"value": 1e-3}}, "gradient": [{"stop": 0, "bgColor": "#aabb00"}, {"stop": 1, "bgColor": "red"}]}, "fn": {"results": {}}}';
    expect(parseModelExplorerNodeData(model, 'nd.json')).toEqual({
      graphs: [
        { graphId: 'main', data: { results: new Map([['a', { value: 0.001 }]]), gradient: [{ stop: 0, bgColor: '#aabb00' }, { stop: 1, bgColor: 'red' }] } },
        { graphId: 'fn', data: { results: new Map() } },
      ],
    });
  });

  it('names the entry, what was expected and what was found for malformed input', () => {
    expect(messageOf(() => parseModelExplorerNodeData('{"results": {"conv1": {"value": "high"}}}', 'nd.json'))).toBe(
      'FormatError: nd.json: results["conv1"].value: expected a number, found a string ("high")',
    );
    expect(messageOf(() => parseModelExplorerNodeData('{"results": {"conv1": 0.5}}', 'nd.json'))).toBe(
      'FormatError: nd.json: results["conv1"]: expected a result {"value": number}, found a number (0.5)',
    );
    expect(messageOf(() => parseModelExplorerNodeData('{"g": {"results": {}, "gradient": [{"stop": 1.5, "bgColor": "red"}]}}', 'nd.json'))).toBe(
      'FormatError: nd.json: ["g"].gradient[0].stop: expected a number from 0 to 1, found 1.5',
    );
    expect(messageOf(() => parseModelExplorerNodeData('{"results": {}, "thresholds": [{"value": 1}]}', 'nd.json'))).toBe(
      'FormatError: nd.json: thresholds[0].bgColor: expected a string, found nothing',
    );
    expect(messageOf(() => parseModelExplorerNodeData('{"g": {"values": {}}}', 'nd.json'))).toBe(
      'FormatError: nd.json: ["g"].results: expected an object of node results, found nothing',
    );
    expect(messageOf(() => parseModelExplorerNodeData('{}', 'nd.json'))).toBe(
      'FormatError: nd.json: expected Model Explorer node data ("results", or graph ids), found an empty object',
    );
    expect(messageOf(() => parseModelExplorerNodeData('{"results": {"a": {"value": NaN}}}', 'nd.json'))).toBe(
      'FormatError: nd.json: expected Model Explorer node data in JSON, found invalid JSON at line 1, column 29 near \'NaN}}}\'',
    );
    expect(messageOf(() => formatModelExplorerNodeData({ results: new Map([['a', { value: Infinity }]]) }))).toBe(
      'QbenchError: cannot write the node data of a: Model Explorer needs a finite value, found Infinity',
    );
  });
});
