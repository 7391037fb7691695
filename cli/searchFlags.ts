import { CALIBRATION_METHODS, type CalibrationMethod } from '../src/core/model/CaliTable';
import type { ModelGraph } from '../src/core/model/ModelGraph';
import { parseFpForwardBlocks, tpuMlirFpType, findLayer } from '../src/core/search/rules';
import { SEARCH_DEFAULTS, type SearchRequest } from '../src/core/search/SearchRequest';
import type { SearchKind } from '../src/core/search/SearchSession';
import { parseCompareLayers, SEARCH_METRICS, type SearchMetric, type SearchMetricKind } from '../src/core/search/scoring/searchMetric';
import type { QTableData } from '../src/core/model/QTable';

/** `qbench search <name>`: the toolchains' names for the searches. */
export const SEARCH_NAMES: Record<string, SearchKind> = {
  sensitive: 'sensitive', qtable: 'qtable', run_qtable: 'run_qtable', bisection: 'bisection', fp_forward: 'fp_forward', pattern: 'pattern', pattern_resolver: 'pattern_resolver',
};

/** The search flags as parseArgs gives them (strings and booleans). */
export interface SearchFlags {
  readonly expected_cos?: string;
  readonly max_float_layers?: string;
  readonly quantize_method_list?: string;
  readonly cluster?: boolean;
  readonly fp_type?: string;
  readonly min_layer_cos?: string;
  readonly qerror_ratio?: string;
  readonly bisection?: string;
  readonly fpfwd_inputs?: string;
  readonly fpfwd_outputs?: string;
  readonly fpfwd_blocks?: string;
  readonly u8_layernorm_with_s16_variance?: boolean;
  readonly u8_softmax_with_s16_sub_exp?: boolean;
  readonly metric?: string;
  readonly global_compare_layers?: string;
}

/** A bad flag: the CLI prints it with the usage and exits 2. */
export class SearchFlagError extends Error {}

function number(text: string | undefined, flag: string, fallback: number, check: (n: number) => boolean, expected: string): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || !check(n)) throw new SearchFlagError(`--${flag} takes ${expected}, got "${text}"`);
  return n;
}

/** TPU-MLIR spells methods KL, MSE, MAX, Percentile9999 in quantize_method_list; qbench's own names work too. */
export function parseMethodList(text: string): CalibrationMethod[] {
  const alias: Record<string, CalibrationMethod> = { kl: 'kl', mse: 'mse', max: 'max', percentile9999: 'percentile9999' };
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((word) => {
    const name = word.toLowerCase().replace(/^use_/, '');
    const method = alias[name] ?? (CALIBRATION_METHODS as readonly string[]).find((m) => m === name);
    if (!method) throw new SearchFlagError(`--quantize_method_list: unknown method "${word}" (KL, MSE, MAX, Percentile9999, or ${CALIBRATION_METHODS.join(', ')})`);
    return method as CalibrationMethod;
  });
}

/** TPU-MLIR's fp_type (auto, F16, F32, BF16) as a precision qbench runs (FP32 or FP16). */
function fpTypeOf(text: string | undefined): 'FP32' | 'FP16' {
  if (text === undefined || text === 'auto') return 'FP32';
  let precision;
  try {
    precision = tpuMlirFpType(text);
  } catch (error) {
    throw new SearchFlagError((error as Error).message);
  }
  if (precision === 'FP32' || precision === 'FP16') return precision;
  throw new SearchFlagError(`--fp_type ${text}: onnxruntime cannot run BF16 on the CPU; use F16 or F32`);
}

/** Checks every flag of a search before any file is read (bad usage is exit 2 whatever the files). */
export function checkSearchFlags(kind: SearchKind, flags: SearchFlags): void {
  searchRequestFrom(kind, flags, { defaultPrecision: 'INT8', layers: [] }, null);
}

/** The task metrics by their task's name: each is 'task', which reads every output by its own task. */
const TASK_METRIC_NAMES: Readonly<Record<string, SearchMetricKind>> = { detection: 'task', iou: 'task', ctc: 'task' };

