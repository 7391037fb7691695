import type { TensorMap } from '../../model/tensor';

/** Samples ready to feed the model: one TensorMap per sample, keyed by model input name. */
export interface Dataset {
  readonly samples: readonly TensorMap[];
  /** Where each sample came from ("img_003.jpg", "data.h5 /value/3"), for messages. */
  readonly sampleNames: readonly string[];
}

/** What the UI shows of a dataset. */
export interface DatasetSummary {
  readonly sampleCount: number;
  readonly sampleNames: readonly string[];
  readonly inputs: readonly { readonly name: string; readonly dims: readonly number[]; readonly dtype: string }[];
  readonly source: string;
}

export function subset(dataset: Dataset, start: number, count: number): Dataset {
  return { samples: dataset.samples.slice(start, start + count), sampleNames: dataset.sampleNames.slice(start, start + count) };
}
