import type { CalibrationSettings, TensorOverride } from '../src/core/calib/Calibration';
import { exportTable, type TableKind } from '../src/core/export/tables';
import { parseCaliTable } from '../src/core/io/caliTable';
import { inSharedMemory } from './sharedSamples';
import { decodeImageFile, loadDataset, type DatasetFile, type ImagePreprocess } from '../src/core/io/dataset/loadDataset';
import { imageInputShape } from '../src/core/io/dataset/images';
import { previewImage } from '../src/core/io/dataset/preview';
import { checkLimit, DEFAULT_LIMITS, type Limits } from '../src/core/io/limits';
import type { DatasetSummary } from '../src/core/io/dataset/Dataset';
import { parseOneConfig } from '../src/core/io/oneConfig';
import { entriesOnOperators } from '../src/core/quant/layerInfo';
import { parseQTable } from '../src/core/io/qtable';
import { QbenchError } from '../src/core/errors';
import { labelsFromFolders, parseLabels } from '../src/core/metrics/outputScoring';
import type { OutputTask } from '../src/core/metrics/tasks';
import type { JobContext } from '../src/core/jobs/Job';
import type { Evaluation } from '../src/core/model/Evaluation';
import type { QTable } from '../src/core/model/QTable';
import { weightBytes } from '../src/core/quant/modelSize';
import { targetScheme, type TargetScheme } from '../src/core/quant/schemes';
import { weightReport } from '../src/core/quant/weightReport';
import type { WeightOptions } from '../src/core/quant/WeightOptions';
import type { SearchRequest } from '../src/core/search/SearchRequest';
import type { JobEvent } from '../src/core/jobs/JobEvent';
import type { EvaluationDepth } from '../src/core/sim/Simulator';
import { bestThresholdMethod, Workbench, type Corrections } from '../src/core/Workbench';
import { readSource, summaryOf, tableKind, type EngineKind, type FileSource, type ImportedTable, type JobHost, type OpenOptions } from './jobSupport';

/**
 * Every job the page can ask of its compute worker (issue #10: one bridge): the name, what it takes
 * and what it does with the workbench. WorkbenchService.run(name, args) runs any of them with
 * progress, cancel and one engine job at a time; the page calls `run` through workers/client.ts;
 * the CLI calls the Workbench directly. QTables cross as they are (structured clone keeps a Map).
 */
