import type { Precision } from '../model/QTable';

/** The integer type a tensor is stored in. */
export type QuantType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'int4' | 'uint4';

export interface QParams {
  readonly type: QuantType;
  /** A float32 value (what the model file stores). */
  readonly scale: number;
  readonly zeroPoint: number;
}

export interface Range {
  readonly min: number;
  readonly max: number;
}

export const QUANT_LIMITS: Record<QuantType, { readonly min: number; readonly max: number }> = {
  uint8: { min: 0, max: 255 },
  int8: { min: -128, max: 127 },
  uint16: { min: 0, max: 65535 },
  int16: { min: -32768, max: 32767 },
  uint4: { min: 0, max: 15 },
  int4: { min: -8, max: 7 },
};

/** Largest magnitude a symmetric scheme uses: 127, 32767, 7 (the negative end -2^(b-1) stays unused). */
export function symmetricLimit(type: QuantType): number {
  return QUANT_LIMITS[type].max;
}

/**
 * Asymmetric (uint8/uint16/uint4) qparams from a calibrated range (docs/algorithms.md §1): the range is
 * widened to include 0, s = (rmax - rmin) / qmax with a floor of 1e-5, zp = round(-rmin / s).
 * @example asymmetricQParams({min: -1, max: 1.55}, 'uint8') // {scale: 0.01, zeroPoint: 100}
 */
export function asymmetricQParams(range: Range, type: QuantType): QParams {
  const { min: qmin, max: qmax } = QUANT_LIMITS[type];
  const rmin = Math.min(0, range.min);
  const rmax = Math.max(0, range.max);
  const scale = Math.fround(Math.max((rmax - rmin) / (qmax - qmin), 1e-5));
  const zeroPoint = rmin >= 0 ? qmin : Math.min(qmax, Math.max(qmin, qmin + Math.round(-rmin / scale)));
  return { type, scale, zeroPoint };
}

/**
 * Symmetric qparams: s = max(|min|, |max|) / qmax, zero point 0 (TPU-MLIR int8: threshold/127;
 * ONE int16: /32767 with a floor of 1e-8).
 * @example symmetricQParams({min: -2.54, max: 1}, 'int8') // {scale: 0.02, zeroPoint: 0}
 */
export function symmetricQParams(range: Range, type: QuantType): QParams {
  const threshold = Math.max(Math.abs(range.min), Math.abs(range.max));
  const scale = Math.fround(Math.max(threshold / symmetricLimit(type), 1e-8));
  return { type, scale, zeroPoint: 0 };
}

/** Weight storage type of a layer at `precision` (symmetric, per channel). */
export function weightQuantType(precision: Precision): QuantType {
  switch (precision) {
    case 'INT16': return 'int16';
    case 'INT4': return 'int4';
    default: return 'int8';
  }
}

/** q = clamp(round_half_even(x / s) + zp): what QuantizeLinear computes. */
export function quantizeValue(x: number, qp: QParams): number {
  const { min, max } = QUANT_LIMITS[qp.type];
  const r = Math.round(x / qp.scale);
  const q = (Math.abs((x / qp.scale) % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r) + qp.zeroPoint;
  return Math.min(max, Math.max(min, q));
}

export function dequantizeValue(q: number, qp: QParams): number {
  return (q - qp.zeroPoint) * qp.scale;
}
