import type { Evaluation, FloatGain, TaskGain } from '../model/Evaluation';
import type { LayerName } from '../model/ModelGraph';
import { primaryValue, worstTaskOutput } from '../metrics/taskMetrics';
import { qtableToData, withPrecision, type Precision, type QTable } from '../model/QTable';

/**
 * The output gain of setting `layer` to FP32 (issue #11): the headline output figure of the QTable
 * with the layer at FP32 against the QTable's own, both from `evaluate` (the ordinary outputs
 * evaluation, so the gain is exactly the difference a user sees after making that edit). The layer
 * alone changes, not its fused unit: that is the edit the inspector's precision buttons make.
 * `precision` is what the layer runs at under `qtable`; one already at FP32 gains nothing and runs
 * no second evaluation. The task figure comes with it for free: both evaluations score the outputs
 * in their tasks' terms already.
 */
export async function measureFloatGain(evaluate: (qtable: QTable) => Promise<Evaluation>, qtable: QTable, layer: LayerName, precision: Precision, entry: LayerName = layer): Promise<FloatGain> {
  const now = await evaluate(qtable);
  // `entry`: the QTable entry the edit sets (a converted node's file operator, LayerInfo.operator).
  const floated = precision === 'FP32' ? now : await evaluate(withPrecision(qtable, entry, 'FP32'));
  const task = taskGain(now, floated);
  return { layer, qtable: qtableToData(qtable), precision, before: now.output, after: floated.output, gain: floated.output.cos - now.output.cos, ...(task ? { task } : {}) };
}

/**
 * The header's task figure before and after: the worst task output's headline figure in each
 * evaluation (the worst may be another output after the edit; the header would then show that one).
 */
export function taskGain(before: Pick<Evaluation, 'tasks'>, after: Pick<Evaluation, 'tasks'>): TaskGain | null {
  const now = worstTaskOutput(before.tasks);
  const then = worstTaskOutput(after.tasks);
  if (!now || !then) return null;
  return { output: now.output, task: now.figures.task, before: primaryValue(now.figures), after: primaryValue(then.figures) };
}
