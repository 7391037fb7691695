import type { CalibrationMethod } from '../model/CaliTable';
import { LargestValues, SmallestValues } from './ExtremeValues';
import { KlHistogramBuilder, rebinToTensorRt, TensorRtHistogramBuilder, type MagnitudeHistogram } from './histograms';
import { aciqGaussThreshold, aciqLaplaceThreshold, octavThreshold, type ActivationBits } from './sampleThresholds';
import type { SampleObservation } from './statisticsPass';

export type { SampleObservation } from './statisticsPass';

export interface StatisticsOptions {
  /**
   * Which methods' statistics to keep: 'all' (to compare methods and draw every threshold) or only
   * some (calibration then costs little more than inference: KL alone needs one histogram).
   */
  readonly methods?: 'all' | readonly CalibrationMethod[];
  /** Bins of TPU-MLIR's KL histogram (`histogram_bin_num`, default 2048). */
  readonly histogramBins: number;
  /**
   * How many samples will come. Sizes the percentile9999 extreme sets: TPU-MLIR's
   * k = int(N * K * (1 - p/100)) + 1 is largest at p = 99.99, so the sets keep
   * int(expectedSamples * K * 1e-4) + 1 values at each end (K = sampled values of the first sample).
   */
  readonly expectedSamples: number;
  /**
   * Fine bins per TensorRT bin when the absmax never grows (default 4: the accumulator holds
   * 2 * 2048 * 4 float64 = 128 KiB per tensor during the pass; the result only 2048 bins).
   * See TensorRtHistogramBuilder.
   */
  readonly tensorRtOversampling?: number;
}

/** Fine bins per TensorRT bin (StatisticsOptions.tensorRtOversampling). */
export const DEFAULT_TENSORRT_OVERSAMPLING = 4;

/** TPU-MLIR's smallest percentile (position 0): it gives the largest k, hence the set capacity. */
export const PERCENTILE_BASE = 99.99;

/** One number per sample, for INT8 and INT4 activations. */
export type PerBits = Readonly<Record<ActivationBits, Float64Array>>;

/**
 * Everything the calibration methods need about one tensor (docs/algorithms.md §2), as plain data
 * (typed arrays and numbers: structured-cloneable, so it crosses Comlink and postMessage as is).
 * Memory is flat in the number of samples except the per-sample scalar arrays.
 */
export interface TensorStatistics {
  /** The methods whose statistics were kept ('all', or the ones asked for). */
  readonly methods: 'all' | readonly CalibrationMethod[];
  readonly sampleCount: number;
  /** Sum of the observations' element counts (N * size over the samples). */
  readonly elementCount: number;
  /** Sum of the sampled value counts (equal to elementCount when every element was sampled). */
  readonly sampledCount: number;
  /** Exact global minimum and maximum (0 and 0 before the first sample). */
  readonly min: number;
  readonly max: number;
  /** Exact per-sample minima and maxima (ONE record-minmax's min_vector / max_vector). */
  readonly sampleMins: Float64Array;
  readonly sampleMaxs: Float64Array;
  /**
   * TPU-MLIR's |x| histogram: zeros removed, centred bins (bin k covers [(k - 0.5)w, (k + 0.5)w)),
   * width fixed by the first sample, extended as absmax grows. Width 0 until a non-zero sample.
   * Each sampled value counts count/K elements (1 when every element is sampled).
   */
  readonly klHistogram: MagnitudeHistogram;
  /**
   * TensorRT's |x| histogram for the TensorRT/Bolt KL: 2048 bins of width absmax / 2048 (absmax of
   * every sample so far), floor binning, zeros included, |x| = absmax in the last bin. Accumulated
   * as a fine histogram and re-binned when result() is called (TensorRtHistogramBuilder,
   * rebinToTensorRt: exact unless the absmax grew after the first sample). Width 0 with every count
   * in bin 0 while the tensor has been all zeros.
   */
  readonly tensorRtHistogram: MagnitudeHistogram;
  /** The largest sampled values, largest first, and the smallest, smallest first (percentile9999). */
  readonly largest: Float64Array;
  readonly smallest: Float64Array;
  /** Per-sample OCTAV thresholds (u = 4 when the sample's exact min is >= 0). */
  readonly octav: PerBits;
  /** Per-sample ACIQ thresholds: Gauss from exact min, max and count; Laplace from the sampled values. */
  readonly aciqGauss: PerBits;
  readonly aciqLaplace: PerBits;
}

function validate(observation: SampleObservation): void {
  const { min, max, count, values } = observation;
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw new Error(`observation has min ${min} and max ${max}; calibration needs finite values with min <= max`);
  }
  if (!Number.isInteger(count) || count < 1 || values.length > count) {
    throw new Error(`observation has ${values.length} sampled values of ${count} elements; expected 1 or more elements and at most that many values`);
  }
}

/**
 * Consumes one SampleObservation per sample and keeps only what every calibration method needs:
 * merged histograms, bounded extreme sets and one scalar per sample and method; never past values.
 *
 * @example
 * const acc = new TensorStatisticsAccumulator({ histogramBins: 2048, expectedSamples: 2 });
 * acc.add({ min: -1, max: 2, count: 3, values: new Float32Array([-1, 0, 2]) });
 * acc.add({ min: 0, max: 4, count: 3, values: new Float32Array([0, 1, 4]) });
 * acc.result().max          // 4
 * acc.result().sampleMaxs   // Float64Array [2, 4]
 * acc.result().klHistogram  // width 2/2047, 2048 + 2047 bins (sample 2 doubled the absmax)
 */
