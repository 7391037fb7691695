import type { TensorOverride } from '../calib/Calibration';
import type { OverrideList } from '../calib/overrideList';
import type { CalibrationMethod } from '../model/CaliTable';
import type { LayerName } from '../model/ModelGraph';
import type { LayerInfo } from '../quant/layerInfo';
import type { MethodScore, UnitSensitivity } from './scoring/sensitivity';

/**
 * The method a unit measured least loss with, among the methods the ranking measured for it (ties:
 * the first measured, as rankUnits picks `best`). Read from `perMethod` rather than trusted from
 * `best`, so that what is applied is what was measured.
 */
export function measuredBest(unit: Pick<UnitSensitivity, 'perMethod' | 'best'>): MethodScore {
  return unit.perMethod.length ? unit.perMethod.reduce((a, b) => (b.loss < a.loss ? b : a)) : unit.best;
}

/**
 * run_sensitive_layer's new_cali_table: every ranked unit's output (its last layer's float outputs,
 * the tensors the ranking set to each method's threshold) takes the method with the least loss.
 * TPU-MLIR writes these thresholds into new_cali_table.txt and deploys with it.
 *
 * @example bestMethodOverrides([{ head: 'conv', layers: ['conv', 'relu'], best: { method: 'kl', … }, … }], layers)
 * // [['relu_out', { method: 'kl' }]]
 */
export function bestMethodOverrides(
  ranking: readonly UnitSensitivity[],
  layers: ReadonlyMap<LayerName, Pick<LayerInfo, 'floatOutputs'>>,
): [tensor: string, override: TensorOverride][] {
  const overrides = new Map<string, TensorOverride>();
  for (const unit of ranking) {
    const last = unit.layers[unit.layers.length - 1];
    for (const tensor of layers.get(last)?.floatOutputs ?? []) overrides.set(tensor, { method: measuredBest(unit).method });
  }
  return [...overrides];
}

/**
 * The overrides in force with each ranked unit's output at its measured best method, as one list
 * (one undoable edit): the tensors the ranking did not measure keep their override, or none.
 * @example withBestMethods([['input', { threshold: 3 }]], ranking, layers) // [['input', { threshold: 3 }], ['relu_out', { method: 'kl' }]]
 */
export function withBestMethods(
  current: OverrideList,
  ranking: readonly UnitSensitivity[],
  layers: ReadonlyMap<LayerName, Pick<LayerInfo, 'floatOutputs'>>,
): OverrideList {
  const next = new Map(current);
  for (const [tensor, override] of bestMethodOverrides(ranking, layers)) next.set(tensor, override);
  return [...next];
}

/**
 * The methods a ranking compared, in the order it measured them. A ranking that measured one method
 * has no "best" to offer: each unit's method is that one, never weighed against the table in use.
 * @example rankedMethods([{ perMethod: [{ method: 'max', … }], … }]) // ['max']
 */
export function rankedMethods(ranking: readonly Pick<UnitSensitivity, 'perMethod'>[]): CalibrationMethod[] {
  return [...new Set(ranking.flatMap((u) => u.perMethod.map((m) => m.method)))];
}
