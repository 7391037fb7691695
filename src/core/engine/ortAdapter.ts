import type { DType, Tensor, TensorData, TensorMap } from '../model/tensor';
import type { Engine, Session, SessionOptions, ValueInfo } from './Engine';
import { EngineError } from '../errors';
import { runError } from './engineErrors';

/**
 * The part of onnxruntime's JavaScript API (identical in onnxruntime-web and onnxruntime-node)
 * that the adapter uses, written structurally so core never imports a runtime. The edge modules
 * (workers/ortWebEngine.ts, cli/ortNodeEngine.ts) pass their runtime in.
 */
export interface OrtTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}
export interface OrtMetadataLike {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly OrtMetadataLike[];
  readonly outputMetadata?: readonly OrtMetadataLike[];
  run(feeds: Record<string, OrtTensorLike>, fetches?: readonly string[]): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}
export interface OrtRuntimeLike {
  /** onnxruntime's global settings; `logLevel` is read when its first session is created. */
  env?: { logLevel?: string };
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSessionLike> };
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensorLike;
}

const KNOWN_DTYPES = new Set<DType>(['float32', 'float16', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'int64', 'bool']);

function toDType(type: string | undefined): DType | 'other' {
  return type && KNOWN_DTYPES.has(type as DType) ? (type as DType) : 'other';
}

function toValueInfo(meta: OrtMetadataLike): ValueInfo {
  return {
    name: meta.name,
    dtype: meta.isTensor ? toDType(meta.type) : 'other',
    // onnxruntime-web reports an unknown dimension as 2^32-1, onnxruntime-node as ''
    dims: meta.shape ? meta.shape.map((d) => (typeof d === 'number' && d >= 0 && d < 4294967295 ? d : null)) : null,
  };
}

function fromOrtTensor(tensor: OrtTensorLike, name: string, modelName?: string): Tensor {
  const dtype = toDType(tensor.type);
  if (dtype === 'other') throw new EngineError(`onnxruntime returned output "${name}" as a tensor of type ${tensor.type}, which qbench does not read`, modelName);
  return { dtype, dims: [...tensor.dims], data: tensor.data as TensorData };
}

class OrtSession implements Session {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputInfo: readonly ValueInfo[];
  readonly outputInfo: readonly ValueInfo[];

  /** `modelName`: the file failures name. */
  constructor(private readonly runtime: OrtRuntimeLike, private readonly session: OrtSessionLike, private readonly modelName?: string) {
    this.inputNames = session.inputNames;
    this.outputNames = session.outputNames;
    this.inputInfo = (session.inputMetadata ?? []).map(toValueInfo);
    this.outputInfo = (session.outputMetadata ?? []).map(toValueInfo);
  }

  async run(feeds: TensorMap, fetches?: readonly string[]): Promise<TensorMap> {
    const ortFeeds: Record<string, OrtTensorLike> = {};
    for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = new this.runtime.Tensor(tensor.dtype, tensor.data, tensor.dims);
    let results: Record<string, OrtTensorLike>;
    try {
      results = await this.session.run(ortFeeds, fetches ? [...fetches] : undefined);
    } catch (error) {
      throw runError(error, this.modelName);
    }
    const out: TensorMap = {};
    for (const [name, tensor] of Object.entries(results)) out[name] = fromOrtTensor(tensor, name, this.modelName);
    return out;
  }

  dispose(): Promise<void> {
    return this.session.release();
  }
}

const OPTIMIZATION_LEVEL = { all: 'all', extended: 'extended', basic: 'basic', disabled: 'disabled' } as const;

/**
 * onnxruntime's own logging says nothing (issue #12): it writes colour-coded lines to stderr (the
 * console on the page) for failures qbench reports itself, in one line naming the file. FATAL (4)
 * is its quietest level; the global level covers what it logs outside a session.
 */
const SILENT = { env: 'fatal', session: 4 } as const;

export function ortEngine(name: string, runtime: OrtRuntimeLike, baseOptions: Record<string, unknown>): Engine {
  if (runtime.env) runtime.env.logLevel = SILENT.env;
  return {
    name,
    async createSession(model: Uint8Array, options: SessionOptions = {}) {
      const session = await runtime.InferenceSession.create(model, {
        ...baseOptions,
        graphOptimizationLevel: OPTIMIZATION_LEVEL[options.graphOptimization ?? 'all'],
        logSeverityLevel: SILENT.session,
      });
      return new OrtSession(runtime, session, options.modelName);
    },
  };
}
