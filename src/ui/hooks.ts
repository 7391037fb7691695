import { useMemo } from 'react';
import type { LayerInfo } from '../core/quant/layerInfo';
import type { LayerError } from '../core/sim/Evaluation';
import type { CaliEntry } from '../core/calib/CaliTable';
import { useApp } from '../state/store';

/** Layer descriptions by name. */
export function useLayerInfo(): ReadonlyMap<string, LayerInfo> {
  const layers = useApp((s) => s.model?.layers);
  return useMemo(() => new Map((layers ?? []).map((l) => [l.name, l])), [layers]);
}

/** The latest per-layer errors by layer name. */
export function useLayerErrors(): ReadonlyMap<string, LayerError> {
  const evaluation = useApp((s) => s.layerEvaluation);
  return useMemo(() => new Map((evaluation?.layers ?? []).map((l) => [l.layer, l])), [evaluation]);
}

/** The CaliTable in use, by tensor name. */
export function useCaliTable(): ReadonlyMap<string, CaliEntry> {
  const calibration = useApp((s) => s.calibration);
  return useMemo(() => new Map(calibration?.table ?? []), [calibration]);
}
