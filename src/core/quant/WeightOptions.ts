/** How weights are quantized (docs/algorithms.md §3). */
export interface WeightOptions {
  readonly granularity: 'channel' | 'tensor';
  /** 'max': s = max|w| / qmax; 'mse': the scale that minimizes the squared error. */
  readonly scaleMethod: 'max' | 'mse';
}

export const DEFAULT_WEIGHT_OPTIONS: WeightOptions = { granularity: 'channel', scaleMethod: 'max' };
