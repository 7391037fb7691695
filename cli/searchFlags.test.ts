import { describe, expect, it } from 'vitest';
import { CALIBRATION_METHODS } from '../src/core/model/CaliTable';
import { QbenchError } from '../src/core/errors';
import type { QTableData } from '../src/core/model/QTable';
import { DEFAULT_METRIC_OF, SEARCH_DEFAULTS } from '../src/core/search/SearchRequest';
import type { SearchKind } from '../src/core/search/SearchSession';
import { GraphBuilder } from '../test/support/GraphBuilder';
import { modelOf } from '../test/support/runModel';
import { checkSearchFlags, parseMethodList, SEARCH_NAMES, SearchFlagError, searchRequestFrom, type SearchFlags } from './searchFlags';

const base: QTableData = { defaultPrecision: 'INT8', layers: [['conv1', 'FP32']] };
const request = (kind: SearchKind, flags: SearchFlags = {}) => searchRequestFrom(kind, flags, base, null);

/** The error a call throws (fails the test if it throws none). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

/** The message of a SearchFlagError (the CLI's exit 2 with the usage); any other error fails. */
function flagError(kind: SearchKind, flags: SearchFlags): string {
  const error = thrown(() => request(kind, flags));
  expect(error).toBeInstanceOf(SearchFlagError);
  expect(thrown(() => checkSearchFlags(kind, flags))).toBeInstanceOf(SearchFlagError);
  return error.message;
}

describe('searchRequestFrom: defaults', () => {
  it('the toolchains\' defaults (docs/algorithms.md §5) and metrics', () => {
    expect(SEARCH_DEFAULTS.sensitive).toEqual({ methods: ['max', 'percentile9999', 'kl'], maxFloatLayers: 5, expected: 0.99, fpType: 'FP32' });
    expect(SEARCH_DEFAULTS.qtable).toEqual({ methods: ['mse'], expected: 0.99, maxFloatLayers: 5, cluster: false, fpType: 'FP32' });
    expect(SEARCH_DEFAULTS.bisection).toEqual({ qerrorRatio: 0.5, mode: 'auto' });
    expect(DEFAULT_METRIC_OF).toEqual({
      sensitive: 'rescaled_cos', qtable: 'rescaled_cos', run_qtable: 'rescaled_cos', bisection: 'mae', fp_forward: 'cos', pattern: 'cos', pattern_resolver: 'mae',
    });
  });

  it('sensitive, qtable, run_qtable, bisection, pattern, pattern_resolver: SEARCH_DEFAULTS and DEFAULT_METRIC_OF, the base table untouched', () => {
    for (const kind of ['sensitive', 'qtable', 'run_qtable', 'bisection', 'pattern', 'pattern_resolver'] as const) {
      const r = request(kind);
      expect(r, kind).toEqual({ kind, metric: { kind: 'auto', compare: [] }, base, options: SEARCH_DEFAULTS[kind] });
      expect(r.base).toBe(base);
      expect(() => checkSearchFlags(kind, {}), kind).not.toThrow();
    }
  });

  it('fp_forward: needs one of its flags; the rest take the defaults', () => {
    expect(request('fp_forward', { fpfwd_inputs: 'conv1' })).toEqual({
      kind: 'fp_forward', metric: { kind: 'auto', compare: [] }, base, options: { ...SEARCH_DEFAULTS.fp_forward, inputs: ['conv1'] },
    });
    expect(SEARCH_DEFAULTS.fp_forward).toEqual({ inputs: [], outputs: [], blocks: [], fpType: 'FP32' });
  });

  it('every CLI search name maps to its search', () => {
    expect(SEARCH_NAMES).toEqual({
      sensitive: 'sensitive', qtable: 'qtable', run_qtable: 'run_qtable', bisection: 'bisection', fp_forward: 'fp_forward', pattern: 'pattern', pattern_resolver: 'pattern_resolver',
    });
  });
});

