import type { StateCreator } from 'zustand';
import type { AppState } from '../store';
import type { Evaluation } from '../../core/model/Evaluation';
import type { ExportVerification } from '../../core/export/verifyExport';
import type { ErrorMetrics } from '../../core/metrics/similarity';

export interface EvaluationSlice {
  /** Latest outputs-only evaluation of the current QTable (the end-to-end similarity). */
  outputEvaluation: Evaluation | null;
  /** Latest per-layer evaluation (may be of an earlier QTable while a new one runs). */
  layerEvaluation: Evaluation | null;
  /** The all-INT8 evaluation, kept to show how far the current QTable moved the output. */
  baseline: Evaluation | null;
  lastExport: { verification: ExportVerification; fileName: string } | null;
  /**
   * A QDQ file opened as float: its own quantized model's output error against that float model on
   * the evaluation samples (what a re-quantization is compared with); null until measured.
   */
  quantizedInFile: ErrorMetrics | null;
  /**
   * A first figure of the QTable being evaluated, from its first few samples (issue #15's
   * progressive answer): shown, marked as such, until the full figure replaces it; null otherwise.
   */
  preliminaryEvaluation: Evaluation | null;
  /** Time from the last QTable edit to its first (preliminary) figure. */
  lastEditToFirstFigureMs: number | null;
  /** Time from the last QTable edit to its output similarity, and to its per-layer errors. */
  lastEditToSimilarityMs: number | null;
  lastEditToLayersMs: number | null;
  evaluated: (evaluation: Evaluation, depth: 'outputs' | 'layers') => void;
}

/** Samples a first, preliminary figure is measured on before the full one (when there are more). */
export const PRELIMINARY_SAMPLES = 2;

export const createEvaluationSlice: StateCreator<AppState, [], [], EvaluationSlice> = (set) => ({
  outputEvaluation: null,
  layerEvaluation: null,
  baseline: null,
  lastExport: null,
  quantizedInFile: null,
  lastEditToSimilarityMs: null,
  lastEditToLayersMs: null,
  preliminaryEvaluation: null,
  lastEditToFirstFigureMs: null,
  evaluated: (evaluation, depth) =>
    set((s) => {
      if (depth === 'layers') return { layerEvaluation: evaluation };
      if (evaluation.preliminary) return { preliminaryEvaluation: evaluation };
      const isBaseline = evaluation.qtable.layers.length === 0 && evaluation.qtable.defaultPrecision === 'INT8';
      return { outputEvaluation: evaluation, preliminaryEvaluation: null, ...(isBaseline && !s.baseline ? { baseline: evaluation } : {}) };
    }),
});
