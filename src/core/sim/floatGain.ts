import type { Evaluation, FloatGain } from '../model/Evaluation';
import type { LayerName } from '../model/ModelGraph';
import { qtableToData, withPrecision, type Precision, type QTable } from '../model/QTable';

/**
 * The output gain of setting `layer` to FP32 (issue #11): the headline output figure of the QTable
 * with the layer at FP32 against the QTable's own, both from `evaluate` (the ordinary outputs
 * evaluation, so the gain is exactly the difference a user sees after making that edit). The layer
 * alone changes, not its fused unit: that is the edit the inspector's precision buttons make.
 * `precision` is what the layer runs at under `qtable`; one already at FP32 gains nothing and runs
 * no second evaluation.
 */
export async function measureFloatGain(evaluate: (qtable: QTable) => Promise<Evaluation>, qtable: QTable, layer: LayerName, precision: Precision): Promise<FloatGain> {
  const before = (await evaluate(qtable)).output;
  const after = precision === 'FP32' ? before : (await evaluate(withPrecision(qtable, layer, 'FP32'))).output;
  return { layer, qtable: qtableToData(qtable), precision, before, after, gain: after.cos - before.cos };
}
