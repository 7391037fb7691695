import { describe, expect, it } from 'vitest';
import type { TaskSpec } from '../../metrics/tasks';
import type { Tensor } from '../../model/tensor';
import { buildSampleOutputs, type SampleOutputsInput } from './buildSampleOutputs';
import { imageLayout, inputThumbnail } from './inputThumbnail';
import { MAX_IMAGE_SIDE } from './raster';
import { MAX_PLOT_POINTS, topK } from './readings';
import { collapseCtc } from '../../metrics/taskMetrics';
import type { OutputView } from './SampleOutputs';

const tensor = (dims: number[], fill: (i: number) => number): Tensor & { readonly data: Float32Array } => {
  const size = dims.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', dims, data: Float32Array.from({ length: size }, (_, i) => fill(i)) };
};

/** The payload for one output `y` (float and quantized) fed by `x`. */
function viewOf(spec: TaskSpec, float: Tensor, quantized: Tensor, x: Tensor = tensor([1, 4], () => 0), extra: Partial<SampleOutputsInput> = {}): OutputView {
  const payload = buildSampleOutputs({ index: 0, sampleCount: 1, sampleName: 's0', inputs: { x }, outputNames: ['y'], float: { y: float }, quantized: { y: quantized }, specs: { y: spec }, ...extra });
  return payload.outputs[0];
}

/** Every number the payload carries in typed arrays: what crosses to the page. */
function payloadValues(value: unknown): number {
  if (ArrayBuffer.isView(value)) return (value as unknown as ArrayLike<number>).length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + payloadValues(v), 0);
  if (value && typeof value === 'object') return Object.values(value).reduce((n: number, v) => n + payloadValues(v), 0);
  return 0;
}

describe('input thumbnails', () => {
  it('an NCHW image: stretched from its minimum to its maximum, channel 0 in red (blue for BGR data)', () => {
    // 3 channels of 8x8: channel c holds c everywhere but pixel 0, which holds -1 in channel 0
    const x = tensor([1, 3, 8, 8], (i) => (i === 0 ? -1 : Math.floor(i / 64)));
    const rgb = inputThumbnail(x)!;
    expect([rgb.width, rgb.height]).toEqual([8, 8]);
    // values -1 .. 2 stretched to 0 .. 255: pixel 0 is (-1, 1, 2), pixel 1 (0, 1, 2); alpha opaque
    expect(Array.from(rgb.data.slice(0, 4))).toEqual([0, 170, 255, 255]);
    expect(Array.from(rgb.data.slice(4, 8))).toEqual([85, 170, 255, 255]);
    const bgr = inputThumbnail(x, 'bgr')!;
    expect(Array.from(bgr.data.slice(4, 8))).toEqual([255, 170, 85, 255]);
  });

  it('NHWC and one channel are pictures; a sequence or a small feature map is not', () => {
    expect(imageLayout([1, 32, 24, 3])).toEqual({ channels: 3, channelsLast: true, height: 32, width: 24 });
    expect(imageLayout([1, 1, 16, 16])).toEqual({ channels: 1, channelsLast: false, height: 16, width: 16 });
    const gray = inputThumbnail(tensor([1, 16, 16, 1], (i) => i))!;
    expect(Array.from(gray.data.slice(-4))).toEqual([255, 255, 255, 255]);
    expect(inputThumbnail(tensor([1, 16, 64], (i) => i))).toBeNull();
    expect(inputThumbnail(tensor([1, 3, 4, 4], (i) => i))).toBeNull();
    expect(inputThumbnail(tensor([1, 5, 32, 32], (i) => i))).toBeNull();
  });

  it('8-bit pixels are drawn as they are; a large input is downsampled to MAX_IMAGE_SIDE', () => {
    const u8: Tensor = { dtype: 'uint8', dims: [1, 8, 8, 3], data: Uint8Array.from({ length: 192 }, (_, i) => (i % 3 === 0 ? 10 : 200)) };
    expect(Array.from(inputThumbnail(u8)!.data.slice(0, 4))).toEqual([10, 200, 200, 255]);
    const big = inputThumbnail(tensor([1, 3, 1000, 800], (i) => i % 7))!;
    expect(Math.max(big.width, big.height)).toBeLessThanOrEqual(MAX_IMAGE_SIDE);
    expect(big.data.length).toBe(big.width * big.height * 4);
  });
});

