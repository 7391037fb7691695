import type { CalibrationResult } from './Calibration';

/**
 * Bytes the calibration keeps (the statistics of every tensor): flat in the number of samples but
 * for one scalar per sample and method. The benchmark and the page report it.
 */
export function statisticsBytes(calibration: CalibrationResult): number {
  let bytes = 0;
  const add = (value: unknown): void => {
    if (ArrayBuffer.isView(value)) bytes += value.byteLength;
    else if (value && typeof value === 'object') for (const v of Object.values(value)) add(v);
  };
  for (const stats of calibration.statistics.values()) add(stats);
  return bytes;
}
