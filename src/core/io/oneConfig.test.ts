import { describe, expect, it } from 'vitest';
import type { GraphNode } from '../model/ModelGraph';
import type { Precision, QTable } from '../model/QTable';
import { formatOneConfig, parseOneConfig } from './oneConfig';
import { messageOf } from '../../../test/support/messageOf';

const node = (name: string, opType: string, outputs: string[]): GraphNode => ({ name, opType, domain: '', inputs: [], outputs, attributes: {} });
const qtable = (defaultPrecision: Precision, layers: [string, Precision][]): QTable => ({ defaultPrecision, layers: new Map(layers) });

describe('ONE circle-quantizer configuration', () => {
  it('write -> read gives the same table; int16 layers grouped under "names", FP layers reported', () => {
    const table = qtable('INT8', [['conv1', 'INT16'], ['ln_var', 'INT16'], ['ln_rsqrt', 'INT16'], ['gelu', 'FP32'], ['head', 'FP16']]);
    const out = formatOneConfig(table, { modelPath: 'model.circle' });
    expect(JSON.parse(out.text)).toEqual({
      default_quantization_dtype: 'uint8',
      default_granularity: 'channel',
      // natural name order (issue #13), whatever order the QTable holds them in
      layers: [{ names: ['conv1', 'ln_rsqrt', 'ln_var'], dtype: 'int16', granularity: 'channel' }],
      model_path: 'model.circle',
    });
    expect(out.notRepresentable).toEqual([{ layer: 'gelu', precision: 'FP32' }, { layer: 'head', precision: 'FP16' }]);
    const parsed = parseOneConfig(out.text, 'model.mpq.json');
    expect(parsed.table).toEqual(qtable('INT8', [['conv1', 'INT16'], ['ln_var', 'INT16'], ['ln_rsqrt', 'INT16']]));
    expect(parsed.defaultDtype).toBe('uint8');
    expect(parsed.defaultGranularity).toBe('channel');
    expect(parsed.modelPath).toBe('model.circle');
    expect([...parsed.granularity]).toEqual([['conv1', 'channel'], ['ln_rsqrt', 'channel'], ['ln_var', 'channel']]);
  });

  it('writes the exact text: a single layer as "name", 8-bit layers only against an int16 default', () => {
    const out = formatOneConfig(qtable('INT16', [['stem', 'INT8'], ['body', 'INT16'], ['tail', 'UINT8']]), {
      granularity: new Map([['tail', 'layer']]),
    });
    expect(out.text).toBe(`{
  "default_quantization_dtype": "int16",
  "default_granularity": "channel",
  "layers": [
    {
      "name": "stem",
      "dtype": "uint8",
      "granularity": "channel"
    },
    {
      "name": "tail",
      "dtype": "uint8",
      "granularity": "layer"
    }
  ]
}
`);
    const parsed = parseOneConfig(out.text, 'c.json');
    expect(parsed.table).toEqual(qtable('INT16', [['stem', 'INT8'], ['tail', 'INT8']]));
    expect([...parsed.granularity]).toEqual([['stem', 'channel'], ['tail', 'layer']]);
  });

  it('groupNames: false writes one "name" entry per layer, as circle-mpqsolver does', () => {
    const out = formatOneConfig(qtable('INT8', [['a', 'INT16'], ['b', 'INT16']]), { groupNames: false });
    expect(JSON.parse(out.text).layers).toEqual([
      { name: 'a', dtype: 'int16', granularity: 'channel' },
      { name: 'b', dtype: 'int16', granularity: 'channel' },
    ]);
  });

  it('with the model writes Circle node names (output tensors) and reads them back to layers', () => {
    const nodes = [node('/conv1/Conv', 'Conv', ['conv1_out']), node('relu_out_Relu', 'Relu', ['relu_out']), node('/fc/Gemm', 'Gemm', ['logits'])];
    const out = formatOneConfig(qtable('INT8', [['/conv1/Conv', 'INT16'], ['relu_out_Relu', 'INT16'], ['stale', 'INT16']]), { nodes });
    expect(JSON.parse(out.text).layers).toEqual([{ names: ['conv1_out', 'relu_out'], dtype: 'int16', granularity: 'channel' }]);
    expect(out.unknownLayers).toEqual(['stale']);
    expect(parseOneConfig(out.text, 'c.json', nodes).table).toEqual(qtable('INT8', [['/conv1/Conv', 'INT16'], ['relu_out_Relu', 'INT16']]));
  });

  it('an FP32 default lists every layer it covers when given the model, and is refused without it', () => {
    const nodes = [node('a', 'Conv', ['a_out']), node('b', 'Relu', ['b_out'])];
    const out = formatOneConfig(qtable('FP32', [['a', 'INT16']]), { nodes });
    expect(out.notRepresentable).toEqual([{ layer: 'b', precision: 'FP32' }]);
    expect(JSON.parse(out.text).layers).toEqual([{ name: 'a_out', dtype: 'int16', granularity: 'channel' }]);
    expect(messageOf(() => formatOneConfig(qtable('FP32', [])))).toBe(
      "QbenchError: the default precision FP32 has no circle-quantizer dtype (uint8 or int16 only); pass the model's nodes so the layers it covers can be listed",
    );
  });

  it('refuses a layer-wise int16 default, which circle-quantizer rejects for the whole model', () => {
    expect(messageOf(() => formatOneConfig(qtable('INT16', []), { defaultGranularity: 'layer' }))).toBe(
      'QbenchError: circle-quantizer quantizes a whole model layer-wise in uint8 only, not int16: use the channel granularity by default',
    );
  });

  it('an empty table writes an empty "layers" list and reads back empty', () => {
    const out = formatOneConfig(qtable('INT8', []));
    expect(JSON.parse(out.text)).toEqual({ default_quantization_dtype: 'uint8', default_granularity: 'channel', layers: [] });
    expect(parseOneConfig(out.text, 'c.json').table).toEqual(qtable('INT8', []));
  });

  it('reads the hand-written example of docs/formats.md', () => {
    const text = `{"default_quantization_dtype": "uint8", "default_granularity": "channel",
 "layers": [{"name": "conv1", "dtype": "int16", "granularity": "channel"},
            {"names": ["ln_var", "ln_rsqrt"], "dtype": "int16", "granularity": "channel"}],
 "model_path": "model.circle"}`;
    const parsed = parseOneConfig(text, 'model.mpq.json');
    expect(parsed.table).toEqual(qtable('INT8', [['conv1', 'INT16'], ['ln_var', 'INT16'], ['ln_rsqrt', 'INT16']]));
    expect(parsed.modelPath).toBe('model.circle');
  });

  it('reads what circle-quantizer reads: "layers" only, upper-case dtypes, name and names together, alternate', () => {
    const text = '{"layers": [{"name": "a", "names": ["b"], "dtype": "INT16", "granularity": "Layer", "alternate": {"a": ["a_alt"]}}]}';
    const parsed = parseOneConfig(text, 'q.json');
    expect(parsed.defaultDtype).toBe('uint8');
    expect(parsed.table).toEqual(qtable('INT8', [['a', 'INT16'], ['b', 'INT16']]));
    expect([...parsed.granularity]).toEqual([['a', 'layer'], ['b', 'layer']]);
  });

  it('reports names the model does not have', () => {
    const parsed = parseOneConfig('{"layers": [{"names": ["x_out", "nope"], "dtype": "int16", "granularity": "channel"}]}', 'q.json', [node('x', 'Conv', ['x_out'])]);
    expect(parsed.table).toEqual(qtable('INT8', [['x', 'INT16']]));
    expect(parsed.unknownLayers).toEqual(['nope']);
  });

  it('names the entry, what was expected and what was found for malformed input', () => {
    expect(messageOf(() => parseOneConfig('{"layers": [{"name": "conv1", "dtype": "int8", "granularity": "channel"}]}', 'q.json'))).toBe(
      'FormatError: q.json: layers[0] ("conv1"): unknown dtype "int8" (expected uint8 or int16)',
    );
    expect(messageOf(() => parseOneConfig('{"layers": [{"names": ["a", "b"], "dtype": "int16"}]}', 'q.json'))).toBe(
      'FormatError: q.json: layers[0] ("a", "b"): expected granularity layer or channel, found nothing',
    );
    expect(messageOf(() => parseOneConfig('{"layers": [{"dtype": "int16", "granularity": "channel"}]}', 'q.json'))).toBe(
      'FormatError: q.json: layers[0]: expected "name" or "names", found neither',
    );
    expect(messageOf(() => parseOneConfig('{"layers": [{"name": 3, "dtype": "int16", "granularity": "channel"}]}', 'q.json'))).toBe(
      'FormatError: q.json: layers[0].name: expected a string, found a number (3)',
    );
    expect(messageOf(() => parseOneConfig('{"layers": [{"name": "a", "dtype": "int16", "granularity": "channel"}, {"names": ["a"], "dtype": "uint8", "granularity": "channel"}]}', 'q.json'))).toBe(
      'FormatError: q.json: layers[1] ("a"): "a" is listed twice (circle-quantizer stops on a duplicate layer name)',
    );
    expect(messageOf(() => parseOneConfig('{"default_quantization_dtype": "float32", "layers": []}', 'q.json'))).toBe(
      'FormatError: q.json: default_quantization_dtype: unknown dtype "float32" (expected uint8 or int16)',
    );
    expect(messageOf(() => parseOneConfig('{"default_granularity": "channel"}', 'q.json'))).toBe(
      'FormatError: q.json: expected a "layers" array (circle-quantizer reads nothing else), found none',
    );
    expect(messageOf(() => parseOneConfig('{"layers": {"name": "a"}}', 'q.json'))).toBe(
      'FormatError: q.json: layers: expected an array of layer entries, found an object',
    );
    expect(messageOf(() => parseOneConfig('[1]', 'q.json'))).toBe(
      'FormatError: q.json: expected a circle-quantizer configuration (a JSON object with "layers"), found an array',
    );
    expect(messageOf(() => parseOneConfig('{"layers": [],}', 'q.json'))).toBe(
      'FormatError: q.json: expected a circle-quantizer configuration in JSON, found invalid JSON at line 1, column 15 near \'}\'',
    );
    expect(messageOf(() => parseOneConfig('{"layers": [\n', 'q.json'))).toBe(
      'FormatError: q.json: expected a circle-quantizer configuration in JSON, found JSON that ends too early',
    );
    expect(messageOf(() => parseOneConfig('  ', 'q.json'))).toBe(
      'FormatError: q.json: expected a circle-quantizer configuration in JSON, found an empty file',
    );
  });

  it('a configuration nested a million levels deep is refused in words, not with a stack overflow (issue #12)', () => {
    const message = 'FormatError: deep.json: expected a circle-quantizer configuration in JSON, found arrays and objects nested more than 64 levels deep (at line 1, column 75); no table qbench reads is nested that deep: check that this is the file you meant';
    const deep = 1_000_000;
    // Balanced (JSON.parse reads it) and unbalanced (the syntax scan that places the error would recurse).
    expect(messageOf(() => parseOneConfig(`{"layers": [${'['.repeat(deep)}${']'.repeat(deep)}]}`, 'deep.json'))).toBe(message);
    expect(messageOf(() => parseOneConfig(`{"layers": [${'['.repeat(deep)}`, 'deep.json'))).toBe(message);
    // Brackets inside strings are text, not nesting.
    expect(parseOneConfig(`{"layers": [{"name": "${'['.repeat(100)}", "dtype": "int16", "granularity": "channel"}]}`, 'ok.json').table.layers.size).toBe(1);
  });
});