describe('searchRequestFrom: flags', () => {
  it('sensitive: methods, max_float_layers, expected_cos, fp_type', () => {
    expect(request('sensitive', { quantize_method_list: 'KL,MSE', max_float_layers: '3', expected_cos: '0.995', fp_type: 'F16' }).options)
      .toEqual({ methods: ['kl', 'mse'], maxFloatLayers: 3, expected: 0.995, fpType: 'FP16' });
  });

  it('qtable: methods with TPU-MLIR\'s use_ prefix, cluster, fp_type F32 and auto', () => {
    expect(request('qtable', { quantize_method_list: 'use_max,percentile9999', cluster: true, fp_type: 'F32' }).options)
      .toEqual({ methods: ['max', 'percentile9999'], maxFloatLayers: 5, expected: 0.99, cluster: true, fpType: 'FP32' });
    expect(request('qtable', { fp_type: 'auto' }).options).toMatchObject({ fpType: 'FP32', cluster: false });
  });

  it('run_qtable: min_layer_cos and expected_cos', () => {
    expect(request('run_qtable', { min_layer_cos: '0.95', expected_cos: '0.98' }).options).toEqual({ minLayerCos: 0.95, expected: 0.98, fpType: 'FP32' });
  });

  it('bisection: qerror_ratio at both ends of [0, 1], and each mode', () => {
    expect(request('bisection', { qerror_ratio: '0' }).options).toEqual({ qerrorRatio: 0, mode: 'auto' });
    expect(request('bisection', { qerror_ratio: '1', bisection: 'true' }).options).toEqual({ qerrorRatio: 1, mode: 'true' });
    expect(request('bisection', { bisection: 'false' }).options).toEqual({ qerrorRatio: 0.5, mode: 'false' });
  });

  it('fp_forward: --fpfwd_blocks "s1,s2:e1 s3:e3", comma lists with spaces, fp_type F16', () => {
    expect(request('fp_forward', { fpfwd_blocks: 's1,s2:e1 s3:e3' }).options).toEqual({
      inputs: [], outputs: [], blocks: [{ starts: ['s1', 's2'], ends: ['e1'] }, { starts: ['s3'], ends: ['e3'] }], fpType: 'FP32',
    });
    expect(request('fp_forward', { fpfwd_inputs: 'a, b', fpfwd_outputs: 'c', fp_type: 'F16' }).options).toEqual({ inputs: ['a', 'b'], outputs: ['c'], blocks: [], fpType: 'FP16' });
  });

  it('pattern: fp_type', () => {
    expect(request('pattern', { fp_type: 'F16' }).options).toEqual({ fpType: 'FP16' });
  });

  it('pattern_resolver: neither switch turns both on; one switch turns on only it; both, both', () => {
    expect(request('pattern_resolver').options).toEqual({ layerNorm: true, softmax: true });
    expect(request('pattern_resolver', { u8_layernorm_with_s16_variance: true }).options).toEqual({ layerNorm: true, softmax: false });
    expect(request('pattern_resolver', { u8_softmax_with_s16_sub_exp: true }).options).toEqual({ layerNorm: false, softmax: true });
    expect(request('pattern_resolver', { u8_layernorm_with_s16_variance: true, u8_softmax_with_s16_sub_exp: true }).options).toEqual({ layerNorm: true, softmax: true });
  });

  it('--metric replaces the search\'s own metric', () => {
    expect(request('bisection', { metric: 'cos' }).metric).toEqual({ kind: 'cos', compare: [] });
    expect(request('sensitive', { metric: 'top1' }).metric).toEqual({ kind: 'top1', compare: [] });
  });
});

describe('parseMethodList', () => {
  it('TPU-MLIR\'s spellings, use_ prefixes and qbench\'s own names', () => {
    expect(parseMethodList('KL,MSE')).toEqual(['kl', 'mse']);
    expect(parseMethodList('use_max,percentile9999')).toEqual(['max', 'percentile9999']);
    expect(parseMethodList(' MAX , Percentile9999 ,')).toEqual(['max', 'percentile9999']);
    expect(parseMethodList('kl_tensorrt,aciq_gauss')).toEqual(['kl_tensorrt', 'aciq_gauss']);
  });
});

