import { rangeEntry, type Calibrator } from './Calibrator';

/** ONE record-minmax moving-average defaults (docs/algorithms.md §2; one-quantize --moving_avg_batch 16, --moving_avg_const 0.1). */
export const ONE_MOVING_AVG_BATCH = 16;
export const ONE_MOVING_AVG_CONST = 0.1;

/**
 * ONE's getMovingAverage (Samsung/ONE compiler/record-minmax/src/RecordFunction.cpp; called from
 * MinMaxComputer.cpp with alpha = 1 - moving_avg_const): the per-sample extremes are cut into
 * batches of `batchSize` (the last one may be short); the average STARTS at the first batch's
 * extreme ("The initial value is the minimum (or maximum) value of the first batch of the vector",
 * include/RecordFunction.h), then for each later batch avg = avg * (1 - c) + batch_extreme * c.
 *
 * @example
 * // maxima of 20 samples: batch 1 = samples 0..15 (extreme 4), batch 2 = samples 16..19 (extreme 10)
 * // avg = 4, then 4 * 0.9 + 10 * 0.1 = 4.6
 * movingAverage(Float64Array.from({ length: 20 }, (_, i) => (i < 16 ? i % 5 : 10)), false) // 4.6
 */
export function movingAverage(values: Float64Array, isMin: boolean, batchSize = ONE_MOVING_AVG_BATCH, updateConst = ONE_MOVING_AVG_CONST): number {
  if (values.length === 0) throw new Error('moving average of an empty vector');
  const batchExtreme = (start: number): number => {
    let extreme = values[start];
    const end = Math.min(values.length, start + batchSize);
    for (let i = start + 1; i < end; i++) extreme = isMin ? Math.min(extreme, values[i]) : Math.max(extreme, values[i]);
    return extreme;
  };
  const alpha = 1 - updateConst;
  let average = batchExtreme(0);
  for (let i = batchSize; i < values.length; i += batchSize) average = average * alpha + batchExtreme(i) * (1 - alpha);
  return average;
}

/** moving_average (docs/algorithms.md §2; ONE record-minmax `moving_average` mode, MovingAvgComputer). */
export const movingAverageCalibrator: Calibrator = {
  method: 'moving_average',
  calibrate: (stats) => rangeEntry('moving_average', movingAverage(stats.sampleMins, true), movingAverage(stats.sampleMaxs, false)),
};
