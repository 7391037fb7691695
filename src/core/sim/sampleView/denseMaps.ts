import type { DenseView } from './SampleOutputs';
import { classColour, differenceColour, valueColour, type Rgb } from './colormaps';
import { paint, rasterOf, type Raster } from './raster';

type DenseMaps = Omit<DenseView, 'task' | 'name' | 'dims' | 'spec' | 'metrics' | 'rows'>;

/**
 * A dense map's first image [C, H, W] (or [H, W, C]) drawn three ways: float, quantized and their
 * difference. One channel is a value map (both on the float range, so equal values look equal, and
 * `threshold` says which pixels are on); several channels are a class per pixel (the arg-max).
 * Downsampled images keep, per block, the largest difference: a thin wrong line stays visible.
 */
export function denseMaps(dims: readonly number[], channelsLast: boolean, threshold: number, float: Float32Array, quantized: Float32Array): DenseMaps | null {
  if (dims.length !== 4) return null;
  const [channels, height, width] = channelsLast ? [dims[3], dims[1], dims[2]] : [dims[1], dims[2], dims[3]];
  const plane = height * width;
  if (!(channels >= 1 && plane > 0) || float.length < channels * plane || quantized.length < channels * plane) return null;
  const at = channelsLast ? (data: Float32Array, c: number, p: number) => data[p * channels + c] : (data: Float32Array, c: number, p: number) => data[c * plane + p];
  let maxDifference = 0;
  let sumDifference = 0;
  for (let i = 0; i < channels * plane; i++) {
    const d = Math.abs(float[i] - quantized[i]);
    if (d > maxDifference) maxDifference = d;
    sumDifference += d;
  }
  const raster = rasterOf(height, width);
  const common = { channels, size: [height, width] as const, maxDifference, meanDifference: sumDifference / (channels * plane) };
  if (channels === 1) {
    let lo = Infinity;
    let hi = -Infinity;
    let floatOn = 0;
    let quantizedOn = 0;
    let both = 0;
    for (let p = 0; p < plane; p++) {
      const [f, q] = [float[p], quantized[p]];
      if (f < lo) lo = f;
      if (f > hi) hi = f;
      const [fOn, qOn] = [f > threshold, q > threshold];
      floatOn += Number(fOn);
      quantizedOn += Number(qOn);
      both += Number(fOn && qOn);
    }
    const span = hi > lo ? hi - lo : 1;
    const difference = (p: number) => Math.abs(float[p] - quantized[p]);
    return {
      ...common,
      float: paint(raster, (y, x) => valueColour((float[y * width + x] - lo) / span)),
      quantized: paint(raster, (y, x) => valueColour((quantized[y * width + x] - lo) / span)),
      difference: paint(raster, (y, x) => differenceColour(maxDifference > 0 ? blockMax(raster, height, width, y, x, (p) => difference(p)) / maxDifference : 0)),
      floatRange: [lo, hi],
      floatOn, quantizedOn, iou: iouOf(floatOn, quantizedOn, both),
      changed: null,
    };
  }
  const floatClass = argMaxPerPixel(channels, plane, (c, p) => at(float, c, p));
  const quantizedClass = argMaxPerPixel(channels, plane, (c, p) => at(quantized, c, p));
  let floatOn = 0;
  let quantizedOn = 0;
  let both = 0;
  let changed = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let p = 0; p < plane; p++) {
    const [fOn, qOn] = [floatClass[p] !== 0, quantizedClass[p] !== 0];
    floatOn += Number(fOn);
    quantizedOn += Number(qOn);
    both += Number(fOn && qOn);
    changed += Number(floatClass[p] !== quantizedClass[p]);
  }
  for (let i = 0; i < channels * plane; i++) {
    if (float[i] < lo) lo = float[i];
    if (float[i] > hi) hi = float[i];
  }
  const classAt = (classes: Int32Array): ((y: number, x: number) => Rgb) => (y, x) => classColour(classes[y * width + x]);
  return {
    ...common,
    float: paint(raster, classAt(floatClass)),
    quantized: paint(raster, classAt(quantizedClass)),
    difference: paint(raster, (y, x) => differenceColour(blockMax(raster, height, width, y, x, (p) => Number(floatClass[p] !== quantizedClass[p])))),
    floatRange: [lo, hi],
    floatOn, quantizedOn, iou: iouOf(floatOn, quantizedOn, both),
    changed: changed / plane,
  };
}

/** The class of the largest channel at each pixel. */
function argMaxPerPixel(channels: number, plane: number, value: (c: number, p: number) => number): Int32Array {
  const classes = new Int32Array(plane);
  for (let p = 0; p < plane; p++) {
    let best = 0;
    let bestValue = value(0, p);
    for (let c = 1; c < channels; c++) {
      const v = value(c, p);
      if (v > bestValue) [best, bestValue] = [c, v];
    }
    classes[p] = best;
  }
  return classes;
}

/** The largest of `value` over the source pixels of the block starting at (y, x). */
function blockMax(raster: Raster, height: number, width: number, y: number, x: number, value: (p: number) => number): number {
  let best = 0;
  for (let yy = y; yy < Math.min(height, y + raster.step); yy++) {
    for (let xx = x; xx < Math.min(width, x + raster.step); xx++) best = Math.max(best, value(yy * width + xx));
  }
  return best;
}

/** Both maps empty agree entirely. */
const iouOf = (a: number, b: number, both: number) => (a + b - both > 0 ? both / (a + b - both) : 1);
