import { ortEngine, type OrtRuntimeLike } from '../src/core/engine/ortAdapter';
import type { Engine } from '../src/core/engine/Engine';

/**
 * onnxruntime-web with the WebGPU execution provider (operators it lacks fall back to its WASM
 * CPU kernels, the int8 ones among them). Loaded on demand: the WebGPU build is a separate, larger
 * WebAssembly binary that users without an adapter never download.
 */
export async function ortWebGpuEngine(): Promise<Engine> {
  const ort = await import('onnxruntime-web/webgpu');
  return ortEngine('ort-web-webgpu', ort as unknown as OrtRuntimeLike, { executionProviders: ['webgpu', 'wasm'] });
}

/** Whether this browser exposes a WebGPU adapter (SwiftShader counts: correct but slow). */
export async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (globalThis.navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}