/**
 * The search request of the flags. `graph` resolves layer names (fp_forward, compare layers); null
 * only checks the flags' form.
 */
export function searchRequestFrom(kind: SearchKind, flags: SearchFlags, base: QTableData, graph: ModelGraph | null): SearchRequest {
  // By default the task figure where the model has one (resolved when the search starts), else the toolchain's own metric.
  const metricKind = (flags.metric ? TASK_METRIC_NAMES[flags.metric] ?? flags.metric : 'auto') as SearchMetricKind;
  if (!SEARCH_METRICS.includes(metricKind)) throw new SearchFlagError(`--metric is one of ${[...SEARCH_METRICS, ...Object.keys(TASK_METRIC_NAMES)].join(', ')}; got "${flags.metric}"`);
  let compare: SearchMetric['compare'] = [];
  if (flags.global_compare_layers && graph) {
    compare = parseCompareLayers(flags.global_compare_layers, (name) => findLayer(graph, name)?.outputs[0] ?? (graph.nodes.some((n) => n.outputs.includes(name)) ? name : undefined));
  }
  const metric: SearchMetric = { kind: metricKind, compare };
  const expected = (fallback: number) => number(flags.expected_cos, 'expected_cos', fallback, () => true, 'a number');
  const maxFloat = (fallback: number) => number(flags.max_float_layers, 'max_float_layers', fallback, (n) => Number.isInteger(n) && n >= 0, 'a whole number');
  const fpType = fpTypeOf(flags.fp_type);
  switch (kind) {
    case 'sensitive': {
      const d = SEARCH_DEFAULTS.sensitive;
      return { kind, metric, base, options: { methods: flags.quantize_method_list ? parseMethodList(flags.quantize_method_list) : d.methods, maxFloatLayers: maxFloat(d.maxFloatLayers), expected: expected(d.expected), fpType } };
    }
    case 'qtable': {
      const d = SEARCH_DEFAULTS.qtable;
      return { kind, metric, base, options: { methods: flags.quantize_method_list ? parseMethodList(flags.quantize_method_list) : d.methods, maxFloatLayers: maxFloat(d.maxFloatLayers), expected: expected(d.expected), cluster: flags.cluster === true, fpType } };
    }
    case 'run_qtable': {
      const d = SEARCH_DEFAULTS.run_qtable;
      return { kind, metric, base, options: { minLayerCos: number(flags.min_layer_cos, 'min_layer_cos', d.minLayerCos, (n) => n >= -1 && n <= 1, 'a number from -1 to 1'), expected: expected(d.expected), fpType } };
    }
    case 'bisection': {
      const mode = flags.bisection ?? 'auto';
      if (!['auto', 'true', 'false'].includes(mode)) throw new SearchFlagError(`--bisection is auto, true or false; got "${mode}"`);
      return { kind, metric, base, options: { qerrorRatio: number(flags.qerror_ratio, 'qerror_ratio', SEARCH_DEFAULTS.bisection.qerrorRatio, (n) => n >= 0 && n <= 1, 'a number in [0, 1]'), mode: mode as 'auto' | 'true' | 'false' } };
    }
    case 'fp_forward': {
      const names = (text?: string) => (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const blocks = flags.fpfwd_blocks ? parseFpForwardBlocks(flags.fpfwd_blocks) : [];
      if (!flags.fpfwd_inputs && !flags.fpfwd_outputs && blocks.length === 0) throw new SearchFlagError('fp_forward needs --fpfwd_inputs, --fpfwd_outputs or --fpfwd_blocks');
      return { kind, metric, base, options: { inputs: names(flags.fpfwd_inputs), outputs: names(flags.fpfwd_outputs), blocks, fpType } };
    }
    case 'pattern':
      return { kind, metric, base, options: { fpType } };
    case 'pattern_resolver': {
      const either = flags.u8_layernorm_with_s16_variance || flags.u8_softmax_with_s16_sub_exp;
      return { kind, metric, base, options: { layerNorm: either ? flags.u8_layernorm_with_s16_variance === true : true, softmax: either ? flags.u8_softmax_with_s16_sub_exp === true : true } };
    }
  }
}
