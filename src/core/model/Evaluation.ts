import type { ErrorMetrics } from '../metrics/similarity';
import type { LayerName } from './ModelGraph';
import type { Precision, QTableData } from './QTable';

export interface LayerError extends ErrorMetrics {
  readonly layer: LayerName;
  /** The layer output measured (its first float output). */
  readonly tensor: string;
  readonly precision: Precision;
}

/**
 * A QTable run over the evaluation samples (docs/architecture.md glossary): the end-to-end output
 * error and, for a full evaluation, every layer's accumulated error, each averaged over samples.
 */
export interface Evaluation {
  readonly qtable: QTableData;
  /** Mean over the graph outputs of each output's metrics. */
  readonly output: ErrorMetrics;
  readonly perOutput: Readonly<Record<string, ErrorMetrics>>;
  /** Empty for an outputs-only evaluation. */
  readonly layers: readonly LayerError[];
  /**
   * Layers the QTable sets to an integer precision that run FP32 all the same, because no
   * calibration sample ran the If branch they sit in (they have no ranges). Full evaluations only.
   */
  readonly floatForLackOfRanges?: readonly LayerName[];
  readonly sampleCount: number;
  readonly elapsedMs: number;
  /** ai.onnx opset of the simulated (and exported) model. */
  readonly opset: number;
}
