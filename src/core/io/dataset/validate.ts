import { DataError } from '../../errors';
import type { ValueDesc } from '../../model/ModelGraph';
import { formatDims } from '../../model/tensor';
import type { Dataset } from './Dataset';

/**
 * Checks every sample against the model's inputs (docs/formats.md "a mismatch (shape, dtype, missing
 * input, NaN) is reported with the sample index and input name").
 */
export function validateDataset(dataset: Dataset, inputs: readonly ValueDesc[]): void {
  if (dataset.samples.length === 0) throw new DataError('the dataset has no samples');
  dataset.samples.forEach((sample, i) => {
    const where = `sample ${i} (${dataset.sampleNames[i]})`;
    for (const input of inputs) {
      const tensor = sample[input.name];
      if (!tensor) throw new DataError(`${where} has no data for model input "${input.name}"`);
      if (input.dtype && input.dtype !== 'other' && tensor.dtype !== input.dtype) {
        throw new DataError(`${where}: input "${input.name}" expects ${input.dtype} but the data is ${tensor.dtype}`);
      }
      const dims = input.dims;
      if (dims) {
        const fits = dims.length === tensor.dims.length && dims.every((d, k) => d === null || d === tensor.dims[k]);
        if (!fits) {
          throw new DataError(`${where}: input "${input.name}" expects shape ${formatDims(dims)} but the data has shape ${formatDims(tensor.dims)}`);
        }
      }
      if (tensor.data instanceof Float32Array || tensor.data instanceof Float64Array) {
        const bad = tensor.data.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) throw new DataError(`${where}: input "${input.name}" holds ${tensor.data[bad]} at element ${bad}`);
      }
    }
    for (const name of Object.keys(sample)) {
      if (!inputs.some((i) => i.name === name)) throw new DataError(`${where} has data for "${name}", which is not an input of the model (inputs: ${inputs.map((i) => i.name).join(', ')})`);
    }
  });
}
