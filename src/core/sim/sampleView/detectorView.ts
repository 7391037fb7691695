import { decodeDetections, matchDetections, SCORE_THRESHOLD, type Detection, type DetectorLayout } from '../../metrics/detections';
import type { BoxUnits, DetectorView } from './SampleOutputs';

/** Boxes drawn per model at most (the highest scores): more only covers the picture. */
export const MAX_DRAWN_DETECTIONS = 100;

type DetectorParts = Omit<DetectorView, 'task' | 'name' | 'dims' | 'spec' | 'metrics' | 'rows'>;

/** The image the boxes may go on: its input's name and its height and width in pixels. */
export interface BoxImage {
  readonly name: string;
  readonly size: readonly [number, number];
}

/**
 * Both models' detections on the first image, and how to draw them. YOLO boxes are in the input's
 * pixels; SSD boxes are whatever the head emits: drawn when they look like 0..1 or pixel
 * coordinates of the input, otherwise (offsets from anchors) only listed.
 */
export function detectorView(layout: DetectorLayout, dims: readonly number[], float: Float32Array, quantized: Float32Array, boxes: { readonly float: Float32Array; readonly quantized: Float32Array } | null, image: BoxImage | null): DetectorParts {
  const found = decodeDetections(layout, float, dims, boxes?.float ?? null, 0, SCORE_THRESHOLD);
  const foundQ = decodeDetections(layout, quantized, dims, boxes?.quantized ?? null, 0, SCORE_THRESHOLD);
  const { units, origin, extent } = howToDraw(layout, [...found, ...foundQ], image);
  return {
    float: found.slice(0, MAX_DRAWN_DETECTIONS), quantized: foundQ.slice(0, MAX_DRAWN_DETECTIONS),
    floatCount: found.length, quantizedCount: foundQ.length, threshold: SCORE_THRESHOLD,
    f1: matchDetections(found, foundQ).f1,
    units, origin, extent, image: units === 'raw' ? null : image?.name ?? null,
  };
}

function howToDraw(layout: DetectorLayout, detections: readonly Detection[], image: BoxImage | null): { units: BoxUnits; origin: [number, number]; extent: [number, number] } {
  const within = (w: number, h: number) => detections.every(({ box: [x1, y1, x2, y2] }) => x1 >= -0.1 * w && y1 >= -0.1 * h && x2 <= 1.1 * w && y2 <= 1.1 * h);
  if (layout.kind === 'ssd') {
    if (within(1, 1)) return { units: 'normalized', origin: [0, 0], extent: [1, 1] };
    if (!image || !within(image.size[1], image.size[0])) return { units: 'raw', origin: [0, 0], extent: [0, 0] };
  }
  if (image) return { units: 'pixels', origin: [0, 0], extent: [image.size[1], image.size[0]] };
  // No picture to draw on: a blank canvas from 0 (or the leftmost, topmost box) to where the boxes reach.
  let [x0, y0, x1, y1] = [0, 0, 1, 1];
  for (const { box } of detections) [x0, y0, x1, y1] = [Math.min(x0, box[0]), Math.min(y0, box[1]), Math.max(x1, box[2]), Math.max(y1, box[3])];
  [x0, y0] = [Math.floor(x0), Math.floor(y0)];
  return { units: 'pixels', origin: [x0, y0], extent: [Math.ceil(x1) - x0, Math.ceil(y1) - y0] };
}
