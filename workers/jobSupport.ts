import type { Engine } from '../src/core/engine/Engine';
import { QbenchError } from '../src/core/errors';
import type { ImageDecoder } from '../src/core/io/dataset/loadDataset';
import type { JobProgress } from '../src/core/jobs/Job';
import type { ModelGraph } from '../src/core/model/ModelGraph';
import type { QTable } from '../src/core/model/QTable';
import type { LayerInfo } from '../src/core/quant/layerInfo';
import type { ModelFindings } from '../src/core/quant/modelFindings';
import type { SearchContext } from '../src/core/search/SearchContext';
import type { SearchPool } from '../src/core/search/pool/SearchPool';
import type { CalibrationSummary, Workbench } from '../src/core/Workbench';

/** A file for the worker to read: a dropped File, a URL (the built-in demo) or bytes. */
export interface FileSource {
  readonly name: string;
  readonly file?: Blob;
  readonly url?: string;
  readonly bytes?: Uint8Array;
}

export type EngineKind = 'wasm' | 'webgpu';

export interface Capabilities {
  readonly crossOriginIsolated: boolean;
  readonly webgpu: boolean;
  readonly threads: number;
}

export interface ModelSummary {
  readonly graph: ModelGraph;
  readonly layers: readonly LayerInfo[];
  /** What to know before reading any figure (already quantized, nothing to quantize, upgraded opset...). */
  readonly findings: ModelFindings;
  /** The file is a QDQ model opened as the float model it was made from (its own quantized model can be measured). */
  readonly dequantized: boolean;
  /**
   * A quantized .tflite/.circle's own precisions where they are not INT8 (int16 activations INT16,
   * float operators FP32): the page starts its QTable from them. Null otherwise.
   */
  readonly fileQTable?: QTable | null;
  /** Where float passes run, and where quantized models run (the same engine unless WebGPU was chosen). */
  readonly engine: string;
  readonly quantizedEngine?: string;
  readonly openMs: number;
}

export interface OpenOptions {
  /** Open a QDQ model as its float model, with its quantizers' ranges imported as the calibration. */
  readonly dequantize?: boolean;
}

export function summaryOf(bench: Workbench, started: number): ModelSummary {
  return {
    graph: bench.graph, layers: [...bench.layers.values()], findings: bench.findings, dequantized: bench.quantizedOriginal !== null,
    fileQTable: bench.sourceFile ? bench.fileQTable : null, engine: bench.engine.name, quantizedEngine: bench.quantizedEngine.name, openMs: performance.now() - started,
  };
}

export type ProgressCallback = (progress: JobProgress) => void;

export type ImportedTable =
  | { readonly kind: 'qtable' | 'one_config'; readonly qtable: QTable; readonly unknownNames: readonly string[] }
  | { readonly kind: 'cali_table'; readonly summary: CalibrationSummary; readonly unknownNames: readonly string[] };

/** Which table a text is: JSON is ONE's config; otherwise the field count of its first data line. */
export function tableKind(text: string): ImportedTable['kind'] {
  if (text.trimStart().startsWith('{')) return 'one_config';
  const line = text.split(/\r?\n/).map((l) => l.replace(/#.*/, '').trim()).find(Boolean);
  return line && line.split(/\s+/).length === 4 ? 'cali_table' : 'qtable';
}

export async function readSource(source: FileSource): Promise<Uint8Array> {
  if (source.bytes) return source.bytes;
  if (source.file) return new Uint8Array(await source.file.arrayBuffer());
  if (source.url) {
    const response = await fetch(source.url);
    if (!response.ok) throw new QbenchError(`could not load (${response.status} ${response.statusText})`, source.name);
    return new Uint8Array(await response.arrayBuffer());
  }
  throw new QbenchError('no data to read', source.name);
}

/** Calls `callback` at most every `intervalMs`, but always passes the last call of a stage through. */
export function throttled(callback: ProgressCallback, intervalMs = 100): ProgressCallback {
  let last = 0;
  return (progress) => {
    const now = performance.now();
    if (now - last >= intervalMs || progress.done === progress.total) {
      last = now;
      callback(progress);
    }
  };
}

/** The compute worker's search workers (searchPool.ts), as the jobs use them. */
export interface SearchPools {
  poolFor(ctx: SearchContext): Promise<SearchPool>;
  /** `cancelled`: the calls waiting on the workers end as cancelled. */
  close(cancelled?: boolean): void;
  setRunTimeLimit(seconds: number): void;
}

/** What a job (jobs.ts) gets from the compute worker: the open workbench and what opens one. */
export interface JobHost {
  bench?: Workbench;
  readonly engines: Record<EngineKind, () => Promise<Engine>>;
  readonly imageDecoder: ImageDecoder;
  /** The pool workers searches run on (none: searches run on the compute worker's engine). */
  readonly searchPools?: SearchPools;
  requireBench(): Workbench;
}
