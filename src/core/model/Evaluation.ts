import type { WorstOutput } from '../metrics/outputFigures';
import type { QuantWarning } from '../metrics/collapseWarnings';
import type { Agreement } from '../metrics/taskMetrics';
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
  /**
   * The headline figure: the worst-scoring output, or the worst part of an output built by a
   * Concat (issue #11), never a mean that hides a broken part. `worst` names it.
   */
  readonly output: ErrorMetrics;
  readonly worst?: WorstOutput | null;
  /** Each output whole. */
  readonly perOutput: Readonly<Record<string, ErrorMetrics>>;
  /** Each part of an output built by a Concat (keyed `output[part]`, metrics/outputParts.ts). */
  readonly perPart?: Readonly<Record<string, ErrorMetrics>>;
  /** A classifier output's agreement with float: the fraction of samples whose top-1 class stays, and stays in the top 5. */
  readonly agreement?: Readonly<Record<string, Agreement>>;
  /** What the figures say is broken (a part lost inside a good-looking output...), with the layer to fix. */
  readonly warnings?: readonly QuantWarning[];
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