export const JOBS = {
  async openModel(service: JobHost, { source, engineKind, options = {}, limits = DEFAULT_LIMITS }: { source: FileSource; engineKind: EngineKind; options?: OpenOptions; limits?: Limits }) {
    const started = performance.now();
    // A dropped file's size is known before a byte of it is read.
    const size = source.file?.size ?? source.bytes?.length;
    if (size !== undefined) checkLimit(limits, 'modelBytes', size, "the model file's size", source.name);
    const bytes = await readSource(source);
    const engine = await service.engines[engineKind]();
    // With WebGPU, float passes run on the GPU and quantized models on WASM (Workbench.quantizedEngine).
    const quantizedEngine = engineKind === 'webgpu' ? await service.engines.wasm() : engine;
    const bench = await Workbench.open(engine, bytes, source.name, { dequantize: options.dequantize === true, limits, quantizedEngine });
    // ?what_if=whole: every edit runs the whole model, as before issue #15 (the benchmark's "before").
    if (wholeWhatIfRequested()) bench.setWholeWhatIf(true);
    await service.bench?.dispose();
    service.searchPools?.close();
    service.searchPools?.setRunTimeLimit(limits.runSeconds);
    service.bench = bench;
    const pools = service.searchPools;
    // The pool's workers run WASM, where quantized models run with either engine.
    if (pools) bench.setSearchPools((ctx) => pools.poolFor(ctx), { outputsOnPool: true });
    return summaryOf(bench, started);
  },

  async loadDataset(service: JobHost, { sources, preprocess, limits = DEFAULT_LIMITS }: { sources: readonly FileSource[]; preprocess: ImagePreprocess; limits?: Limits }): Promise<DatasetSummary> {
    const bench = service.requireBench();
    // A dropped .h5 stays a File: h5wasm mounts it in this worker instead of copying it.
    const files = await Promise.all(sources.map(async (s): Promise<DatasetFile> => (s.file && /\.(h5|hdf5)$/i.test(s.name) ? { name: s.name, blob: s.file } : { name: s.name, bytes: await readSource(s) })));
    const dataset = inSharedMemory(await loadDataset(files, bench.graph.inputs, preprocess, service.imageDecoder, limits));
    bench.setDataset(dataset);
    const first = dataset.samples[0];
    return {
      sampleCount: dataset.samples.length,
      sampleNames: dataset.sampleNames,
      inputs: Object.entries(first).map(([name, t]) => ({ name, dims: [...t.dims], dtype: t.dtype })),
      source: sources.length === 1 ? sources[0].name : `${sources.length} files`,
    };
  },

  /** One image as the open model would receive it under `preprocess` (the Data tab's preview): the very code calibration reads images with. */
  async previewPreprocess(service: JobHost, { source, preprocess, limits = DEFAULT_LIMITS }: { source: FileSource; preprocess: ImagePreprocess; limits?: Limits }) {
    const input = service.requireBench().graph.inputs[0];
    const shape = imageInputShape(input, preprocess, limits, source.name);
    const image = await decodeImageFile(service.imageDecoder, { name: source.name, bytes: await readSource(source) }, limits);
    return { sampleName: source.name, ...previewImage(image, shape, preprocess) };
  },

  async setScheme(service: JobHost, { scheme }: { scheme: TargetScheme['id'] }) {
    service.requireBench().setScheme(targetScheme(scheme));
  },

  /** Applies settings; says whether calibration must run again (what is observed changed). */
  async setCalibrationSettings(service: JobHost, { settings }: { settings: Partial<CalibrationSettings> }) {
    const bench = service.requireBench();
    const result = bench.setCalibrationSettings(settings);
    if (!result.needsCalibration) await bench.ensureEvaluation();
    return { ...result, summary: bench.calibrated ? bench.summary() : null };
  },

  async setWeightOptions(service: JobHost, { options }: { options: Partial<WeightOptions> }) {
    service.requireBench().setWeightOptions(options);
  },

  /** Exactly these per-tensor overrides (the page's edits of them, Undo and reset go through here). */
  async replaceTensorOverrides(service: JobHost, { overrides }: { overrides: readonly (readonly [string, TensorOverride])[] }) {
    const bench = service.requireBench();
    bench.replaceTensorOverrides(overrides);
    // Undo may come while a new calibration runs: the overrides hold for it, the summary comes with it.
    return bench.calibrated ? bench.summary() : null;
  },

  async tensorCalibration(service: JobHost, { tensor }: { tensor: string }) {
    return service.requireBench().tensorCalibration(tensor);
  },

  async weightReport(service: JobHost, { layer, qtable }: { layer: string; qtable: QTable }) {
    const bench = service.requireBench();
    return weightReport(bench.model, bench.graph.nodes.find((n) => n.name === layer)!, qtable, bench.weightOptions);
  },

  /** Bytes of the weights under a QTable (the Pareto view's x axis). */
  async weightBytes(service: JobHost, { qtable }: { qtable: QTable }) {
    const bench = service.requireBench();
    return weightBytes(bench.model, bench.layers, qtable, bench.scheme);
  },

  /** search_threshold, and its best method put in force (the page shows the method it chose). */
  async searchThreshold(service: JobHost, _args: Record<string, never>, job: JobContext) {
    const bench = service.requireBench();
    const rows = await bench.searchThreshold(job);
    bench.setCalibrationSettings({ method: bestThresholdMethod(rows) });
    return { rows, summary: bench.summary() };
  },

  /** Each output's task (detected, or the user's choice) and how it is read (issue #11). */
  async taskSpecs(service: JobHost, _args: Record<string, never>, job: JobContext) {
    return service.requireBench().taskSpecs(job);
  },

  /** Scores an output as `task` (null: as detected); refused by name when its shape cannot hold it. */
  async setOutputTask(service: JobHost, { output, task }: { output: string; task: OutputTask | null }, job: JobContext) {
    return service.requireBench().setOutputTask(output, task, job);
  },

  /**
   * The samples' true classes: from a dropped labels file ("<sample> <class>" per line), or from
   * the class folders the samples came from; null forgets them. Returns how many samples have one.
   */
  async setLabels(service: JobHost, { source, folders }: { source?: FileSource; folders?: boolean }) {
    const bench = service.requireBench();
    const names = bench.sampleNames;
    let labels: ReadonlyMap<string, number> | null = null;
    if (source) labels = parseLabels(new TextDecoder().decode(await readSource(source)), names, source.name);
    else if (folders) {
      labels = labelsFromFolders(names);
      if (!labels) throw new QbenchError('the samples have no class folders: drop a folder of class folders (data/<class>/<image>), or a labels file', 'labels');
    }
    bench.setLabels(labels);
    return { labelled: labels ? names.filter((n) => labels.has(n) || labels.has(n.split(/[\\/]/).pop() ?? n)).length : 0, samples: names.length };
  },

  /**
   * A table the user drops on the workbench, recognised by its content: a TPU-MLIR qtable (two fields
   * a line) sets precisions, ONE's layer configuration (JSON) sets INT16 layers, a TPU-MLIR cali_table
   * (four fields a line) replaces the calibrated thresholds of the tensors it names.
   */
  async importTable(service: JobHost, { source }: { source: FileSource }): Promise<ImportedTable> {
    const bench = service.requireBench();
    const text = new TextDecoder().decode(await readSource(source));
    const kind = tableKind(text);
    if (kind === 'qtable') {
      const parsed = parseQTable(text, source.name, bench.graph.nodes);
      // A .tflite/.circle model's QTable names the file's operators (entriesOnOperators).
      return { kind, qtable: entriesOnOperators(parsed.table, bench.layers), unknownNames: [...parsed.unknownLayers] };
    }
    if (kind === 'one_config') {
      const parsed = parseOneConfig(text, source.name, bench.graph.nodes);
      return { kind, qtable: entriesOnOperators(parsed.table, bench.layers), unknownNames: parsed.unknownLayers };
    }
    const parsed = parseCaliTable(text, source.name, bench.graph.nodes);
    bench.setImportedTable(parsed.table);
    return { kind, summary: bench.summary(), unknownNames: parsed.unknownTensors };
  },

  /** One of the tables qbench writes (cali_table, ONE config, visq, Bolt, Model Explorer, AI Edge recipe, record-minmax's .circle). */
  async exportTable(service: JobHost, { kind, qtable, evaluation }: { kind: TableKind; qtable: QTable; evaluation: Evaluation | null }) {
    const bench = service.requireBench();
    return exportTable(kind, { model: bench.model, graph: bench.graph, caliTable: bench.caliTable(), sourceFile: bench.sourceFile }, qtable, evaluation);
  },

  /** Calibrates; bias correction, when on, is measured for `qtable`. */
  async calibrate(service: JobHost, { qtable }: { qtable: QTable }, job: JobContext) {
    return service.requireBench().calibrate(job, qtable);
  },

  /**
   * Puts corrections in force and measures them on `qtable`. When BN folding changed the graph, the
   * new model comes back too (its layers are what the page shows and edits).
   */
  async setCorrections(service: JobHost, { corrections, qtable }: { corrections: Corrections; qtable: QTable }, job: JobContext) {
    const bench = service.requireBench();
    const started = performance.now();
    const report = await bench.setCorrections(corrections, qtable, job);
    const model = report.graphChanged ? summaryOf(bench, started) : null;
    return { report, summary: bench.summary(), model };
  },

  /**
   * `firstSamples` with `streamFirst`: one pass over every sample, the first samples' figure sent as
   * a 'preliminary' event as soon as it is known (the page's what-if); without `streamFirst`, the
   * first samples' figure only.
   */
  async evaluate(service: JobHost, { qtable, depth, firstSamples, streamFirst }: { qtable: QTable; depth: EvaluationDepth; firstSamples?: number; streamFirst?: boolean }, job: JobContext, onEvent: (event: JobEvent) => void) {
    if (firstSamples === undefined) return service.requireBench().evaluate(qtable, depth, job);
    return service.requireBench().evaluate(qtable, depth, job, streamFirst ? { firstSamples, onPreliminary: (evaluation) => onEvent({ type: 'preliminary', evaluation }) } : { firstSamples });
  },

  /** Each layer's local error under `qtable` (the page asks after the accumulated ones). */
  async evaluateLocal(service: JobHost, { qtable }: { qtable: QTable }, job: JobContext) {
    return service.requireBench().localErrors(qtable, job);
  },

  /** Observes the tensors calibration left out, which a later edit may need (the page asks once the figures are in); how many. */
  async calibrateRemaining(service: JobHost, _args: Record<string, never>, job: JobContext) {
    return service.requireBench().calibrateRemainingTensors(job);
  },

  /** The output gain of setting one layer to FP32 under `qtable` (two outputs evaluations). */
  async measureFloatGain(service: JobHost, { qtable, layer }: { qtable: QTable; layer: string }, job: JobContext) {
    return service.requireBench().floatGain(qtable, layer, job);
  },

  /** Evaluation sample `index` in float and quantized under `qtable`, read for the output viewer (one inference). */
  async sampleOutputs(service: JobHost, { qtable, index, channelOrder }: { qtable: QTable; index: number; channelOrder: 'rgb' | 'bgr' }, job: JobContext) {
    return service.requireBench().sampleOutputs(qtable, index, { channelOrder }, job);
  },

  /**
   * The output error of the file's own quantized model against the de-quantized float model, on the
   * evaluation samples; null unless the model was opened de-quantized.
   */
  async measureQuantizedOriginal(service: JobHost, _args: Record<string, never>, job: JobContext) {
    return service.requireBench().measureQuantizedOriginal(job);
  },

  async exportQdq(service: JobHost, { qtable }: { qtable: QTable }, job: JobContext) {
    return service.requireBench().exportVerifiedQdq(qtable, job);
  },

  /** Float inference time over the calibration samples, and what calibration keeps in memory. */
  async measureFloatInference(service: JobHost, _args: Record<string, never>, job: JobContext) {
    const bench = service.requireBench();
    const result = await bench.measureFloatInference(job);
    return { ...result, calibrationBytes: bench.calibrated ? bench.calibrationFootprint() : null };
  },

  /**
   * A mixed-precision search on the pool of search workers; `onEvent` streams each unit's
   * sensitivity, each configuration scored and each log line as they come.
   */
  async search(service: JobHost, { request }: { request: SearchRequest }, job: JobContext, onEvent: (event: JobEvent) => void) {
    return service.requireBench().search(request, job, onEvent);
  },
};

export type JobName = keyof typeof JOBS;

/** The jobs that run the engine over the data (what the job bar shows with progress). */
export const ENGINE_JOBS: ReadonlySet<JobName> = new Set<JobName>(['taskSpecs', 'setOutputTask', 'calibrate', 'setCorrections', 'evaluate', 'measureQuantizedOriginal', 'exportQdq', 'measureFloatInference', 'search', 'searchThreshold', 'evaluateLocal', 'measureFloatGain', 'calibrateRemaining']);
export type JobArgs<N extends JobName> = Parameters<(typeof JOBS)[N]>[1];
export type JobResult<N extends JobName> = Awaited<ReturnType<(typeof JOBS)[N]>>;

/** The page's ?what_if=whole, passed in the compute worker's name (workers/client.ts). */
export function wholeWhatIfRequested(): boolean {
  return typeof self !== 'undefined' && typeof (self as { name?: unknown }).name === 'string' && (self as unknown as { name: string }).name.includes('what_if=whole');
}
