import { Float16Array } from '@petamoriken/float16';

/** IEEE half-precision bits of each value, rounded to nearest even (via @petamoriken/float16). */
export function float32ToFloat16Bits(values: ArrayLike<number>): Uint16Array {
  const half = Float16Array.from(values as ArrayLike<number>);
  return new Uint16Array(half.buffer, half.byteOffset, half.length);
}

export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const half = new Float16Array(bits.buffer, bits.byteOffset, bits.length);
  return Float32Array.from(half);
}

/** Each value rounded to the nearest float16, kept as float32 (what a float16 store does to it). */
export function roundToFloat16(values: Float32Array): Float32Array {
  return float16BitsToFloat32(float32ToFloat16Bits(values));
}
