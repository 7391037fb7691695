import type { Engine } from '../src/core/engine/Engine';
import { CancelledError, QbenchError } from '../src/core/errors';
import type { DatasetSummary } from '../src/core/io/dataset/Dataset';
import { loadDataset, type DatasetFile, type ImageDecoder, type ImagePreprocess } from '../src/core/io/dataset/loadDataset';
import { CancelToken, jobContext, type JobContext, type JobProgress } from '../src/core/jobs/Job';
import type { ModelGraph } from '../src/core/model/ModelGraph';
import type { LayerInfo } from '../src/core/quant/layerInfo';
import type { ModelFindings } from '../src/core/quant/modelFindings';
import type { ErrorMetrics } from '../src/core/metrics/similarity';
import { targetScheme, type TargetScheme } from '../src/core/quant/schemes';
import { qtableFromData, qtableToData, type QTableData } from '../src/core/quant/QTable';
import type { Evaluation } from '../src/core/sim/Evaluation';
import type { EvaluationDepth } from '../src/core/sim/Simulator';
import type { ExportVerification } from '../src/core/export/verifyExport';
import { Workbench, type CalibrationSummary, type CorrectionReport, type Corrections, type TensorCalibrationView, type ThresholdSearchRow } from '../src/core/Workbench';
import type { CalibrationSettings, TensorOverride } from '../src/core/calib/Calibration';
import type { WeightOptions } from '../src/core/quant/buildQdqModel';
import { parseCaliTable } from '../src/core/io/caliTable';
import { parseQTable } from '../src/core/io/qtable';
import { parseOneConfig } from '../src/core/io/oneConfig';
import { exportTable, type TableKind } from '../src/core/export/tables';
import { weightReport, type WeightReport } from '../src/core/quant/weightReport';
import { weightBytes } from '../src/core/quant/modelSize';
import type { SearchContext } from '../src/core/search/SearchContext';
import type { SearchPool } from '../src/core/search/SearchPool';
import type { SearchRequest } from '../src/core/search/SearchRequest';
import type { SearchEvent, SearchResult } from '../src/core/search/SearchSession';
import { bestMethodOverrides } from '../src/core/search/bestMethods';
import type { UnitSensitivity } from '../src/core/search/sensitivity';

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
  readonly engine: string;
  readonly openMs: number;
}

export interface OpenOptions {
  /** Open a QDQ model as its float model, with its quantizers' ranges imported as the calibration. */
  readonly dequantize?: boolean;
}

function summaryOf(bench: Workbench, started: number): ModelSummary {
  return {
    graph: bench.graph, layers: [...bench.layers.values()], findings: bench.findings, dequantized: bench.quantizedOriginal !== null,
    engine: bench.engine.name, openMs: performance.now() - started,
  };
}

export type ProgressCallback = (progress: JobProgress) => void;

export type ImportedTable =
  | { readonly kind: 'qtable' | 'one_config'; readonly qtable: QTableData; readonly unknownNames: readonly string[] }
  | { readonly kind: 'cali_table'; readonly summary: CalibrationSummary; readonly unknownNames: readonly string[] };

