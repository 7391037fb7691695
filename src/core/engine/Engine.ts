import type { DType, TensorMap } from '../model/tensor';

/**
 * The only way core runs a model. Adapters live at the edge that owns the runtime:
 * workers/ortWebEngine.ts (onnxruntime-web, in a Web Worker) and cli/ortNodeEngine.ts
 * (onnxruntime-node). Shape follows onnxruntime's own backend interface, cut to what core uses.
 */
export interface Engine {
  /** 'ort-web-wasm' | 'ort-web-webgpu' | 'ort-node' */
  readonly name: string;
  /**
   * How many inferences of one session it runs at once (default 1): an engine whose sessions live in
   * several threads (cli/engineLanes.ts). A pass over many samples keeps that many runs going.
   */
  readonly lanes?: number;
  createSession(model: Uint8Array, options?: SessionOptions): Promise<Session>;
}

export interface SessionOptions {
  /** Name used in error messages (the user's file name). */
  readonly modelName?: string;
  /** 'all' (default) keeps onnxruntime's graph optimizations, which fuse QDQ groups into int8 kernels. */
  readonly graphOptimization?: 'all' | 'extended' | 'basic' | 'disabled';
}

/** Type and (partly known) shape of a graph output, as the engine inferred it when loading. */
export interface ValueInfo {
  readonly name: string;
  readonly dtype: DType | 'other';
  /** null where a dimension is only known at run time. */
  readonly dims: readonly (number | null)[] | null;
}

export interface Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Types and shapes of the outputs, inferred by the engine without running the model. */
  readonly outputInfo: readonly ValueInfo[];
  readonly inputInfo: readonly ValueInfo[];
  run(feeds: TensorMap, fetches?: readonly string[]): Promise<TensorMap>;
  dispose(): Promise<void>;
}
