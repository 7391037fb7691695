import type { CaliEntry, CalibrationMethod } from '../model/CaliTable';
import type { Dataset } from '../io/dataset/Dataset';
import type { TensorMap } from '../model/tensor';
import type { OutputScoring } from '../metrics/outputParts';
import type { QuantizationContext } from '../quant/QuantizationContext';

/**
 * Everything a search needs to score configurations, the same in every runner (the compute worker,
 * a pool worker, a Node worker thread): the calibrated model, the calibration table of every method
 * the search may use, and the samples with their float references.
 */
export interface SearchContext extends Omit<QuantizationContext, 'cali'> {
  /** The CaliTable in use (the user's method, overrides, imports): what full configurations are scored with. */
  readonly cali: ReadonlyMap<string, CaliEntry>;
  /** Each method's own table, for the searches that try methods per layer (run_sensitive_layer, search_qtable). */
  readonly methodTables: ReadonlyMap<CalibrationMethod, ReadonlyMap<string, CaliEntry>>;
  readonly samples: Dataset;
  /**
   * Float values per sample of the graph outputs and of any tensor the metric compares instead
   * (global_compare_layers).
   */
  readonly references: readonly TensorMap[];
  /** How outputs are scored: parts, tasks, labels (the evaluation's, so searches judge as it does). */
  readonly scoring: OutputScoring;
  /**
   * Names the evaluation samples: contexts with the same key hold the same samples, so a runner
   * keeps its what-if values (sim/incremental) across them (a threshold edit makes a new context).
   */
  readonly samplesKey?: string;
  /** True: every what-if runs the whole model (the benchmark's "before"). */
  readonly wholeWhatIf?: boolean;
}
