import * as ort from 'onnxruntime-web/wasm';
import { ortEngine, type OrtRuntimeLike } from '../src/core/engine/ortAdapter';
import type { Engine } from '../src/core/engine/Engine';

/**
 * onnxruntime-web on WebAssembly. Threads need cross-origin isolation (COOP/COEP on every
 * response, see vite.config.ts); without it onnxruntime falls back to one thread by itself.
 */
export function ortWebWasmEngine(threads?: number): Engine {
  if (threads !== undefined) ort.env.wasm.numThreads = threads;
  return ortEngine('ort-web-wasm', ort as unknown as OrtRuntimeLike, { executionProviders: ['wasm'] });
}
