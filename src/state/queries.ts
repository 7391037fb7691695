import { call } from '../../workers/client';
import type { TensorCalibrationView } from '../core/Workbench';
import type { QTable } from '../core/model/QTable';
import type { WeightReport } from '../core/quant/weightReport';
import type { SampleOutputs } from '../core/sim/sampleView/SampleOutputs';

/**
 * Questions the page's panels ask the compute worker about the open model. They change nothing,
 * so they are not jobs (no progress, no job bar); they go through the state layer like every other
 * call, so that components never reach the worker themselves.
 */

/** A tensor's statistics, every method's threshold and the active range (the inspector's histogram). */
export function tensorCalibration(tensor: string): Promise<TensorCalibrationView | null> {
  return call('tensorCalibration', { tensor });
}

/** A layer's weights under a QTable: per-channel ranges and errors. */
export function weightReport(layer: string, qtable: QTable): Promise<WeightReport | null> {
  return call('weightReport', { layer, qtable });
}

/** The bytes the model's weights take under a QTable. */
export function weightBytes(qtable: QTable): Promise<number> {
  return call('weightBytes', { qtable });
}

/** Evaluation sample `index` in float and quantized under `qtable`, read as each output's task reads it (the output viewer). */
export function sampleOutputs(qtable: QTable, index: number, channelOrder: 'rgb' | 'bgr'): Promise<SampleOutputs> {
  return call('sampleOutputs', { qtable, index, channelOrder });
}
