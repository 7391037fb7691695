import { describe, expect, it } from 'vitest';
import type { LayerError } from '../model/Evaluation';
import { formatVisq, formatVisqErrorMap, parseVisq, valueRange, visqColorscheme, YLORRD9 } from './visq';
import { messageOf } from '../../../test/support/messageOf';

const layer = (name: string, tensor: string, cos: number, mse: number, sqnr: number): LayerError => ({ layer: name, tensor, precision: 'INT8', cos, mse, sqnr });

const layers = [
  layer('/conv1/Conv', 'conv1_out', 0.999, 0, 40),
  layer('/relu/Relu', 'relu_out', 0.99, 0.0495, 20),
  layer('/fc/Gemm', 'logits', 0.9, 0.099, 10),
];

describe('ONE visq error map', () => {
  it('visq colour scheme: 9 YlOrRd slots of equal width over [min, max] (docs/formats.md example: 0 .. 0.099)', () => {
    const scheme = visqColorscheme(0, 0.099);
    expect(scheme.map((s) => s.c)).toEqual(YLORRD9);
    expect(scheme[0].b).toBe(0);
    expect(scheme[1].b).toBeCloseTo(0.011, 12);
    expect(scheme[1].e).toBeCloseTo(0.022, 12);
    expect(scheme[8].e).toBeCloseTo(0.099, 12);
    expect(messageOf(() => visqColorscheme(1, 1))).toBe('QbenchError: a visq colour scheme needs min < max, found min 1 and max 1');
  });

  it('a range of one value, or none, is widened so that min < max', () => {
    expect(valueRange([])).toEqual([0, 1]);
    expect(valueRange([0, 0])).toEqual([0, 1]);
    expect(valueRange([0.25])).toEqual([0.25, 0.5]);
    expect(valueRange([-2])).toEqual([-2, 0]);
    expect(valueRange([3, 1, 2])).toEqual([1, 3]);
  });

  it('MSE: write -> read gives the same errors, keyed by the layer output tensor', () => {
    const out = formatVisq(layers, { metric: 'MSE', model: 'model.circle' });
    expect(out.skippedTensors).toEqual([]);
    const parsed = parseVisq(out.text, 'model.mse.visq.json');
    expect(parsed.model).toBe('model.circle');
    expect(parsed.metric).toBe('MSE');
    expect(parsed.errors).toEqual([new Map([['conv1_out', 0], ['relu_out', 0.0495], ['logits', 0.099]])]);
    expect(parsed.colorscheme).toEqual(visqColorscheme(0, 0.099));
    expect(JSON.parse(out.text).error).toEqual([{ conv1_out: 0, relu_out: 0.0495, logits: 0.099 }]);
  });

  it('1-COS: the error is 1 - cos, so higher is worse as in every visq metric', () => {
    const parsed = parseVisq(formatVisq(layers, { metric: '1-COS', model: 'm.onnx' }).text, 'm.visq.json');
    expect(parsed.metric).toBe('1-COS');
    const errors = parsed.errors[0];
    expect(errors.get('conv1_out')).toBeCloseTo(0.001, 12);
    expect(errors.get('relu_out')).toBeCloseTo(0.01, 12);
    expect(errors.get('logits')).toBeCloseTo(0.1, 12);
    expect(parsed.colorscheme[0].b).toBeCloseTo(0.001, 12);
    expect(parsed.colorscheme[8].e).toBeCloseTo(0.1, 12);
  });

  it('leaves out NaN and infinite errors (visq refuses them) and says which', () => {
    const out = formatVisq([...layers, layer('/bad/Add', 'bad_out', NaN, NaN, NaN)], { metric: 'MSE', model: 'm' });
    expect(out.skippedTensors).toEqual(['bad_out']);
    expect(out.errorMap.errors[0].has('bad_out')).toBe(false);
    expect(messageOf(() => formatVisqErrorMap({ model: 'm', metric: 'MSE', colorscheme: [], errors: [new Map([['x', Infinity]])] }))).toBe(
      'QbenchError: cannot write the visq error of x in subgraph 0: visq allows finite numbers only, found Infinity',
    );
  });

  it('an empty evaluation writes an empty map with the [0, 1] scheme and reads back', () => {
    const out = formatVisq([], { metric: 'MSE', model: 'm.circle' });
    const parsed = parseVisq(out.text, 'e.json');
    expect(parsed.errors).toEqual([new Map()]);
    expect(parsed.colorscheme).toEqual(visqColorscheme(0, 1));
  });

  it('reads the hand-written example of docs/formats.md', () => {
    const text = `{"meta": {"model": "model.circle", "metric": "MSE",
          "colorscheme": [{"b": 0.0, "e": 0.011, "c": "#ffffcc"}, {"b": 0.011, "e": 0.022, "c": "#ffeda0"}]},
 "error": [{"conv1": 0.0012, "relu2": 0.034}]}`;
    expect(parseVisq(text, 'model.visq.json')).toEqual({
      model: 'model.circle',
      metric: 'MSE',
      colorscheme: [{ b: 0, e: 0.011, c: '#ffffcc' }, { b: 0.011, e: 0.022, c: '#ffeda0' }],
      errors: [new Map([['conv1', 0.0012], ['relu2', 0.034]])],
    });
  });

  it("reads visq's own output: Python json.dump spacing, MPEIR's fixed [0, 1] scheme, names with slashes", () => {
    const slots = YLORRD9.map((c, i) => `{"b": ${Math.round((i / 9) * 1e4) / 1e4}, "e": ${Math.round(((i + 1) / 9) * 1e4) / 1e4}, "c": "${c}"}`).join(', ');
    const text = `{"meta": {"model": "sample.circle", "metric": "MPEIR", "colorscheme": [${slots}]}, "error": [{"ifm": 0.0, "model/conv2d/Relu": 0.0123, "Identity": 1e-05}]}`;
    const parsed = parseVisq(text, 'sample.mpeir.visq.json');
    expect(parsed.metric).toBe('MPEIR');
    expect(parsed.colorscheme[1]).toEqual({ b: 0.1111, e: 0.2222, c: '#ffeda0' });
    expect([...parsed.errors[0]]).toEqual([['ifm', 0], ['model/conv2d/Relu', 0.0123], ['Identity', 1e-5]]);
  });

  it('names the entry, what was expected and what was found for malformed input', () => {
    const ok = '"colorscheme": [{"b": 0, "e": 1, "c": "#ffffcc"}]';
    expect(messageOf(() => parseVisq('{"meta": {"model": "m", "metric": "MSE", ' + ok + '}, "error": [{"conv1": "0.1"}]}', 'v.json'))).toBe(
      'FormatError: v.json: error[0]["conv1"]: expected a number, found a string ("0.1")',
    );
    expect(messageOf(() => parseVisq('{"meta": {"model": "m", "metric": "MSE", ' + ok + '}, "error": {"conv1": 0.1}}', 'v.json'))).toBe(
      'FormatError: v.json: error: expected an array of {tensor: error} maps, found an object',
    );
    expect(messageOf(() => parseVisq('{"meta": {"model": "m", "metric": "MSE", "colorscheme": [{"b": 0, "e": 1}]}, "error": []}', 'v.json'))).toBe(
      'FormatError: v.json: meta.colorscheme[0].c: expected a string, found nothing',
    );
    expect(messageOf(() => parseVisq('{"meta": {"model": "m", ' + ok + '}, "error": []}', 'v.json'))).toBe(
      'FormatError: v.json: meta.metric: expected a string, found nothing',
    );
    expect(messageOf(() => parseVisq('{"error": []}', 'v.json'))).toBe(
      'FormatError: v.json: meta: expected an object with "model", "metric" and "colorscheme", found nothing',
    );
    expect(messageOf(() => parseVisq('"MSE"', 'v.json'))).toBe(
      'FormatError: v.json: expected a visq error map (a JSON object with "meta" and "error"), found a string ("MSE")',
    );
    expect(messageOf(() => parseVisq('{"meta": {"model": "m"}\n"error": []}', 'v.json'))).toBe(
      'FormatError: v.json: expected a visq error map in JSON, found invalid JSON at line 2, column 1 near \'"error": []}\'',
    );
  });
});