describe('the output viewer payload', () => {
  it('classifier: both top-5 lists, best first', () => {
    const scores = [0.1, 0.5, 0.05, 0.9, 0.3, 0.2, 0.7];
    const view = viewOf({ task: 'classifier' }, tensor([1, 7], (i) => scores[i]), tensor([1, 7], (i) => (i === 6 ? 0.95 : scores[i])));
    expect(view.task).toBe('classifier');
    if (view.task !== 'classifier') return;
    expect(view.float.map((e) => e.cls)).toEqual([3, 6, 1, 4, 5]);
    expect(view.quantized.map((e) => e.cls)).toEqual([6, 3, 1, 4, 5]);
    expect(topK([1, Number.NaN, 3], 0, 3, 2)).toEqual([{ cls: 2, score: 3 }, { cls: 0, score: 1 }]);
  });

  it('YOLO detector: boxes in the picture\'s pixels, or on a blank canvas as large as they reach', () => {
    // [1, 4 + 2, 8]: anchor 0 a box at (40, 30) 20x10 of class 1 at 0.9; the quantized one loses it
    const anchors = 8;
    const float = tensor([1, 6, anchors], (i) => {
      const [row, a] = [Math.floor(i / anchors), i % anchors];
      if (a !== 0) return row === 2 || row === 3 ? 1 : 0;
      return [40, 30, 20, 10, 0.1, 0.9][row];
    });
    const quantized = tensor([1, 6, anchors], (i) => (Math.floor(i / anchors) === 5 ? 0 : float.data[i]));
    const spec: TaskSpec = { task: 'detector', layout: { kind: 'yolo', channelsFirst: true, classes: 2 } };
    const onImage = viewOf(spec, float, quantized, tensor([1, 3, 64, 96], (i) => i));
    expect(onImage.task).toBe('detector');
    if (onImage.task !== 'detector') return;
    expect(onImage.float).toEqual([{ anchor: 0, cls: 1, score: expect.closeTo(0.9, 6), box: [30, 25, 50, 35] }]);
    expect([onImage.floatCount, onImage.quantizedCount, onImage.f1]).toEqual([1, 0, 0]);
    expect(onImage).toMatchObject({ units: 'pixels', origin: [0, 0], extent: [96, 64], image: 'x' });
    const blank = viewOf(spec, float, quantized);
    expect(blank).toMatchObject({ units: 'pixels', origin: [0, 0], extent: [50, 35], image: null });
    // a box reaching left of 0 moves the blank canvas's corner with it
    const left = tensor([1, 6, anchors], (i) => (i === 0 ? 5 : float.data[i]));
    expect(viewOf(spec, left, left)).toMatchObject({ origin: [-5, 0], extent: [20, 35] });
  });

  it('SSD boxes that are no coordinates of the picture are listed, not drawn', () => {
    const anchors = 16;
    const scores = tensor([1, anchors, 2], (i) => (i === 1 ? 0.8 : 0));
    const boxes = tensor([1, anchors, 4], (i) => (i % 4) * 500 - 700);
    const payload = buildSampleOutputs({
      index: 0, sampleCount: 1, sampleName: 's', inputs: { x: tensor([1, 3, 32, 32], (i) => i) }, outputNames: ['scores', 'boxes'],
      float: { scores, boxes }, quantized: { scores, boxes },
      specs: { scores: { task: 'detector', layout: { kind: 'ssd', boxesOutput: 'boxes', classes: 2, logits: false } }, boxes: { task: 'other' } },
    });
    expect(payload.outputs.map((o) => o.task)).toEqual(['detector', 'other']);
    expect(payload.outputs[0]).toMatchObject({ units: 'raw', floatCount: 1, quantizedCount: 1, f1: 1 });
  });

  it('one-channel dense map: both maps and |difference| as bounded images, with the pixels on and their IoU', () => {
    const [h, w] = [1000, 600];
    const float = tensor([1, 1, h, w], (i) => (i % w < 300 ? 0.9 : 0.1));
    const quantized = tensor([1, 1, h, w], (i) => (i === 5 * w + 10 ? 0.2 : i % w < 200 ? 0.9 : 0.1));
    const view = viewOf({ task: 'dense', channelsLast: false, threshold: 0.5 }, float, quantized);
    expect(view.task).toBe('dense');
    if (view.task !== 'dense') return;
    for (const image of [view.float, view.quantized, view.difference]) {
      expect(Math.max(image.width, image.height)).toBeLessThanOrEqual(MAX_IMAGE_SIDE);
      expect(image.data.length).toBe(image.width * image.height * 4);
    }
    expect(view.size).toEqual([h, w]);
    expect([view.floatOn, view.quantizedOn]).toEqual([300 * h, 200 * h - 1]);
    expect(view.iou).toBeCloseTo(2 / 3, 3);
    expect(view.maxDifference).toBeCloseTo(0.8, 5);
    expect(view.floatRange[0]).toBeCloseTo(0.1, 6);
    expect(view.floatRange[1]).toBeCloseTo(0.9, 6);
    // the single changed pixel (row 5, column 10) survives the downsampling of the difference (block max)
    const step = Math.ceil(h / MAX_IMAGE_SIDE);
    const at = (Math.floor(5 / step) * view.difference.width + Math.floor(10 / step)) * 4;
    expect(view.difference.data[at]).toBeGreaterThan(200);
  });

  it('several channels: the arg-max class per pixel, and the fraction of pixels whose class changed', () => {
    const [c, h, w] = [3, 8, 8];
    const cls = (p: number) => p % 3;
    const float = tensor([1, h, w, c], (i) => (i % c === cls(Math.floor(i / c)) ? 1 : 0));
    const quantized = tensor([1, h, w, c], (i) => (Math.floor(i / c) < 16 ? (i % c === 0 ? 1 : 0) : float.data[i]));
    const view = viewOf({ task: 'dense', channelsLast: true, threshold: 0 }, float, quantized);
    if (view.task !== 'dense') throw new Error(view.task);
    expect(view.channels).toBe(3);
    const changedInFirst16 = Array.from({ length: 16 }, (_, p) => cls(p)).filter((k) => k !== 0).length;
    expect(view.changed).toBeCloseTo(changedInFirst16 / 64, 6);
    expect([view.float.width, view.float.height]).toEqual([8, 8]);
  });

  it('sequence: CTC greedy decoding of both, repeats collapsed and the blank dropped', () => {
    expect(collapseCtc(Int32Array.of(0, 3, 3, 0, 3, 5, 5), 0)).toEqual([3, 3, 5]);
    const best = [1, 1, 0, 2, 2, 0, 1];
    const float = tensor([1, best.length, 4], (i) => (i % 4 === best[Math.floor(i / 4)] ? 0.9 : 0.1 / 3));
    const quantized = tensor([1, best.length, 4], (i) => (Math.floor(i / 4) === 3 ? (i % 4 === 3 ? 0.9 : 0.03) : float.data[i]));
    const view = viewOf({ task: 'sequence', timeFirst: false, blank: 0 }, float, quantized);
    expect(view).toMatchObject({ task: 'sequence', float: [1, 2, 1], quantized: [1, 3, 2, 1], steps: 7, changedSteps: 1 });
  });

  it('anything else: a plot of at most MAX_PLOT_POINTS points that keeps the largest difference; the payload stays bounded', () => {
    const n = 3_000_000;
    const float = tensor([1, n], (i) => Math.sin(i / 1000));
    const quantized = tensor([1, n], (i) => (i === 1_234_567 ? float.data[i] + 5 : float.data[i]));
    const view = viewOf({ task: 'other' }, float, quantized);
    if (view.task !== 'other') throw new Error(view.task);
    expect(view.positions.length).toBe(MAX_PLOT_POINTS);
    expect(view.total).toBe(n);
    expect(Array.from(view.positions)).toContain(1_234_567);
    expect(view.maxDifference).toBeCloseTo(5, 5);
    expect(Math.max(...view.difference)).toBeCloseTo(5, 5);
    expect(view.metrics.cos).toBeLessThan(1);
    expect(payloadValues(view)).toBeLessThan(1e6);
  });

  it('a sample with image input and a 4K map: everything sent is bounded', () => {
    const x = tensor([1, 3, 2160, 3840], (i) => i % 255);
    const y = tensor([1, 1, 2160, 3840], (i) => (i % 3840) / 3840);
    const payload = buildSampleOutputs({ index: 0, sampleCount: 1, sampleName: 's', inputs: { x }, outputNames: ['y'], float: { y }, quantized: { y }, specs: { y: { task: 'dense', channelsLast: false, threshold: 0.5 } } });
    expect(payload.inputs[0].size).toEqual([2160, 3840]);
    expect(payloadValues(payload)).toBeLessThan(4 * 4 * MAX_IMAGE_SIDE * MAX_IMAGE_SIDE);
    expect(payload.outputs[0].metrics.cos).toBe(1);
  });
});
