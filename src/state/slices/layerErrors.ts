import type { StateCreator } from 'zustand';
import type { AppState } from '../store';
import type { CalibrationSummary } from '../../core/Workbench';
import type { Evaluation, FloatGain } from '../../core/model/Evaluation';
import type { LayerName } from '../../core/model/ModelGraph';
import type { Metric } from './ui';

/** A float gain measured on demand, with the calibration it was measured under (a new one voids it). */
export interface MeasuredGain extends FloatGain {
  readonly calibration: CalibrationSummary | null;
}

/** A heat legend range the user pinned, in the metric's own units. */
export type PinnedRange = readonly [number, number];

/**
 * Issue #11 item 5: what goes with the two errors per layer (the local errors themselves ride on
 * `layerEvaluation.local`): the float gains measured, the one being measured, and how the heat
 * legend's range is chosen (fixed per metric unless the user fits it to the layers or pins it).
 */
export interface LayerErrorsSlice {
  /** Newest last; each for the QTable and calibration it was measured under. */
  floatGains: readonly MeasuredGain[];
  /** The float gain being measured: its layer and job (to cancel). */
  measuringGain: { readonly layer: LayerName; readonly jobId: string } | null;
  /** The full evaluation whose local errors are being measured (one job per evaluation). */
  measuringLocal: Evaluation | null;
  /**
   * The calibration whose left-out tensors (fused into their activation) the worker has observed, or
   * tried to, after its figures came in: the first edit that un-fuses one need not wait for that pass.
   */
  leftOutObservedFor: CalibrationSummary | null;
  /** Fit the heat legend to the values on screen instead of the metric's fixed range. */
  heatFit: boolean;
  /** Per metric, a range frozen until unpinned: colours then compare across edits whatever the values. */
  pinnedHeat: Partial<Record<Metric, PinnedRange>>;
  setHeatFit: (fit: boolean) => void;
  pinHeat: (metric: Metric, range: PinnedRange | null) => void;
}

export const createLayerErrorsSlice: StateCreator<AppState, [], [], LayerErrorsSlice> = (set) => ({
  floatGains: [],
  measuringGain: null,
  measuringLocal: null,
  leftOutObservedFor: null,
  heatFit: false,
  pinnedHeat: {},
  setHeatFit: (heatFit) => set({ heatFit }),
  pinHeat: (metric, range) =>
    set((s) => {
      const pinnedHeat = { ...s.pinnedHeat };
      if (range) pinnedHeat[metric] = range;
      else delete pinnedHeat[metric];
      return { pinnedHeat };
    }),
});
