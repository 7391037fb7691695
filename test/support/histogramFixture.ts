/**
 * The real-activation fixture of the calibrator reference checks (test/fixtures/histograms/,
 * written by scripts/captureHistograms.ts): what the statistics pass handed the calibrators for a
 * few tensors of corpus models, sample by sample, and the histograms it built from them.
 */
import { readFileSync } from 'node:fs';
import { deflateSync, inflateSync } from 'fflate';
import type { MagnitudeHistogram } from '../../src/core/calib/histograms';
import type { SampleObservation } from '../../src/core/calib/TensorStatistics';

/**
 * One |x| histogram as TensorStatistics holds it: bin k counts `counts[k] * unit` elements. Each
 * sampled value counts count/K elements, so storing counts in that unit keeps them short integers.
 */
export interface StoredHistogram {
  readonly width: number;
  readonly unit: number;
  readonly counts: readonly number[];
}

/** One sample's observation of a tensor: exact min/max/count and the sampled values (encoded). */
export interface StoredObservation {
  readonly min: number;
  readonly max: number;
  /** Elements of the tensor in this sample. */
  readonly count: number;
  /** The sampled values as float32 bytes, deflated, base64 (see encodeValues). */
  readonly values: string;
}

export interface StoredTensor {
  readonly model: string;
  readonly tensor: string;
  /** Producing op type, or 'input' for a graph input. */
  readonly op: string;
  /** Why this tensor is in the fixture (the shape of its distribution). */
  readonly shape: string;
  /** MethodContext fields that depend on the graph (percentile9999's position, inputs under MSE/ACIQ). */
  readonly position: number;
  readonly positionCount: number;
  readonly isGraphInput: boolean;
  readonly observations: readonly StoredObservation[];
  /** The histograms calibrateModel built from these observations: the bins the KL calibrators received. */
  readonly klHistogram: StoredHistogram;
  readonly tensorRtHistogram: StoredHistogram;
}

/** Where the fixture lives (the capture script's default output). */
export const FIXTURE_PATH = new URL('../fixtures/histograms/corpusHistograms.json', import.meta.url);

export interface HistogramFixture {
  /** How the fixture was made (script, settings), for whoever regenerates it. */
  readonly source: string;
  readonly valuesPerTensor: number;
  readonly histogramBins: number;
  readonly tensors: readonly StoredTensor[];
}

/**
 * Float32 values as base64 of their deflated bytes: post-ReLU tensors are half zeros and Clip outputs
 * repeat their bounds, so deflate keeps the fixture small while every value stays exact.
 */
export function encodeValues(values: Float32Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return Buffer.from(deflateSync(bytes, { level: 9 })).toString('base64');
}

export function decodeValues(text: string): Float32Array {
  const bytes = inflateSync(new Uint8Array(Buffer.from(text, 'base64')));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** A histogram in the given unit when every count divides back exactly, else in unit 1. */
export function storeHistogram(histogram: MagnitudeHistogram, unit: number): StoredHistogram {
  const scaled = Array.from(histogram.counts, (c) => c / unit);
  const exact = scaled.every((s, k) => s * unit === histogram.counts[k]);
  return exact ? { width: histogram.width, unit, counts: scaled } : { width: histogram.width, unit: 1, counts: Array.from(histogram.counts) };
}

export function histogramOf(stored: StoredHistogram): MagnitudeHistogram {
  return { width: stored.width, counts: Float64Array.from(stored.counts, (c) => c * stored.unit) };
}

/** The observation a stored sample stands for, as the statistics pass gave it. */
export function observationOf(stored: StoredObservation): SampleObservation {
  return { min: stored.min, max: stored.max, count: stored.count, values: decodeValues(stored.values) };
}

/** test/fixtures/histograms/corpusHistograms.json, as scripts/captureHistograms.ts wrote it. */
export function readHistogramFixture(): HistogramFixture {
  return JSON.parse(readFileSync(FIXTURE_PATH, 'utf8')) as HistogramFixture;
}
