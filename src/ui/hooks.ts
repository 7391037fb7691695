import { useMemo } from 'react';
import type { LayerInfo } from '../core/quant/layerInfo';
import type { LayerError } from '../core/model/Evaluation';
import type { CaliEntry } from '../core/model/CaliTable';
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

/** Layers that run FP32 whatever the QTable says: no calibration sample ran their branch (from the latest full evaluation). */
export function useFloatForLackOfRanges(): ReadonlySet<string> {
  const evaluation = useApp((s) => s.layerEvaluation);
  return useMemo(() => new Set(evaluation?.floatForLackOfRanges ?? []), [evaluation]);
}

/** The CaliTable in use, by tensor name. */
export function useCaliTable(): ReadonlyMap<string, CaliEntry> {
  const calibration = useApp((s) => s.calibration);
  return useMemo(() => new Map(calibration?.table ?? []), [calibration]);
}

/**
 * Each layer's sensitivity (its unit's least loss with only that unit quantized): from the search
 * running now as its units come in, else from the last search result that ranked units.
 */
export function useSensitivities(): ReadonlyMap<string, number> {
  const running = useApp((s) => s.searchRun?.sensitivities);
  const revision = useApp((s) => s.searchRun?.revision);
  const finished = useApp((s) => s.searchResult?.ranking);
  return useMemo(() => {
    const list = running?.length ? running : finished ?? [];
    const map = new Map<string, number>();
    for (const unit of list) for (const layer of unit.layers) map.set(layer, unit.best.loss);
    return map;
    // revision: the running list grows in place
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [running, revision, finished]);
}
