import type { RgbaImage } from '../../io/dataset/ImageDecoder';
import type { Rgb } from './colormaps';

/** The longest side of an image the viewer is sent: 384 px keeps a 320x320 input whole and caps a 4K map at 0.6 MB. */
export const MAX_IMAGE_SIDE = 384;

/** A picture of `height` x `width` source pixels, one of every `step` taken along each axis. */
export interface Raster {
  readonly step: number;
  readonly height: number;
  readonly width: number;
}

export function rasterOf(height: number, width: number, maxSide = MAX_IMAGE_SIDE): Raster {
  const step = Math.max(1, Math.ceil(Math.max(height, width) / maxSide));
  return { step, height: Math.ceil(height / step), width: Math.ceil(width / step) };
}

/** An opaque RGBA image of the raster, each pixel coloured by `colour(sourceY, sourceX)`. */
export function paint(raster: Raster, colour: (y: number, x: number) => Rgb): RgbaImage {
  const data = new Uint8ClampedArray(raster.width * raster.height * 4);
  for (let y = 0; y < raster.height; y++) {
    for (let x = 0; x < raster.width; x++) {
      const [r, g, b] = colour(y * raster.step, x * raster.step);
      const o = (y * raster.width + x) * 4;
      data[o] = r;
      data[o + 1] = g;
      data[o + 2] = b;
      data[o + 3] = 255;
    }
  }
  return { width: raster.width, height: raster.height, data };
}
