import type { WorstOutput } from '../metrics/outputFigures';
import type { QuantWarning } from '../metrics/collapseWarnings';
import type { OutputTask, TaskFigures } from '../metrics/taskMetrics';
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
 * Local error per layer. Layers the QTable leaves in float have none (nothing of theirs is
 * quantized), nor have layers inside If/Loop/Scan bodies.
 */
export type LocalErrors = Readonly<Record<LayerName, ErrorMetrics>>;

/**
 * The output gain of setting one layer to FP32 (issue #11): the headline output figure of the QTable
 * with that layer at FP32 against the QTable's own, on the same evaluation samples.
 */
export interface FloatGain {
  readonly layer: LayerName;
  /** The QTable the gain is for. */
  readonly qtable: QTableData;
  /** The layer's precision in that QTable. */
  readonly precision: Precision;
  readonly before: ErrorMetrics;
  /** With the layer at FP32. */
  readonly after: ErrorMetrics;
  /** after.cos - before.cos: what the output cosine gains (negative when floating the layer hurts). */
  readonly gain: number;
  /**
   * The header's task figure (the worst task output's top-1 agreement, detection F1...) now and
   * with the layer at FP32, from the same two evaluations; absent when no output has a task.
   */
  readonly task?: TaskGain;
}

/** A float gain in the task's own terms: "top-1 agreement 92 % now, 97 % with this layer at FP32". */
export interface TaskGain {
  /** The worst task output now, whose task names the figure. */
  readonly output: string;
  readonly task: Exclude<OutputTask, 'other'>;
  /** The worst task output's headline figure now (0..1). */
  readonly before: number;
  /** The worst task output's headline figure with the layer at FP32 (the header after that edit). */
  readonly after: number;
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
  /**
   * Each task output's figures in its task's terms (issue #11): a classifier's top-1/top-5 agreement
   * with float (and accuracy with labels), a detector's detection F1, a dense map's IoU, a CTC
   * sequence's decoded agreement.
   */
  readonly tasks?: Readonly<Record<string, TaskFigures>>;
  /** What the figures say is broken (a part lost inside a good-looking output...), with the layer to fix. */
  readonly warnings?: readonly QuantWarning[];
  /** Empty for an outputs-only evaluation. */
  readonly layers: readonly LayerError[];
  /**
   * Each layer's local error (docs/algorithms.md §4: this layer quantized as the QTable says, fed
   * float inputs), measured after the accumulated ones (Workbench.localErrors); absent until then.
   */
  readonly local?: LocalErrors;
  /**
   * Layers the QTable sets to an integer precision that run FP32 all the same, because no
   * calibration sample ran the If branch they sit in (they have no ranges). Full evaluations only.
   */
  readonly floatForLackOfRanges?: readonly LayerName[];
  readonly sampleCount: number;
  /**
   * Set on a first, partial figure of an edit (issue #15's progressive answer): measured on the
   * first `sampleCount` of `of` evaluation samples; the full figure follows.
   */
  readonly preliminary?: { readonly of: number };
  readonly elapsedMs: number;
  /** ai.onnx opset of the simulated (and exported) model. */
  readonly opset: number;
}