describe('searchRequestFrom: bad flags are SearchFlagErrors with their whole message', () => {
  it('an unknown metric', () => {
    expect(flagError('sensitive', { metric: 'l2' })).toBe('--metric is one of auto, task, cos, rescaled_cos, sqnr, mae, top1, detection, iou, ctc; got "l2"');
  });

  it('an unknown calibration method', () => {
    expect(flagError('qtable', { quantize_method_list: 'KL,foo' }))
      .toBe(`--quantize_method_list: unknown method "foo" (KL, MSE, MAX, Percentile9999, or ${CALIBRATION_METHODS.join(', ')})`);
  });

  it('qerror_ratio outside [0, 1] or not a number', () => {
    expect(flagError('bisection', { qerror_ratio: '1.5' })).toBe('--qerror_ratio takes a number in [0, 1], got "1.5"');
    expect(flagError('bisection', { qerror_ratio: '-0.1' })).toBe('--qerror_ratio takes a number in [0, 1], got "-0.1"');
    expect(flagError('bisection', { qerror_ratio: 'half' })).toBe('--qerror_ratio takes a number in [0, 1], got "half"');
  });

  it('a bisection mode other than auto, true or false', () => {
    expect(flagError('bisection', { bisection: 'front' })).toBe('--bisection is auto, true or false; got "front"');
  });

  it('fp_type BF16 (onnxruntime cannot run it on the CPU) and an fp_type TPU-MLIR does not have', () => {
    expect(flagError('sensitive', { fp_type: 'BF16' })).toBe('--fp_type BF16: onnxruntime cannot run BF16 on the CPU; use F16 or F32');
    expect(flagError('fp_forward', { fpfwd_inputs: 'a', fp_type: 'BF16' })).toBe('--fp_type BF16: onnxruntime cannot run BF16 on the CPU; use F16 or F32');
    expect(flagError('pattern', { fp_type: 'F64' })).toBe('fp_forward: --fp_type must be auto, F16, F32 or BF16; got "F64"');
  });

  it('fp_forward without --fpfwd_inputs, --fpfwd_outputs or --fpfwd_blocks (or with empty lists)', () => {
    expect(flagError('fp_forward', {})).toBe('fp_forward needs --fpfwd_inputs, --fpfwd_outputs or --fpfwd_blocks');
    expect(flagError('fp_forward', { fpfwd_blocks: '  ' })).toBe('fp_forward needs --fpfwd_inputs, --fpfwd_outputs or --fpfwd_blocks');
  });

  it('max_float_layers that is not a whole number >= 0', () => {
    expect(flagError('sensitive', { max_float_layers: '-1' })).toBe('--max_float_layers takes a whole number, got "-1"');
    expect(flagError('qtable', { max_float_layers: '2.5' })).toBe('--max_float_layers takes a whole number, got "2.5"');
    expect(request('qtable', { max_float_layers: '0' }).options).toMatchObject({ maxFloatLayers: 0 });
  });

  it('expected_cos and min_layer_cos that are not numbers, min_layer_cos outside [-1, 1]', () => {
    expect(flagError('sensitive', { expected_cos: 'high' })).toBe('--expected_cos takes a number, got "high"');
    expect(flagError('run_qtable', { min_layer_cos: '1.5' })).toBe('--min_layer_cos takes a number from -1 to 1, got "1.5"');
  });
});

describe('searchRequestFrom: --global_compare_layers against a graph', () => {
  /** x -> conv1 -> relu1 -> gap (graph outputs relu1 and gap) */
  function graph() {
    const b = new GraphBuilder({ seed: 9 });
    const x = b.input('x', [1, 2, 4, 4]);
    const relu1 = b.node('Relu', [b.conv(x, 2, 3, { name: 'conv1' })], {}, 1, undefined, 'relu1')[0];
    b.output(relu1);
    b.output(b.node('GlobalAveragePool', [relu1], {}, 1, [1, 2, 1, 1], 'gap')[0]);
    return modelOf(b.toBytes()).graph;
  }
  const g = graph();
  const out = (node: string) => g.nodes.find((n) => n.name === node)!.outputs[0];
  const compare = (text: string) => searchRequestFrom('sensitive', { global_compare_layers: text }, base, g).metric;

  it('layer names resolve to their output tensors, equally weighted', () => {
    expect(compare('conv1,gap')).toEqual({ kind: 'auto', compare: [{ tensor: out('conv1'), weight: 0.5 }, { tensor: out('gap'), weight: 0.5 }] });
  });

  it('with weights; a tensor name and TPU-MLIR\'s <tensor>_<OpType> resolve too', () => {
    expect(compare(`${out('relu1')}:0.3,${out('conv1')}_Conv:0.7`).compare).toEqual([{ tensor: out('relu1'), weight: 0.3 }, { tensor: out('conv1'), weight: 0.7 }]);
  });

  it('a name the graph does not have is refused', () => {
    const error = thrown(() => compare('conv1,fc'));
    expect(error).toBeInstanceOf(QbenchError);
    expect(error.message).toBe('global_compare_layers: the model has no layer or tensor "fc"');
  });

  it('without a graph (checking the flags\' form only) the compare list is left empty', () => {
    expect(request('sensitive', { global_compare_layers: 'conv1,gap' }).metric).toEqual({ kind: 'auto', compare: [] });
  });
});
