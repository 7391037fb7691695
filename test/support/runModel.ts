import type { Engine } from '../../src/core/engine/Engine';
import { OnnxModel, readOnnx } from '../../src/core/io/onnx/OnnxModel';
import type { TensorMap } from '../../src/core/model/tensor';

/** Reads builder bytes as the workbench does (normalized, named, topologically ordered). */
export function modelOf(bytes: Uint8Array, fileName = 'test.onnx'): OnnxModel {
  return readOnnx(bytes, fileName);
}

/** The graph outputs of a model on each sample, in one session. */
export async function runModel(engine: Engine, model: OnnxModel | Uint8Array, samples: readonly TensorMap[], fetches?: readonly string[]): Promise<TensorMap[]> {
  const bytes = model instanceof Uint8Array ? model : model.encode();
  const session = await engine.createSession(bytes);
  try {
    const results: TensorMap[] = [];
    for (const sample of samples) results.push(await session.run(sample, fetches));
    return results;
  } finally {
    await session.dispose();
  }
}

/** max |a - b| / max |a| over every output of every sample (a is the reference). */
export function maxRelativeDifference(reference: readonly TensorMap[], actual: readonly TensorMap[]): number {
  let worst = 0;
  reference.forEach((ref, s) => {
    for (const [name, tensor] of Object.entries(ref)) {
      const a = tensor.data as Float32Array;
      const b = actual[s][name].data as Float32Array;
      if (a.length !== b.length) throw new Error(`output ${name} has ${a.length} elements in the reference and ${b.length} in the other model`);
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < a.length; i++) {
        scale = Math.max(scale, Math.abs(a[i]));
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
      }
      worst = Math.max(worst, scale === 0 ? diff : diff / scale);
    }
  });
  return worst;
}

/** Mean over samples and outputs of the cosine similarity of `actual` against `reference`. */
export function meanCosine(reference: readonly TensorMap[], actual: readonly TensorMap[]): number {
  let total = 0;
  let count = 0;
  reference.forEach((ref, s) => {
    for (const [name, tensor] of Object.entries(ref)) {
      const a = tensor.data as Float32Array;
      const b = actual[s][name].data as Float32Array;
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let i = 0; i < a.length; i++) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
      }
      total += ab / Math.sqrt(aa * bb);
      count++;
    }
  });
  return total / count;
}
