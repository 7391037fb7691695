import type { TensorOverride } from '../calib/Calibration';
import type { LayerName } from '../model/ModelGraph';
import type { LayerInfo } from '../quant/layerInfo';
import type { UnitSensitivity } from './scoring/sensitivity';

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
    for (const tensor of layers.get(last)?.floatOutputs ?? []) overrides.set(tensor, { method: unit.best.method });
  }
  return [...overrides];
}