export class TensorStatisticsAccumulator {
  private readonly klHistogram: KlHistogramBuilder;
  private readonly tensorRtHistogram: TensorRtHistogramBuilder;
  private largest: LargestValues | null = null;
  private smallest: SmallestValues | null = null;
  private readonly sampleMins: number[] = [];
  private readonly sampleMaxs: number[] = [];
  private readonly perSample = {
    octav8: [] as number[], octav4: [] as number[],
    gauss8: [] as number[], gauss4: [] as number[],
    laplace8: [] as number[], laplace4: [] as number[],
  };
  private min = Infinity;
  private max = -Infinity;
  private elementCount = 0;
  private sampledCount = 0;

  private readonly wants: (method: CalibrationMethod) => boolean;

  constructor(private readonly options: StatisticsOptions) {
    const methods = options.methods ?? 'all';
    this.wants = (method) => methods === 'all' || methods.includes(method);
    if (!Number.isInteger(options.histogramBins) || options.histogramBins < 2) {
      throw new Error(`histogramBins must be an integer >= 2, got ${options.histogramBins}`);
    }
    const oversampling = options.tensorRtOversampling ?? DEFAULT_TENSORRT_OVERSAMPLING;
    if (!Number.isInteger(oversampling) || oversampling < 1) {
      throw new Error(`tensorRtOversampling must be an integer >= 1, got ${oversampling}`);
    }
    this.klHistogram = new KlHistogramBuilder(options.histogramBins);
    this.tensorRtHistogram = new TensorRtHistogramBuilder(oversampling);
  }

  add(observation: SampleObservation): void {
    validate(observation);
    const { min, max, count, values } = observation;
    const k = values.length;
    if (!this.largest && this.wants('percentile9999')) {
      const capacity = Math.floor(Math.max(1, this.options.expectedSamples) * k * (1 - PERCENTILE_BASE / 100)) + 1;
      this.largest = new LargestValues(capacity);
      this.smallest = new SmallestValues(capacity);
    }
    this.min = Math.min(this.min, min);
    this.max = Math.max(this.max, max);
    this.sampleMins.push(min);
    this.sampleMaxs.push(max);
    this.elementCount += count;
    this.sampledCount += k;

    const runningAbsMax = Math.max(Math.abs(this.min), Math.abs(this.max));
    const weight = k > 0 ? count / k : 0;
    // The KL histogram is also what the inspector draws: kept whatever the methods.
    this.klHistogram.add(values, weight, runningAbsMax);
    if (this.wants('kl_tensorrt')) this.tensorRtHistogram.add(values, weight, runningAbsMax);
    if (this.largest) {
      for (let i = 0; i < k; i++) {
        this.largest.add(values[i]);
        this.smallest!.add(values[i]);
      }
    }
    const nonNegative = min >= 0;
    const p = this.perSample;
    if (this.wants('mse')) {
      p.octav8.push(octavThreshold(values, 8, nonNegative));
      p.octav4.push(octavThreshold(values, 4, nonNegative));
    }
    if (this.wants('aciq_gauss')) {
      p.gauss8.push(aciqGaussThreshold(min, max, count, 8));
      p.gauss4.push(aciqGaussThreshold(min, max, count, 4));
    }
    if (this.wants('aciq_laplace')) {
      p.laplace8.push(aciqLaplaceThreshold(values, 8));
      p.laplace4.push(aciqLaplaceThreshold(values, 4));
    }
  }

  /** Whether this accumulator kept what `method` needs. */
  collected(method: CalibrationMethod): boolean {
    return this.wants(method);
  }

  /** A snapshot: later adds do not change it. */
  result(): TensorStatistics {
    const p = this.perSample;
    const empty = this.sampleMins.length === 0;
    return {
      methods: this.options.methods ?? 'all',
      sampleCount: this.sampleMins.length,
      elementCount: this.elementCount,
      sampledCount: this.sampledCount,
      min: empty ? 0 : this.min,
      max: empty ? 0 : this.max,
      sampleMins: Float64Array.from(this.sampleMins),
      sampleMaxs: Float64Array.from(this.sampleMaxs),
      klHistogram: this.klHistogram.snapshot(),
      tensorRtHistogram: rebinToTensorRt(this.tensorRtHistogram.snapshot(), empty ? 0 : Math.max(Math.abs(this.min), Math.abs(this.max))),
      largest: this.largest?.descending() ?? new Float64Array(0),
      smallest: this.smallest?.ascending() ?? new Float64Array(0),
      octav: { 8: Float64Array.from(p.octav8), 4: Float64Array.from(p.octav4) },
      aciqGauss: { 8: Float64Array.from(p.gauss8), 4: Float64Array.from(p.gauss4) },
      aciqLaplace: { 8: Float64Array.from(p.laplace8), 4: Float64Array.from(p.laplace4) },
    };
  }
}
