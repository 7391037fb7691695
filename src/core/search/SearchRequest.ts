import type { LayerName } from '../model/ModelGraph';
import type { QTableData } from '../model/QTable';
import { BISECTION_DEFAULTS, type BisectionOptions } from './algorithms/bisection';
import { RUN_QTABLE_DEFAULTS, type RunQtableOptions } from './algorithms/runQtable';
import { SEARCH_QTABLE_DEFAULTS, type SearchQtableOptions } from './algorithms/searchQtable';
import { SENSITIVE_LAYER_DEFAULTS, type SensitiveLayerOptions } from './algorithms/sensitiveLayer';
import type { SearchKind } from './SearchSession';
import type { SearchMetric, SearchMetricKind } from './scoring/searchMetric';

/** fp_forward's selection (TPU-MLIR --fpfwd_inputs / --fpfwd_outputs / --fpfwd_blocks). */
export interface FpForwardOptions {
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly blocks: readonly { readonly starts: readonly string[]; readonly ends: readonly string[] }[];
  readonly fpType: 'FP32' | 'FP16';
}

/** ONE's pattern resolver switches (circle-mpqsolver --patterns). */
export interface PatternResolverOptions {
  readonly layerNorm: boolean;
  readonly softmax: boolean;
}

/** Everything a search needs from the user; plain data, so it crosses comlink and comes from CLI flags. */
export type SearchRequest = { readonly metric: SearchMetric; readonly base: QTableData } & (
  | { readonly kind: 'sensitive'; readonly options: SensitiveLayerOptions }
  | { readonly kind: 'qtable'; readonly options: SearchQtableOptions }
  | { readonly kind: 'run_qtable'; readonly options: RunQtableOptions }
  | { readonly kind: 'bisection'; readonly options: BisectionOptions }
  | { readonly kind: 'fp_forward'; readonly options: FpForwardOptions }
  | { readonly kind: 'pattern'; readonly options: { readonly fpType: 'FP32' | 'FP16' } }
  | { readonly kind: 'pattern_resolver'; readonly options: PatternResolverOptions }
);

/** Each search's defaults, its toolchain's own (docs/algorithms.md §5). */
export const SEARCH_DEFAULTS = {
  sensitive: SENSITIVE_LAYER_DEFAULTS,
  qtable: SEARCH_QTABLE_DEFAULTS,
  run_qtable: RUN_QTABLE_DEFAULTS,
  bisection: BISECTION_DEFAULTS,
  fp_forward: { inputs: [], outputs: [], blocks: [], fpType: 'FP32' } as FpForwardOptions,
  pattern: { fpType: 'FP32' as const },
  pattern_resolver: { layerNorm: true, softmax: true } as PatternResolverOptions,
} satisfies Record<SearchKind, unknown>;

/**
 * The metric each search scores by unless the user picks another: TPU-MLIR's searches compare
 * rescaled cosines with expected_cos, ONE's bisection compares MAE (qerror).
 */
export const DEFAULT_METRIC_OF: Record<SearchKind, SearchMetricKind> = {
  sensitive: 'rescaled_cos', qtable: 'rescaled_cos', run_qtable: 'rescaled_cos', bisection: 'mae',
  fp_forward: 'cos', pattern: 'cos', pattern_resolver: 'mae',
};

export type { LayerName };
