import * as ort from 'onnxruntime-node';
import { ortEngine, type OrtRuntimeLike } from '../src/core/engine/ortAdapter';
import type { Engine } from '../src/core/engine/Engine';

/** onnxruntime-node on the CPU; `threads` 0 lets onnxruntime use every core. */
export function ortNodeEngine(threads = 0): Engine {
  return ortEngine('ort-node', ort as unknown as OrtRuntimeLike, { executionProviders: ['cpu'], intraOpNumThreads: threads });
}
