import type { RgbaImage } from '../../io/dataset/ImageDecoder';
import type { Detection } from '../../metrics/detections';
import type { ErrorMetrics } from '../../metrics/similarity';
import type { TaskSpec } from '../../metrics/tasks';

/**
 * One evaluation sample as the float and the quantized model see it (issue #11, "see the outputs"):
 * what the page's output viewer draws. Everything here is already reduced to what a person looks at
 * (top-5 lists, decoded boxes, images, a plot of at most a few thousand points), so the payload stays
 * bounded whatever the size of the outputs: the page draws, the worker computes.
 */
export interface SampleOutputs {
  /** Index of the sample among the evaluation samples, and how many there are. */
  readonly index: number;
  readonly sampleCount: number;
  /** Where the sample came from ("img_003.jpg"). */
  readonly sampleName: string;
  readonly inputs: readonly InputView[];
  readonly outputs: readonly OutputView[];
}

/** A model input as the model receives it (after preprocessing). */
export interface InputView {
  readonly name: string;
  readonly dims: readonly number[];
  /** The input drawn as a picture (image-shaped inputs only: [N,3,H,W], [N,H,W,3], one channel), downsampled to a thumbnail. */
  readonly thumbnail: RgbaImage | null;
  /** Height and width of the input in the model's pixels (what box coordinates are in), for an image. */
  readonly size: readonly [number, number] | null;
}

interface OutputViewBase {
  readonly name: string;
  readonly dims: readonly number[];
  /** The task the output is read as (detected or set by the user). */
  readonly spec: TaskSpec;
  /** Float against quantized on this sample, the whole output. */
  readonly metrics: ErrorMetrics;
  /** Rows (images) in the batch; the view shows the first. */
  readonly rows: number;
}

/** One class of a top-k list. */
export interface ClassScore {
  readonly cls: number;
  readonly score: number;
}

export interface ClassifierView extends OutputViewBase {
  readonly task: 'classifier';
  readonly float: readonly ClassScore[];
  readonly quantized: readonly ClassScore[];
}

/** How a detector's box coordinates can be drawn: in the input's pixels, in 0..1 of it, or not at all (anchor-relative offsets). */
export type BoxUnits = 'pixels' | 'normalized' | 'raw';

export interface DetectorView extends OutputViewBase {
  readonly task: 'detector';
  /** The highest-scoring detections of each model (at most MAX_DRAWN_DETECTIONS). */
  readonly float: readonly Detection[];
  readonly quantized: readonly Detection[];
  /** How many each model found above the score threshold (before the cut to the drawn ones). */
  readonly floatCount: number;
  readonly quantizedCount: number;
  readonly threshold: number;
  /** Matched / (float + quantized) as detection F1 (float taken as the truth). */
  readonly f1: number;
  readonly units: BoxUnits;
  /** [x, y] of the top-left corner and [width, height] of the canvas the boxes are drawn on, in box units. */
  readonly origin: readonly [number, number];
  readonly extent: readonly [number, number];
  /** The input whose picture the boxes go on, if it is an image. */
  readonly image: string | null;
}

export interface DenseView extends OutputViewBase {
  readonly task: 'dense';
  readonly channels: number;
  /** One channel: both maps on the float map's value range; several: each pixel's arg-max class as a colour. */
  readonly float: RgbaImage;
  readonly quantized: RgbaImage;
  /** |float - quantized| on [0, maxDifference] (several channels: the pixels whose class changed). */
  readonly difference: RgbaImage;
  /** Height and width of the map (the images may be smaller). */
  readonly size: readonly [number, number];
  readonly floatRange: readonly [number, number];
  readonly maxDifference: number;
  readonly meanDifference: number;
  /** Pixels on (above the threshold, or one channel: the arg-max not class 0) in each map, and the IoU of the two. */
  readonly floatOn: number;
  readonly quantizedOn: number;
  readonly iou: number;
  /** Several channels: the fraction of pixels whose arg-max class differs. */
  readonly changed: number | null;
}

export interface SequenceView extends OutputViewBase {
  readonly task: 'sequence';
  /** CTC greedy decoding: the arg-max class of each step, repeats collapsed, the blank dropped. */
  readonly float: readonly number[];
  readonly quantized: readonly number[];
  readonly steps: number;
  /** Steps whose arg-max class differs. */
  readonly changedSteps: number;
}

/** Any other output: both series and their difference, downsampled to points that keep the largest differences. */
export interface SeriesView extends OutputViewBase {
  readonly task: 'other';
  /** Element index of each point. */
  readonly positions: Float64Array;
  readonly float: Float32Array;
  readonly quantized: Float32Array;
  readonly difference: Float32Array;
  /** Elements in the whole output. */
  readonly total: number;
  readonly maxDifference: number;
}

export type OutputView = ClassifierView | DetectorView | DenseView | SequenceView | SeriesView;
