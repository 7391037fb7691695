import { CALIBRATION_METHODS, type CaliEntry, type CalibrationMethod } from '../model/CaliTable';
import { aciqGaussCalibrator, aciqLaplaceCalibrator } from './methods/aciq';
import type { Calibrator, MethodContext } from './methods/Calibrator';
import { klCalibrator } from './methods/kl';
import { klTensorRtCalibrator } from './methods/klTensorRt';
import { maxCalibrator } from './methods/max';
import { minmaxPercentileCalibrator } from './methods/minmaxPercentile';
import { movingAverageCalibrator } from './methods/movingAverage';
import { mseCalibrator } from './methods/mse';
import { percentile9999Calibrator } from './methods/percentile9999';
import type { TensorStatistics } from './TensorStatistics';

export type { Calibrator, MethodContext } from './methods/Calibrator';

/**
 * The strategy object of a named method (docs/style.md: Observable Plot's named options); throws on an
 * unknown name, listing the known ones.
 * @example calibrator('kl').method // 'kl'
 */
export function calibrator(method: CalibrationMethod): Calibrator {
  switch (method) {
    case 'max': return maxCalibrator;
    case 'percentile9999': return percentile9999Calibrator;
    case 'minmax_percentile': return minmaxPercentileCalibrator;
    case 'moving_average': return movingAverageCalibrator;
    case 'kl': return klCalibrator;
    case 'kl_tensorrt': return klTensorRtCalibrator;
    case 'mse': return mseCalibrator;
    case 'aciq_gauss': return aciqGaussCalibrator;
    case 'aciq_laplace': return aciqLaplaceCalibrator;
    default:
      throw new Error(`unknown calibration method "${String(method)}" (expected ${CALIBRATION_METHODS.join(', ')})`);
  }
}

function checkContext(context: MethodContext): void {
  if (context.bits !== 8 && context.bits !== 4) throw new Error(`activation bits must be 8 or 4, got ${String(context.bits)}`);
  if (!(context.position >= 0) || !(context.positionCount >= 1) || context.position > context.positionCount) {
    throw new Error(`position ${context.position} of ${context.positionCount} ops is not a topological position (0 <= i <= n, n >= 1)`);
  }
}

/**
 * One tensor's CaliEntry under `method` (docs/algorithms.md §2). Throws when the tensor was never
 * observed: no method has anything to say about it.
 *
 * @example
 * const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 1 });
 * acc.add({ min: -3, max: 1, count: 4, values: new Float32Array([-3, -1, 0, 1]) });
 * calibrateTensor('max', acc.result(), { bits: 8, position: 0, positionCount: 1, isGraphInput: false, histogramBins: 2048 })
 * // { threshold: 3, min: -3, max: 1, source: 'max' }
 */
export function calibrateTensor(method: CalibrationMethod, stats: TensorStatistics, context: MethodContext): CaliEntry {
  const strategy = calibrator(method);
  checkContext(context);
  if (stats.sampleCount === 0) throw new Error(`cannot calibrate with ${method}: the tensor was observed in 0 samples`);
  return strategy.calibrate(stats, context);
}

/** Every method's entry from the one set of statistics (what search_threshold compares). */
export function calibrateAllMethods(stats: TensorStatistics, context: MethodContext): Record<CalibrationMethod, CaliEntry> {
  const entries = {} as Record<CalibrationMethod, CaliEntry>;
  for (const method of CALIBRATION_METHODS) entries[method] = calibrateTensor(method, stats, context);
  return entries;
}