/** Which table a text is: JSON is ONE's config; otherwise the field count of its first data line. */
function tableKind(text: string): ImportedTable['kind'] {
  if (text.trimStart().startsWith('{')) return 'one_config';
  const line = text.split(/\r?\n/).map((l) => l.replace(/#.*/, '').trim()).find(Boolean);
  return line && line.split(/\s+/).length === 4 ? 'cali_table' : 'qtable';
}

async function readSource(source: FileSource): Promise<Uint8Array> {
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
function throttled(callback: ProgressCallback, intervalMs = 100): ProgressCallback {
  let last = 0;
  return (progress) => {
    const now = performance.now();
    if (now - last >= intervalMs || progress.done === progress.total) {
      last = now;
      callback(progress);
    }
  };
}

/**
 * The worker side of the page: wraps the core Workbench with what the page needs (reading files,
 * jobs that can be cancelled by id, throttled progress). Everything returned is plain data;
 * exported model bytes are transferred, not copied (see qbench.worker.ts).
 */
export class WorkbenchService {
  private bench?: Workbench;
  private readonly jobs = new Map<string, CancelToken>();
  /** Engine work runs one job at a time (a session must not run twice at once); later calls queue. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly engines: Record<EngineKind, () => Promise<Engine>>,
    private readonly imageDecoder: ImageDecoder,
    private readonly probeWebGpu: () => Promise<boolean>,
    /** The pool workers searches run on (none: searches run on the compute worker's engine). */
    private readonly searchPools?: { poolFor(ctx: SearchContext): Promise<SearchPool>; close(): void },
  ) {}

  async capabilities(): Promise<Capabilities> {
    return {
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      webgpu: await this.probeWebGpu(),
      threads: globalThis.navigator?.hardwareConcurrency ?? 1,
    };
  }

  openModel(source: FileSource, engineKind: EngineKind, options: OpenOptions = {}): Promise<ModelSummary> {
    return this.exclusive(() => this.openModelNow(source, engineKind, options));
  }

  private async openModelNow(source: FileSource, engineKind: EngineKind, options: OpenOptions): Promise<ModelSummary> {
    const started = performance.now();
    const bytes = await readSource(source);
    const engine = await this.engines[engineKind]();
    const bench = await Workbench.open(engine, bytes, source.name, { dequantize: options.dequantize === true });
    await this.bench?.dispose();
    this.searchPools?.close();
    this.bench = bench;
    if (this.searchPools) {
      const pools = this.searchPools;
      bench.searchPools = (ctx) => pools.poolFor(ctx);
      // The pool's workers run WASM: a user who chose WebGPU gets WebGPU for evaluations.
      bench.outputsOnPool = engineKind === 'wasm';
    }
    return summaryOf(bench, started);
  }

  loadDataset(sources: readonly FileSource[], preprocess: ImagePreprocess): Promise<DatasetSummary> {
    return this.exclusive(() => this.loadDatasetNow(sources, preprocess));
  }

  private async loadDatasetNow(sources: readonly FileSource[], preprocess: ImagePreprocess): Promise<DatasetSummary> {
    const bench = this.requireBench();
    // A dropped .h5 stays a File: h5wasm mounts it in this worker instead of copying it.
    const files = await Promise.all(sources.map(async (s): Promise<DatasetFile> => (s.file && /\.(h5|hdf5)$/i.test(s.name) ? { name: s.name, blob: s.file } : { name: s.name, bytes: await readSource(s) })));
    const dataset = await loadDataset(files, bench.graph.inputs, preprocess, this.imageDecoder);
    bench.setDataset(dataset);
    const first = dataset.samples[0];
    return {
      sampleCount: dataset.samples.length,
      sampleNames: dataset.sampleNames,
      inputs: Object.entries(first).map(([name, t]) => ({ name, dims: [...t.dims], dtype: t.dtype })),
      source: sources.length === 1 ? sources[0].name : `${sources.length} files`,
    };
  }

  setScheme(id: TargetScheme['id']): Promise<void> {
    return this.exclusive(async () => this.requireBench().setScheme(targetScheme(id)));
  }

  /** Applies settings; says whether calibration must run again (what is observed changed). */
  setCalibrationSettings(settings: Partial<CalibrationSettings>): Promise<{ needsCalibration: boolean; summary: CalibrationSummary | null }> {
    return this.exclusive(async () => {
      const bench = this.requireBench();
      const result = bench.setCalibrationSettings(settings);
      if (!result.needsCalibration) await bench.ensureEvaluation();
      return { ...result, summary: bench.calibrated ? bench.summary() : null };
    });
  }

  setWeightOptions(options: Partial<WeightOptions>): Promise<void> {
    return this.exclusive(async () => this.requireBench().setWeightOptions(options));
  }

  setTensorOverride(tensor: string, override: TensorOverride | null): Promise<CalibrationSummary> {
    return this.exclusive(async () => {
      const bench = this.requireBench();
      bench.setTensorOverride(tensor, override);
      return bench.summary();
    });
  }

  /** run_sensitive_layer's new cali table: each ranked unit's output takes its best method. */
  applyBestMethods(ranking: readonly UnitSensitivity[]): Promise<CalibrationSummary> {
    return this.exclusive(async () => {
      const bench = this.requireBench();
      bench.setTensorOverrides(bestMethodOverrides(ranking, bench.layers));
      return bench.summary();
    });
  }

  tensorCalibration(tensor: string): Promise<TensorCalibrationView | null> {
    return this.exclusive(async () => this.requireBench().tensorCalibration(tensor));
  }

  weightReport(layer: string, qtable: QTableData): Promise<WeightReport | null> {
    return this.exclusive(async () => {
      const bench = this.requireBench();
      return weightReport(bench.model, bench.graph.nodes.find((n) => n.name === layer)!, qtableFromData(qtable), bench.weightOptions);
    });
  }

  searchThreshold(jobId: string, onProgress: ProgressCallback): Promise<{ rows: ThresholdSearchRow[]; summary: CalibrationSummary }> {
    return this.runJob(jobId, onProgress, async (job) => {
      const bench = this.requireBench();
      const rows = await bench.searchThreshold(job);
      return { rows, summary: bench.summary() };
    });
  }

  /**
   * A table the user drops on the workbench, recognised by its content: a TPU-MLIR qtable (two fields
   * a line) sets precisions, ONE's layer configuration (JSON) sets INT16 layers, a TPU-MLIR cali_table
   * (four fields a line) replaces the calibrated thresholds of the tensors it names.
   */
  importTable(source: FileSource): Promise<ImportedTable> {
    return this.exclusive(async () => {
      const bench = this.requireBench();
      const text = new TextDecoder().decode(await readSource(source));
      const kind = tableKind(text);
      if (kind === 'qtable') {
        const parsed = parseQTable(text, source.name, bench.graph.nodes);
        return { kind, qtable: qtableToData(parsed.table), unknownNames: [...parsed.unknownLayers] };
      }
      if (kind === 'one_config') {
        const parsed = parseOneConfig(text, source.name, bench.graph.nodes);
        return { kind, qtable: qtableToData(parsed.table), unknownNames: parsed.unknownLayers };
      }
      const parsed = parseCaliTable(text, source.name, bench.graph.nodes);
      bench.setImportedTable(parsed.table);
      return { kind, summary: bench.summary(), unknownNames: parsed.unknownTensors };
    });
  }

  /** One of the tables qbench writes (cali_table, ONE config, visq, Bolt, Model Explorer). */
  exportTable(kind: TableKind, qtable: QTableData, evaluation: Evaluation | null): Promise<{ fileName: string; text: string; warnings: string[] }> {
    return this.exclusive(async () => exportTable(kind, this.requireBench(), qtableFromData(qtable), evaluation));
  }

  /** Calibrates; bias correction, when on, is measured for `qtable`. */
  calibrate(jobId: string, qtable: QTableData, onProgress: ProgressCallback): Promise<CalibrationSummary> {
    return this.runJob(jobId, onProgress, (job) => this.requireBench().calibrate(job, qtableFromData(qtable)));
  }

  /**
   * Puts corrections in force and measures them on `qtable`. When BN folding changed the graph, the
   * new model comes back too (its layers are what the page shows and edits).
   */
  setCorrections(jobId: string, corrections: Corrections, qtable: QTableData, onProgress: ProgressCallback): Promise<{ report: CorrectionReport; summary: CalibrationSummary; model: ModelSummary | null }> {
    return this.runJob(jobId, onProgress, async (job) => {
      const bench = this.requireBench();
      const started = performance.now();
      const report = await bench.setCorrections(corrections, qtableFromData(qtable), job);
      const model = report.graphChanged ? summaryOf(bench, started) : null;
      return { report, summary: bench.summary(), model };
    });
  }

  evaluate(jobId: string, qtable: QTableData, depth: EvaluationDepth, onProgress: ProgressCallback): Promise<Evaluation> {
    return this.runJob(jobId, onProgress, (job) => this.requireBench().evaluate(qtableFromData(qtable), depth, job));
  }

  /**
   * The output error of the file's own quantized model against the de-quantized float model, on the
   * evaluation samples; null unless the model was opened de-quantized.
   */
  measureQuantizedOriginal(jobId: string, onProgress: ProgressCallback): Promise<ErrorMetrics | null> {
    return this.runJob(jobId, onProgress, (job) => this.requireBench().measureQuantizedOriginal(job));
  }

  exportQdq(jobId: string, qtable: QTableData, onProgress: ProgressCallback): Promise<{ bytes: Uint8Array; verification: ExportVerification }> {
    return this.runJob(jobId, onProgress, (job) => this.requireBench().exportVerifiedQdq(qtableFromData(qtable), job));
  }

  /** Float inference time over the calibration samples, and what calibration keeps in memory. */
  measureFloatInference(jobId: string, onProgress: ProgressCallback): Promise<{ samples: number; perSampleMs: number; calibrationBytes: number | null }> {
    return this.runJob(jobId, onProgress, async (job) => {
      const bench = this.requireBench();
      const result = await bench.measureFloatInference(job);
      return { ...result, calibrationBytes: bench.calibrated ? bench.calibrationFootprint() : null };
    });
  }

  /**
   * A mixed-precision search on the pool of search workers; `onEvent` streams each unit's
   * sensitivity, each configuration scored and each log line as they come.
   */
  search(jobId: string, request: SearchRequest, onEvent: (event: SearchEvent) => void, onProgress: ProgressCallback): Promise<SearchResult> {
    return this.runJob(jobId, onProgress, (job) => this.requireBench().search(request, job, onEvent));
  }

  /** Bytes of the weights under a QTable (the Pareto view's x axis). */
  weightBytes(qtable: QTableData): Promise<number> {
    return this.exclusive(async () => {
      const bench = this.requireBench();
      return weightBytes(bench.model, bench.layers, qtableFromData(qtable), bench.scheme);
    });
  }

  /** Stops a job at its next check (between inferences); unknown ids are ignored. */
  cancel(jobId: string): void {
    this.jobs.get(jobId)?.cancel();
  }

  private runJob<T>(jobId: string, onProgress: ProgressCallback, work: (job: JobContext) => Promise<T>): Promise<T> {
    const token = new CancelToken();
    this.jobs.set(jobId, token);
    return this.exclusive(async () => {
      const job = jobContext(throttled(onProgress), token);
      job.throwIfCancelled(); // cancelled while it waited in the queue
      const result = await work(job);
      if (token.cancelled) throw new CancelledError();
      return result;
    }).finally(() => this.jobs.delete(jobId));
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }

  private requireBench(): Workbench {
    if (!this.bench) throw new QbenchError('no model is open');
    return this.bench;
  }
}
