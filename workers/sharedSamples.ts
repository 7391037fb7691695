import type { Dataset } from '../src/core/io/dataset/Dataset';
import type { Tensor, TensorData, TensorMap } from '../src/core/model/tensor';

/**
 * The dataset with every sample's values in SharedArrayBuffers, when the page may share memory
 * (cross-origin isolated, as its servers set it up). Each search worker is sent the search context
 * with its samples; a typed array over shared memory crosses postMessage as the same memory instead
 * of a copy: one copy of the samples for the whole pool rather than one a worker (the demo at 30
 * samples: 37 MB a worker). The values are only ever read after this. Page only: onnxruntime-node
 * refuses an input over a SharedArrayBuffer ("Invalid argument"); onnxruntime-web copies it into
 * its heap.
 */
export function inSharedMemory(dataset: Dataset): Dataset {
  if (!globalThis.crossOriginIsolated || typeof SharedArrayBuffer === 'undefined') return dataset;
  const samples = dataset.samples.map((sample): TensorMap => Object.fromEntries(Object.entries(sample).map(([name, tensor]) => [name, sharedTensor(tensor)])));
  return { ...dataset, samples };
}

function sharedTensor(tensor: Tensor): Tensor {
  const source = tensor.data;
  const data = new (source.constructor as new (buffer: SharedArrayBuffer) => TensorData)(new SharedArrayBuffer(source.byteLength));
  (data as Float32Array).set(source as Float32Array);
  return { ...tensor, data };
}
