import { activeCaliTable, calibrateModel, DEFAULT_CALIBRATION, type CalibrationResult, type CalibrationSettings, type TensorOverride } from './calib/Calibration';
import type { CaliEntry, CaliTable, CalibrationMethod } from './model/CaliTable';
import { CALIBRATION_METHODS } from './model/CaliTable';
import type { TensorStatistics } from './calib/TensorStatistics';
import type { Engine, ValueInfo } from './engine/Engine';
import { DataError, QbenchError, withFileName } from './errors';
import { measureExportedModel, type ExportVerification } from './export/verifyExport';
import type { Dataset } from './io/dataset/Dataset';
import { validateDataset } from './io/dataset/validate';
import { OnnxModel, readOnnx } from './io/onnx/OnnxModel';
import { refuseLongLoops } from './io/onnx/loopLimits';
import { DEFAULT_LIMITS, type Limits } from './io/limits';
import { quantizedForm } from './io/onnx/quantizedForm';
import { dequantizeModel } from './io/onnx/dequantizeIntegerOps';
import { flatFormatOf, readFlatbufferModel } from './io/tflite/readFlatbufferModel';
import { dequantizedNote, findModel, type ModelFindings } from './quant/modelFindings';
import { onnx } from './io/onnx/protobuf';
import { silentJob, type JobContext } from './jobs/Job';
import type { LayerName, ModelGraph } from './model/ModelGraph';
import type { TensorMap } from './model/tensor';
import { DEFAULT_WEIGHT_OPTIONS, type WeightOptions } from './quant/WeightOptions';
import { MissingCalibrationError } from './errors';
import { type QuantizationContext } from './quant/QuantizationContext';
import type { ErrorMetrics } from './metrics/similarity';
import { biasCorrection, correctFloatModel, tuneThresholds } from './corrections';
import { describeLayers, qtableLayer, type LayerInfo } from './quant/layerInfo';
import { flatbufferOrigins } from './export/flatbufferExports';
import { ALL_INT8, qtableFromData, sameQTable, type Precision, type QTable } from './model/QTable';
import { TARGET_SCHEMES, type TargetScheme } from './quant/schemes';
import type { Evaluation, FloatGain, LocalErrors } from './model/Evaluation';
import { localErrorsFromSums, measureLocalErrors } from './sim/localErrors';
import { measureFloatGain } from './sim/floatGain';
import { effectivePrecision } from './quant/schemes';
import type { SearchContext } from './search/SearchContext';
import { floatActivations } from './search/scoring/boundaries';
import { runSearch } from './search/runSearch';
import { LocalRunnerPort, SearchPool } from './search/pool/SearchPool';
import type { SearchRequest } from './search/SearchRequest';
import { SearchRunner } from './search/pool/SearchRunner';
import type { SearchEvent, SearchResult } from './search/SearchSession';
import { Simulator, type EvaluationDepth } from './sim/Simulator';
import { RecentEvaluations } from './sim/RecentEvaluations';
import { disposeWhatIfRunners, keptBytes, whatIfRunners, type IncrementalOutputs, type WhatIfRunners } from './sim/incremental/IncrementalOutputs';
import { derived } from './session/memo';
import { valueRanges, type OutputPart, type OutputScoring } from './metrics/outputParts';
import { outputScoring, sampleLabels } from './metrics/outputScoring';
import type { OutputTask, TaskSpec } from './metrics/tasks';
import { floatModelKey, NO_CORRECTIONS, NO_EFFECTS, type CorrectionEffects, type CorrectionReport, type Corrections } from './corrections/CorrectionState';
import { flagOutlierMethods, type CalibrationSummary, type TensorCalibrationView, type ThresholdSearchRow } from './session/views';
import { evaluateLayersOnPool, evaluateOutputsOnPool } from './search/pool/evaluateOnPool';
import { activationTensors, calibratedTensors } from './calib/calibratedTensors';
import { statisticsBytes } from './calib/statisticsBytes';
import { clippingWarnings } from './calib/clippingWarnings';
import type { QuantWarning } from './metrics/collapseWarnings';
import { timeFloatInference } from './engine/timeFloatInference';
import type { SessionState } from './session/SessionState';
import { inferTensorTypes } from './engine/tensorTypes';
import { buildSampleOutputs } from './sim/sampleView/buildSampleOutputs';
import type { SampleOutputs } from './sim/sampleView/SampleOutputs';

export { NO_CORRECTIONS, type CorrectionEffects, type CorrectionReport, type Corrections } from './corrections/CorrectionState';
export { bestThresholdMethod, flagOutlierMethods, type CalibrationSummary, type TensorCalibrationView, type ThresholdSearchRow } from './session/views';

/** Which what-if runner: the outputs, the accumulated errors' probe, the local errors' probe. */
type WhatIfKind = keyof WhatIfRunners;

/**
 * One model and its dataset, calibrated and evaluated: the core job that the worker (for the page)
 * and the CLI both wrap. Holds the heavy data (weights, samples, statistics, sessions); hands out
 * plain data.
 */
export class Workbench {
  /** The session as data (issue #10): every edit replaces it; the values below are derived from it. */
  private state: SessionState;
  /** The corrections in force (docs/algorithms.md §6, TPU-MLIR's threshold tuning) and what they did. */
  private correctionState: { readonly corrections: Corrections; readonly effects: CorrectionEffects } = { corrections: NO_CORRECTIONS, effects: NO_EFFECTS };

  /** The cali table in use: the method's entries, overridden per tensor, by an imported table, by tuning. */
  private readonly activeCali = derived((calibration: CalibrationResult, method: CalibrationMethod, overrides: SessionState['overrides'], imported: CaliTable | null, tuned: SessionState['tuned']) =>
    activeCaliTable(calibration, method, overrides, imported, method === 'kl' ? tuned : null));
  /** How outputs are scored (parts, tasks, labels), from the float outputs of the evaluation samples. */
  private readonly scoringOf = derived((model: OnnxModel, types: SessionState['types'], evaluation: NonNullable<SessionState['evaluation']>, taskOverrides: SessionState['taskOverrides'], labels: SessionState['labels']) =>
    outputScoring(model.graph, types, evaluation.outputs, taskOverrides, sampleLabels(evaluation.samples.sampleNames, labels)));
  /** The simulator of the state's model, cali table, scheme and evaluation samples; a replaced one releases its sessions. */
  private readonly simulatorOf = derived(
    (model: OnnxModel, layers: SessionState['layers'], types: SessionState['types'], cali: Map<string, CaliEntry>, scheme: TargetScheme, weights: WeightOptions, evaluation: NonNullable<SessionState['evaluation']>, biasShifts: SessionState['biasShifts'], scoring: OutputScoring) =>
      new Simulator({ engine: this.quantizedEngine, model, layers, types, cali, scheme, weights, samples: evaluation.samples, floatOutputs: evaluation.outputs, scoring, incremental: this.incrementalOf(evaluation.samples, this.wholeWhatIf), ...(biasShifts ? { biasShifts } : {}) }),
    (old) => void old.dispose(),
  );
  /**
   * What-if outputs computed incrementally (sim/incremental): kept across simulators while the
   * evaluation samples stay, so an edit of a threshold or a method (a new cali table, a new
   * simulator) also runs only what it changed. Values are matched by what computes them, so a new
   * model (corrections) or a new table never reuses a stale one.
   */
  private readonly incrementalOf = derived(
    (samples: Dataset, whole: boolean) => whatIfRunners(this.quantizedEngine, this.original.fileName, samples.samples, { enabled: !whole }),
    (old) => void disposeWhatIfRunners(old),
  );
  /** True: every what-if runs the whole model on every sample, as before issue #15 (the benchmark's "before"). */
  private wholeWhatIf = false;

  setWholeWhatIf(whole: boolean): void {
    this.wholeWhatIf = whole;
    this.recentEvaluations.clear();
    this.simulatorOf.clear();
  }
  /** What searches score with (without extra compared tensors): the same object while nothing it holds changes, so pools keep it. */
  private readonly searchBase = derived(
    (model: OnnxModel, layers: SessionState['layers'], types: SessionState['types'], scheme: TargetScheme, weights: WeightOptions, biasShifts: SessionState['biasShifts'], cali: Map<string, CaliEntry>, calibration: CalibrationResult, evaluation: NonNullable<SessionState['evaluation']>, scoring: OutputScoring, wholeWhatIf: boolean): SearchContext => ({
      model, layers, types, scheme, weights, ...(biasShifts ? { biasShifts } : {}), cali,
      methodTables: new Map(CALIBRATION_METHODS.filter((m) => calibration.collected(m)).map((m) => [m, calibration.entries(m)] as const)),
      samples: evaluation.samples, references: evaluation.outputs, scoring,
      samplesKey: samplesKeyOf(evaluation.samples), ...(wholeWhatIf ? { wholeWhatIf } : {}),
    }));
  /** The search context with the float values of extra compared tensors, for the last set asked for. */
  private searchWithExtra?: { readonly base: SearchContext; readonly key: string; readonly ctx: SearchContext };

  /** Where searches (and, in the page, 'outputs' evaluations) run: this engine alone unless setSearchPools says otherwise. */
  private searchPools: (ctx: SearchContext) => Promise<SearchPool> = async (ctx) => new SearchPool([new LocalRunnerPort(new SearchRunner(ctx, this.quantizedEngine))]);
  private outputsOnPool = false;

  /**
   * Where quantized models run (the simulation, searches, the export's check): `engine` unless
   * open() was given another. The page with WebGPU gives WASM here: onnxruntime-web's WebGPU has no
   * int8 kernels (a QDQ model would run its quantized groups on the CPU anyway, with copies between),
   * so WebGPU takes the float passes (calibration, float references) and WASM the quantized ones.
   */
  readonly quantizedEngine: Engine;

  /**
   * Where the calibration's statistics pass runs: the float engine unless open() was given another
   * (the CLI gives one of several threads, cli/engineLanes.ts, whose runs overlap the main thread's
   * bookkeeping of each sample's statistics).
   */
  private readonly statisticsEngine: Engine;

  private constructor(
    /** Where float models run (calibration, float references, corrections). */
    readonly engine: Engine,
    /** The model as read from the file. */
    readonly original: OnnxModel,
    private readonly originalTypes: ReadonlyMap<string, ValueInfo>,
    quantizedEngine?: Engine,
    statisticsEngine?: Engine,
  ) {
    this.quantizedEngine = quantizedEngine ?? engine;
    this.statisticsEngine = statisticsEngine ?? engine;
    this.state = {
      model: original, types: originalTypes, layers: describeLayers(original.graph, originalTypes, flatbufferOrigins(original.proto)?.origin),
      floatModelKey: floatModelKey(NO_CORRECTIONS, 0), datasetVersion: 0,
      settings: DEFAULT_CALIBRATION, scheme: TARGET_SCHEMES['ort-qdq'], weights: DEFAULT_WEIGHT_OPTIONS,
      overrides: new Map(), imported: null, tuned: null, biasShifts: null, taskOverrides: new Map(), labels: null,
    };
  }

  /** The model being quantized: the file's model after the float corrections (BN folding, CLE, SmoothQuant). */
  get model(): OnnxModel {
    return this.state.model;
  }

  get types(): ReadonlyMap<string, ValueInfo> {
    return this.state.types;
  }

  get layers(): ReadonlyMap<LayerName, LayerInfo> {
    return this.state.layers;
  }

  get settings(): CalibrationSettings {
    return this.state.settings;
  }

  get scheme(): TargetScheme {
    return this.state.scheme;
  }

  get weightOptions(): WeightOptions {
    return this.state.weights;
  }

  get corrections(): Corrections {
    return this.correctionState.corrections;
  }

  /**
   * Where searches run (the CLI: Node worker threads; the page: a Web Worker per core) and whether
   * 'outputs' evaluations run there too (the page's what-if: one engine per core instead of one).
   */
  setSearchPools(pools: (ctx: SearchContext) => Promise<SearchPool>, options: { readonly outputsOnPool?: boolean } = {}): void {
    this.searchPools = pools;
    this.outputsOnPool = options.outputsOnPool ?? false;
  }

  /** How many times each derived value was computed (tests: an edit recomputes exactly what depends on it). */
  derivedBuilds(): { readonly caliTable: number; readonly simulator: number; readonly searchContext: number } {
    return { caliTable: this.activeCali.builds, simulator: this.simulatorOf.builds, searchContext: this.searchBase.builds };
  }

  private update(changes: Partial<SessionState>): void {
    this.state = { ...this.state, ...changes };
  }

  /** The cali table in use, or undefined before calibration. */
  private get cali(): Map<string, CaliEntry> | undefined {
    const { calibration, settings, overrides, imported, tuned } = this.state;
    return calibration ? this.activeCali(calibration, settings.method, overrides, imported, tuned) : undefined;
  }

  /** The simulator, or undefined before calibration and evaluation samples. */
  private get simulator(): Simulator | undefined {
    const { model, layers, types, scheme, weights, evaluation, biasShifts } = this.state;
    const cali = this.cali;
    return cali && evaluation ? this.simulatorOf(model, layers, types, cali, scheme, weights, evaluation, biasShifts, this.scoringOf(model, types, evaluation, this.state.taskOverrides, this.state.labels)) : undefined;
  }

  /**
   * Reads the model and checks that the engine can run it (every problem names the file).
   * `dequantize`: the file is a quantized model (QDQ, QOperator or dynamic); open the float model it
   * was made from instead, with the ranges of its quantizers imported as the calibration (issue #9;
   * dynamic quantization has none).
   */
  static async open(engine: Engine, bytes: Uint8Array, fileName: string, options: { readonly dequantize?: boolean; readonly limits?: Pick<Limits, 'loopTrips'>; readonly quantizedEngine?: Engine; readonly statisticsEngine?: Engine } = {}): Promise<Workbench> {
    // A .tflite or .circle, told by its file identifier and not its name, is converted to ONNX
    // first (issue #14); a quantized one opens as float with its own scales as the calibration.
    const flat = flatFormatOf(bytes) ? readFlatbufferModel(bytes, fileName) : null;
    let model = readOnnx(flat ? flat.float : bytes, fileName);
    // Before any engine session: a Loop declaring 2^40 iterations would never come back.
    refuseLongLoops(model.proto, fileName, options.limits ?? DEFAULT_LIMITS);
    let dequantized: { readonly ranges: ReadonlyMap<string, CaliEntry>; readonly original: Uint8Array; readonly note: string; readonly floatLayers: readonly string[] | null } | null = null;
    if (flat?.quantized) dequantized = { ranges: flat.ranges, original: flat.quantized, note: flat.note, floatLayers: null };
    else if (options.dequantize && !flat) {
      const form = quantizedForm(model.graph.nodes);
      if (!form) throw new QbenchError('the model is not quantized: there is nothing to de-quantize', fileName);
      const result = dequantizeModel(model.proto, form.form, fileName);
      model = readOnnx(onnx.ModelProto.encode(result.result.proto).finish(), fileName);
      dequantized = { ranges: result.result.ranges, original: bytes, note: dequantizedNote(result), floatLayers: result.form === 'qdq' ? null : result.result.floatLayers };
    }
    const types = await inferTensorTypes(model, engine);
    const bench = new Workbench(engine, model, types, options.quantizedEngine, options.statisticsEngine);
    if (dequantized) {
      bench.quantizedOriginal = dequantized.original;
      if (dequantized.floatLayers) bench.fileQTable = { defaultPrecision: 'INT8', layers: new Map(dequantized.floatLayers.filter((l) => bench.layers.has(l)).map((l) => [l, 'FP32'])) };
      bench.dequantizedNote = dequantized.note;
      if (dequantized.ranges.size) bench.setImportedTable({ entries: new Map([...dequantized.ranges].filter(([tensor]) => types.has(tensor))) });
    } else if (flat) {
      bench.dequantizedNote = flat.note;
    }
    if (flat) {
      bench.sourceFile = { bytes, fileName };
      // A quantized file's own precisions (int16 activations INT16, float operators FP32), as a QTable to start from.
      const layers = [...flat.precisions].filter(([layer]) => bench.layers.has(layer));
      if (layers.length) bench.fileQTable = { defaultPrecision: 'INT8', layers: new Map(layers) };
    }
    return bench;
  }

  /** The .tflite/.circle the model was converted from, as opened (record-minmax's .circle is written from it); null for an ONNX model. */
  sourceFile: { readonly bytes: Uint8Array; readonly fileName: string } | null = null;

  /** The file's own quantized model, when it was opened de-quantized (to compare a re-quantization with). */
  quantizedOriginal: Uint8Array | null = null;

  /**
   * For a QOperator or dynamic file opened de-quantized: the QTable that quantizes the float model
   * as the file is (INT8, the layers the file computes in float FP32). With the imported ranges it
   * reproduces the file's outputs; null for a QDQ file or a model opened as it is. For a quantized
   * .tflite/.circle: its operators with int16 activations INT16 (a "16x8" file), those it computes
   * in float FP32; null when every operator is int8.
   */
  fileQTable: QTable | null = null;

  private dequantizedNote: string | null = null;

  /** What a user must know before reading any figure: already quantized, nothing quantizable, what stays float. */
  get findings(): ModelFindings {
    const findings = findModel(this.model.graph, this.layers);
    return this.dequantizedNote ? { ...findings, notes: [this.dequantizedNote, ...findings.notes] } : findings;
  }

  /**
   * The output error of the file's own quantized model on the evaluation samples, against the
   * de-quantized float model: the figure a re-quantization is compared with.
   */
  async measureQuantizedOriginal(job: JobContext): Promise<ErrorMetrics | null> {
    if (!this.quantizedOriginal) return null;
    await this.ensureEvaluation(job);
    const evaluation = this.state.evaluation!;
    return (await measureExportedModel(this.quantizedEngine, this.quantizedOriginal, `${this.model.fileName} (as quantized in the file)`, evaluation.samples, [...evaluation.outputs], job, this.scoring())).output;
  }

  /**
   * Puts a set of corrections in force and measures what they do to the output similarity of
   * `qtable`. A change of the float corrections makes a new float model and calibrates it again; a
   * change of tuning or bias correction reuses the calibration.
   */
  async setCorrections(next: Corrections, qtable: QTable, job: JobContext): Promise<CorrectionReport> {
    if (!(Number.isInteger(next.tuneNum) && next.tuneNum >= 1)) throw new QbenchError(`tune_num must be a positive integer, got ${next.tuneNum}`);
    if (!(next.minLayerCos >= -1 && next.minLayerCos <= 1)) throw new QbenchError(`min_layer_cos must be in [-1, 1], got ${next.minLayerCos}`);
    if (next.biasSamples !== null && !(Number.isInteger(next.biasSamples) && next.biasSamples >= 1)) throw new QbenchError(`bc_inference_num must be a positive integer, got ${next.biasSamples}`);
    const before = this.calibrated ? (await this.evaluate(qtable, 'outputs', job)).output.cos : null;
    const previous = this.corrections;
    const nodesBefore = this.model.graph.nodes.map((n) => n.name).join('\u0000');
    const restore = this.snapshot();
    this.correctionState = { ...this.correctionState, corrections: next };
    try {
      if (!this.state.calibration || floatModelKey(next, this.state.datasetVersion) !== this.state.floatModelKey) {
        await this.calibrate(job, qtable);
      } else {
        const retune = next.tuneThresholds !== previous.tuneThresholds || next.tuneNum !== previous.tuneNum;
        const biasSettingsChanged = next.minLayerCos !== previous.minLayerCos || next.biasSamples !== previous.biasSamples;
        const rebias = next.biasCorrection !== previous.biasCorrection || (next.biasCorrection && (retune || biasSettingsChanged));
        await this.applyCalibratedCorrections(qtable, job, { retune, rebias });
      }
    } catch (error) {
      // A cancelled or failed change leaves the previous corrections in force, not half of the new ones.
      restore();
      throw error;
    }
    const after = (await this.evaluate(qtable, 'outputs', job)).output.cos;
    return { effects: this.correctionState.effects, outputCos: { before, after }, graphChanged: this.model.graph.nodes.map((n) => n.name).join('\u0000') !== nodesBefore };
  }

  /** Everything a change of corrections replaces, to put back if the change fails or is cancelled: the records as they were. */
  private snapshot(): () => void {
    const { state, correctionState } = this;
    return () => {
      this.state = state;
      this.correctionState = correctionState;
    };
  }

  /** The float model under the float corrections in force (cached: rebuilt only when they or, for SmoothQuant, the data change). */
  private async applyFloatCorrections(job: JobContext): Promise<void> {
    const key = floatModelKey(this.corrections, this.state.datasetVersion);
    if (key === this.state.floatModelKey) return;
    const corrected = await correctFloatModel(this.original, this.corrections, this.engine, this.calibrationSamples(), job);
    const types = corrected.model === this.original ? this.originalTypes : await inferTensorTypes(corrected.model, this.engine);
    this.update({ model: corrected.model, types, layers: describeLayers(corrected.model.graph, types, flatbufferOrigins(corrected.model.proto)?.origin), floatModelKey: key });
    this.correctionState = { ...this.correctionState, effects: { ...this.correctionState.effects, ...corrected.effects } };
  }

  /**
   * Threshold tuning and bias correction, which need the calibration: tuning refines the KL
   * thresholds (when KL was collected); bias correction is measured on the calibration samples for
   * `qtable` and kept only if the output similarity on the evaluation samples does not drop.
   */
  private async applyCalibratedCorrections(qtable: QTable, job: JobContext, what: { retune: boolean; rebias: boolean }): Promise<void> {
    const calibration = this.requireCalibration();
    if (what.retune) {
      let tuned: SessionState['tuned'] = null;
      let tunedTensors: number | null = null;
      if (this.corrections.tuneThresholds && calibration.collected('kl')) {
        const entries = calibration.entries('kl');
        const absmax = new Map([...calibration.statistics].map(([t, st]) => [t, Math.max(Math.abs(st.min), Math.abs(st.max))]));
        const ranges = new Map([...calibration.statistics].map(([t, st]) => [t, { min: st.min, max: st.max }]));
        tuned = await tuneThresholds(this.model, this.engine, this.calibrationSamples(), entries, absmax, { ranges, types: this.types, tuneNum: this.corrections.tuneNum, job });
        tunedTensors = [...tuned].filter(([t, e]) => e.threshold !== entries.get(t)?.threshold).length;
      }
      if (tuned !== this.state.tuned) this.update({ tuned });
      this.correctionState = { ...this.correctionState, effects: { ...this.correctionState.effects, tunedTensors } };
    }
    if (what.rebias) {
      if (this.state.biasShifts !== null) this.update({ biasShifts: null });
      let biasEffect: CorrectionEffects['biasCorrection'] = null;
      if (this.corrections.biasCorrection) {
        const without = (await this.evaluate(qtable, 'outputs', job)).output.cos;
        const samples = this.biasSamples();
        const { minLayerCos } = this.corrections;
        const result = await this.withCompleteCalibration(job, () => biasCorrection(this.context(), qtable, this.engine, samples, { job, minLayerCos }));
        const withoutShifts = this.state;
        this.update({ biasShifts: new Map(result.corrected.map((c) => [c.layer, c.shift])) });
        const withShifts = result.corrected.length ? (await this.evaluate(qtable, 'outputs', job)).output.cos : without;
        const kept = result.corrected.length > 0 && withShifts >= without;
        if (!kept) this.state = withoutShifts;
        biasEffect = { layers: result.corrected.length, kept, before: without, after: withShifts };
      }
      this.correctionState = { ...this.correctionState, effects: { ...this.correctionState.effects, biasCorrection: biasEffect } };
    }
  }

  /** The first bc_inference_num samples (default: the calibration samples). */
  private biasSamples(): Dataset {
    const dataset = this.requireDataset();
    const count = Math.min(dataset.samples.length, this.corrections.biasSamples ?? this.settings.calibrationSamples ?? Infinity);
    return { samples: dataset.samples.slice(0, count), sampleNames: dataset.sampleNames.slice(0, count) };
  }

  private calibrationSamples(): Dataset {
    const dataset = this.requireDataset();
    const count = Math.min(dataset.samples.length, this.settings.calibrationSamples ?? Infinity);
    return { samples: dataset.samples.slice(0, count), sampleNames: dataset.sampleNames.slice(0, count) };
  }

  private context(): QuantizationContext {
    const { model, layers, types, scheme, weights, biasShifts } = this.state;
    return { model, layers, types, cali: this.cali!, scheme, weights, ...(biasShifts ? { biasShifts } : {}) };
  }

  get graph(): ModelGraph {
    return this.model.graph;
  }

  get calibrated(): boolean {
    return this.state.calibration !== undefined;
  }

  /**
   * The evaluation samples and their float outputs, prepared again after a change of how many
   * samples evaluate (setCalibrationSettings cannot wait for the float runs that may take).
   */
  async ensureEvaluation(job: JobContext = silentJob): Promise<void> {
    if (this.state.calibration && !this.state.evaluation) await this.prepareEvaluation(job);
  }

  /** Sets the samples; they are checked against the model's inputs (names, shapes, dtypes, NaN). */
  setDataset(dataset: Dataset): void {
    validateDataset(dataset, this.model.graph.inputs);
    this.update({ dataset, datasetVersion: this.state.datasetVersion + 1, calibration: undefined, evaluation: undefined });
  }

  /** New settings; a change of what is observed needs calibrate() again, a change of method does not. */
  setCalibrationSettings(settings: Partial<CalibrationSettings>): { needsCalibration: boolean } {
    const previous = this.settings;
    const next = { ...previous, ...settings };
    const { calibration } = this.state;
    const needsCalibration = next.histogramBins !== previous.histogramBins || next.valuesPerTensor !== previous.valuesPerTensor
      || next.calibrationSamples !== previous.calibrationSamples || next.collect !== previous.collect
      || (calibration !== undefined && !calibration.collected(next.method));
    const evaluationChanged = next.evaluationSamples !== previous.evaluationSamples;
    // Without calibration there is nothing to evaluate with; a new count of evaluation samples is prepared by ensureEvaluation().
    this.update({ settings: next, ...(needsCalibration ? { calibration: undefined, evaluation: undefined } : evaluationChanged ? { evaluation: undefined } : {}) });
    return { needsCalibration };
  }

  setScheme(scheme: TargetScheme): void {
    if (scheme.id === this.scheme.id) return;
    this.update({ scheme, weights: { ...this.state.weights, granularity: scheme.weightGranularity } });
  }

  setWeightOptions(options: Partial<WeightOptions>): void {
    this.update({ weights: { ...this.state.weights, ...options } });
  }

  /** A tensor's own method or typed threshold (null: back to the model-wide choice). */
  setTensorOverride(tensor: string, override: TensorOverride | null): void {
    this.setTensorOverrides([[tensor, override]]);
  }

  /** Several tensors' overrides at once (one rebuild): run_sensitive_layer's best methods, for one. */
  setTensorOverrides(entries: readonly (readonly [string, TensorOverride | null])[]): void {
    const overrides = new Map(this.state.overrides);
    for (const [tensor, override] of entries) {
      if (override) overrides.set(tensor, override);
      else overrides.delete(tensor);
    }
    this.update({ overrides });
  }

  /**
   * Exactly these overrides in force, every other tensor back to the model-wide choice: what the
   * page's Undo puts back, and its reset (an empty list).
   */
  replaceTensorOverrides(entries: readonly (readonly [string, TensorOverride])[]): void {
    this.update({ overrides: new Map(entries) });
  }

  /** An imported cali_table: its entries replace the method's for the tensors it names. */
  setImportedTable(table: CaliTable | null): void {
    this.update({ imported: table });
  }

  /**
   * The float tensors calibration observes: graph inputs and every float node output that gets a
   * quantizer under the all-INT8 QTable. A tensor fused into its activation (a Conv's output read
   * only by its Relu) is left out: observing it would cost a pass over it and break onnxruntime's
   * Conv+activation fusion, for a range nothing uses. A QTable that un-fuses it later calibrates it
   * then (calibrateRemaining).
   */
  calibratedTensors(): string[] {
    return calibratedTensors(this.model, this.layers, this.types, this.scheme);
  }

  /** Every float tensor that can carry a range: graph inputs and every float node output. */
  activationTensors(): string[] {
    return activationTensors(this.model, this.types);
  }

  /**
   * Calibrates the model under the corrections in force: the float corrections first (they make the
   * model that is calibrated), then the statistics pass, then tuning and bias correction (measured
   * for `qtable`).
   */
  async calibrate(job: JobContext, qtable: QTable = ALL_INT8): Promise<CalibrationSummary> {
    this.requireDataset();
    await this.applyFloatCorrections(job);
    const samples = this.calibrationSamples();
    const positions = new Map<string, number>();
    this.model.graph.nodes.forEach((node, i) => node.outputs.forEach((o) => positions.set(o, i)));
    this.update({ calibration: await calibrateModel(this.statisticsEngine, this.model, this.calibratedTensors(), positions, samples, this.settings, job, this.types), evaluation: undefined });
    await this.prepareEvaluation(job);
    await this.applyCalibratedCorrections(qtable, job, { retune: true, rebias: true });
    return this.summary();
  }

  summary(): CalibrationSummary {
    const calibration = this.requireCalibration();
    return {
      settings: this.settings,
      sampleCount: calibration.sampleCount,
      evaluationSampleCount: this.state.evaluation?.samples.samples.length ?? 0,
      tensorCount: calibration.tensors.length,
      elapsedMs: calibration.elapsedMs,
      table: [...this.cali!],
      overrides: [...this.state.overrides],
      imported: this.state.imported !== null,
      corrections: this.corrections,
      correctionEffects: this.correctionState.effects,
    };
  }

  /** The CaliTable in use (what cali_table export writes). */
  caliTable(): CaliTable {
    const calibration = this.requireCalibration();
    return { entries: new Map(this.cali), sampleCount: calibration.sampleCount, histogramBins: this.settings.histogramBins };
  }

  tensorCalibration(tensor: string): TensorCalibrationView | null {
    const { calibration } = this.state;
    const stats: TensorStatistics | undefined = calibration?.statistics.get(tensor);
    const cali = this.cali;
    if (!calibration || !stats || !cali) return null;
    return {
      tensor,
      min: stats.min,
      max: stats.max,
      histogram: { width: stats.klHistogram.width, counts: Array.from(stats.klHistogram.counts) },
      entries: calibration.allMethods(tensor),
      active: cali.get(tensor)!,
      override: this.state.overrides.get(tensor) ?? null,
    };
  }

  /**
   * `firstSamples` (depth 'outputs'): a preliminary figure from the first few evaluation samples only
   * (marked `preliminary`); the full evaluation that follows does not run them again. With
   * `onPreliminary`, one call gives both: the first samples' figure to `onPreliminary` as soon as it
   * is known, the full evaluation as the result (on the pool, in one pass over the samples).
   */
  async evaluate(qtable: QTable, depth: EvaluationDepth, job: JobContext, options: { readonly firstSamples?: number; readonly onPreliminary?: (evaluation: Evaluation) => void } = {}): Promise<Evaluation> {
    const before = this.wholeWhatIf ? undefined : this.simulator;
    const remembered = before && this.recentEvaluations.find(before, qtable, depth);
    if (remembered) {
      // The pool's runners take it as their last model, in the background (the figure is already
      // known); the next evaluation waits for that.
      if (this.outputsOnPool) this.pendingNote = this.pendingNote.then(() => this.noteOnPool(qtable, depth)).catch(() => {});
      return remembered;
    }
    await this.pendingNote;
    const evaluation = await this.evaluateAnew(qtable, depth, job, options);
    // Under the simulator it was made with (calibrating the tensors it needed makes a new one).
    const after = this.wholeWhatIf ? undefined : this.simulator;
    if (after) this.recentEvaluations.store(after, qtable, depth, evaluation);
    return evaluation;
  }

  /**
   * Figures of the last QTables evaluated under the current simulator: an undo or a return to an
   * earlier table answers from memory (RecentEvaluations). Not in the benchmark's "before" mode,
   * which measures every edit run whole.
   */
  private readonly recentEvaluations = new RecentEvaluations<Simulator>();
  /** The runners' note of the last evaluation answered from memory (noteOnPool). */
  private pendingNote: Promise<void> = Promise.resolve();

  private evaluateAnew(qtable: QTable, depth: EvaluationDepth, job: JobContext, { firstSamples, onPreliminary }: { readonly firstSamples?: number; readonly onPreliminary?: (evaluation: Evaluation) => void }): Promise<Evaluation> {
    if (depth === 'outputs' && onPreliminary && firstSamples !== undefined && !this.outputsOnPool) {
      return this.evaluateAnew(qtable, depth, job, { firstSamples }).then((first) => {
        if (first.preliminary) onPreliminary(first);
        return this.evaluateAnew(qtable, depth, job, {});
      });
    }
    if (depth === 'outputs' && this.outputsOnPool) {
      return this.withCompleteCalibration(job, async () => {
        const evaluation = await this.evaluateOutputsOnPool(qtable, job, firstSamples, onPreliminary);
        if (!evaluation.preliminary) this.lastPoolOutputs = { simulator: this.simulator, evaluation };
        return evaluation;
      });
    }
    if (depth === 'layers' && this.outputsOnPool && this.requireSimulator().probesInOneModel) {
      return this.withCompleteCalibration(job, async () => {
        const simulator = this.requireSimulator();
        const known = this.lastPoolOutputs?.simulator === simulator && sameQTable(qtableFromData(this.lastPoolOutputs.evaluation.qtable), qtable) ? this.lastPoolOutputs.evaluation : undefined;
        const outputs = known ?? await this.evaluateOutputsOnPool(qtable, job);
        if (!known) this.lastPoolOutputs = { simulator, evaluation: outputs };
        const ctx = await this.searchContext([], job);
        return evaluateLayersOnPool(await this.searchPools(ctx), ctx, qtable, outputs, job);
      });
    }
    return this.withCompleteCalibration(job, () => {
      const simulator = this.requireSimulator();
      if (depth === 'outputs' && firstSamples !== undefined) return simulator.evaluateFirstSamples(qtable, firstSamples, job);
      // The outputs the pool measured for this simulator's QTable need not run again for the heatmap.
      const known = this.lastPoolOutputs?.simulator === simulator ? this.lastPoolOutputs.evaluation : undefined;
      return simulator.evaluate(qtable, depth, job, known);
    });
  }

  /** The last 'outputs' evaluation made on the pool, and the simulator (calibration) it belongs to. */
  private lastPoolOutputs?: { readonly simulator: Simulator | undefined; readonly evaluation: Evaluation };

  /** An evaluation answered from memory: the pool's what-if runners of that depth take its QTable as the last one run (SearchRunner.noteQTable). */
  private async noteOnPool(qtable: QTable, depth: EvaluationDepth): Promise<void> {
    if (depth === 'layers' && !this.requireSimulator().probesInOneModel) return;
    const ctx = await this.searchContext([], silentJob);
    await (await this.searchPools(ctx)).noteQTable(qtable, depth);
  }

  /** The 'outputs' evaluation on the search pool's runners (evaluateOutputsOnPool). */
  private async evaluateOutputsOnPool(qtable: QTable, job: JobContext, firstSamples?: number, onPreliminary?: (evaluation: Evaluation) => void): Promise<Evaluation> {
    this.requireSimulator();
    const ctx = await this.searchContext([], job);
    return evaluateOutputsOnPool(await this.searchPools(ctx), ctx, qtable, job, firstSamples, onPreliminary);
  }

  /**
   * Runs `work`; if it needs a tensor calibration did not observe, observes every remaining float
   * tensor in one more pass over the calibration samples and runs it again.
   */
  private async withCompleteCalibration<T>(job: JobContext, work: () => Promise<T>): Promise<T> {
    await this.ensureEvaluation(job);
    try {
      return await work();
    } catch (error) {
      // From a pool worker the error arrives as a plain Error that kept its name.
      if (!(error instanceof MissingCalibrationError) && (error as Error)?.name !== 'MissingCalibrationError') throw error;
      await this.calibrateRemaining(job);
      return work();
    }
  }

  /**
   * Observes, in one pass over the calibration samples, the tensors calibration left out (fused into
   * their activation) that some QTable may quantize; returns how many. The page runs it once the
   * figures of a calibration are in, so that the first edit that un-fuses a tensor (a Conv set to
   * FP32 before its Relu6) does not wait for this pass (the MobileNetV2-sized model: 1.8 s over 30
   * samples in the page's worker); a search or an edit that needs it before then runs it itself.
   */
  async calibrateRemainingTensors(job: JobContext): Promise<number> {
    const added = await this.calibrateRemaining(job);
    // The new ranges make a new search context: the pool loads it now rather than at the next edit.
    if (added > 0 && this.outputsOnPool) await this.searchPools(await this.searchContext([], job));
    return added;
  }

  private async calibrateRemaining(job: JobContext): Promise<number> {
    const calibration = this.requireCalibration();
    const known = new Set(calibration.tensors);
    const remaining = this.activationTensors().filter((t) => !known.has(t));
    if (remaining.length === 0) return 0;
    const dataset = this.requireDataset();
    const samples = { samples: dataset.samples.slice(0, calibration.sampleCount), sampleNames: dataset.sampleNames.slice(0, calibration.sampleCount) };
    const positions = new Map<string, number>();
    this.model.graph.nodes.forEach((node, i) => node.outputs.forEach((o) => positions.set(o, i)));
    const more = await calibrateModel(this.statisticsEngine, this.model, remaining, positions, samples, this.settings, job, this.types);
    const before = this.simulator;
    this.update({ calibration: calibration.merge(more) });
    // The tables evaluated so far quantized none of these tensors (a QDQ build refuses a tensor without
    // a range: MissingCalibrationError), so their figures stay exact, unless a new range is read
    // without being quantized: a graph output's (the collapse warnings) or one inside a body (a
    // branch with a range counts as taken by the data).
    const graphOutputs = new Set(this.model.graph.outputs.map((o) => o.name));
    const inBodies = new Set(this.model.graph.nodes.filter((n) => n.scope).flatMap((n) => n.outputs));
    const after = this.simulator;
    if (before && after && remaining.every((t) => !graphOutputs.has(t) && !inBodies.has(t))) this.recentEvaluations.carryOver(before, after);
    return remaining.length;
  }

  /**
   * search_threshold (docs/algorithms.md §5): the all-INT8 model evaluated with every method's table from
   * the one calibration pass. Changes no setting: the caller applies bestThresholdMethod(rows) if it
   * wants (the page and `qbench calibrate --search` do).
   */
  async searchThreshold(job: JobContext): Promise<ThresholdSearchRow[]> {
    let calibration = this.requireCalibration();
    if (!CALIBRATION_METHODS.every((m) => calibration.collected(m))) {
      // Every method's statistics are needed: collecting them is a new calibration the user asked for.
      this.update({ settings: { ...this.settings, collect: 'all' } });
      await this.calibrate(job);
      calibration = this.requireCalibration();
    }
    const rows: ThresholdSearchRow[] = [];
    const producer = new Map(this.model.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n.name] as const)));
    for (const [i, method] of CALIBRATION_METHODS.entries()) {
      job.throwIfCancelled();
      job.progress({ stage: `search_threshold: ${method}`, done: i, total: CALIBRATION_METHODS.length });
      const quiet: JobContext = { progress: () => {}, throwIfCancelled: () => job.throwIfCancelled(), cancelled: job.cancelled };
      const evaluation = await this.withCompleteCalibration(job, async () => {
        const { model, layers, types, scheme, weights, evaluation, biasShifts } = this.state;
        const simulator = new Simulator({
          engine: this.quantizedEngine, model, layers, types, cali: activeCaliTable(this.requireCalibration(), method, new Map(), null), scheme, weights,
          samples: evaluation!.samples, floatOutputs: evaluation!.outputs, scoring: this.scoring(), ...(biasShifts ? { biasShifts } : {}),
        });
        try {
          return await simulator.evaluate(ALL_INT8, 'outputs', quiet);
        } finally {
          await simulator.dispose();
        }
      });
      // A method that clips a layer's output to nearly nothing says so, naming the layer (issue #11).
      const clipped = clippingWarnings(this.requireCalibration().entries(method), this.requireCalibration().statistics).map((c): QuantWarning => ({ kind: 'clipped', layer: producer.get(c.tensor) ?? null, message: c.message }));
      const warnings = [...(evaluation.warnings ?? []), ...clipped];
      rows.push({ method, output: evaluation.output, ...(evaluation.tasks ? { tasks: evaluation.tasks } : {}), ...(warnings.length ? { warnings } : {}) });
    }
    job.progress({ stage: 'search_threshold', done: CALIBRATION_METHODS.length, total: CALIBRATION_METHODS.length });
    return flagOutlierMethods(rows);
  }

  /**
   * Time of plain float inference over the calibration samples (the baseline calibration and
   * searches are compared with): one session, one warm-up run, then every sample.
   */
  measureFloatInference(job: JobContext): Promise<{ samples: number; perSampleMs: number }> {
    return timeFloatInference(this.engine, this.model, this.calibrationSamples(), job);
  }

  /**
   * What a search scores with (src/core/search): the calibrated model, the table in use, every
   * collected method's table, and the evaluation samples with their float outputs (and the float
   * values of the tensors a metric compares instead of the outputs). The same object until anything
   * it holds changes, so pools can keep it.
   */
  async searchContext(compare: readonly string[] = [], job: JobContext = silentJob): Promise<SearchContext> {
    const calibration = this.requireCalibration();
    await this.ensureEvaluation(job);
    const { model, layers, types, scheme, weights, biasShifts, evaluation } = this.state;
    const base = this.searchBase(model, layers, types, scheme, weights, biasShifts, this.cali!, calibration, evaluation!, this.scoring(), this.wholeWhatIf);
    const extra = compare.filter((t) => !(t in base.references[0]));
    if (extra.length === 0) return base;
    const key = extra.join('\u0000');
    if (this.searchWithExtra?.base === base && this.searchWithExtra.key === key) return this.searchWithExtra.ctx;
    const values = await floatActivations(this.engine, this.model, base.samples.samples, extra, job);
    const ctx: SearchContext = { ...base, references: base.references.map((r, i) => ({ ...r, ...values[i] })) };
    this.searchWithExtra = { base, key, ctx };
    return ctx;
  }

  /**
   * Runs a mixed-precision search (issue #4) on the pool `searchPools` gives for the context:
   * every calibration method the search tries is collected first, and every tensor a searched
   * QTable may quantize is calibrated, so no runner meets a tensor without a range.
   */
  async search(request: SearchRequest, job: JobContext, emit: (event: SearchEvent) => void): Promise<SearchResult> {
    const methods = request.kind === 'sensitive' || request.kind === 'qtable' ? request.options.methods : [];
    const calibration = this.requireCalibration();
    if (!methods.every((m) => calibration.collected(m))) {
      // The methods the search compares must be collected: a new calibration, kept as the state's.
      this.update({ settings: { ...this.settings, collect: 'all' } });
      await this.calibrate(job);
    }
    await this.calibrateRemaining(job);
    const ctx = await this.searchContext(request.metric.compare.map((c) => c.tensor), job);
    const pool = await this.searchPools(ctx);
    const host = {
      layerErrors: async (inner: JobContext) => new Map((await this.evaluate(ALL_INT8, 'layers', inner)).layers.map((l) => [l.layer, l.mse] as const)),
    };
    try {
      return await runSearch(request, ctx, pool, host, job, emit);
    } catch (error) {
      throw withFileName(error, this.model.fileName);
    }
  }

  /** Bytes the calibration keeps  /** Bytes the calibration keeps (statistics of every tensor): flat in the number of samples but for one scalar per sample and method. */
  calibrationFootprint(): number {
    return statisticsBytes(this.requireCalibration());
  }

  /** Model outputs of the simulation of a QTable, per evaluation sample. */
  simulatedOutputs(qtable: QTable, depth: EvaluationDepth, job: JobContext): Promise<TensorMap[]> {
    return this.withCompleteCalibration(job, () => this.requireSimulator().simulatedOutputs(qtable, depth, job));
  }

  /** Each layer's local error under a QTable (docs/algorithms.md §4; sim/localErrors.ts). */
  localErrors(qtable: QTable, job: JobContext): Promise<LocalErrors> {
    return this.withCompleteCalibration(job, async () => {
      const simulator = this.requireSimulator();
      if (!this.outputsOnPool) return measureLocalErrors(simulator.input, qtable, this.incrementalOf(simulator.input.samples, this.wholeWhatIf).local, job);
      // The page: on the pool, as its accumulated errors (each runner keeps its samples' values).
      const ctx = await this.searchContext([], job);
      return localErrorsFromSums(await (await this.searchPools(ctx)).localSums(qtable, ctx.samples.samples.length, job));
    });
  }

  /** The output gain of setting `layer` to FP32 under a QTable (sim/floatGain.ts). */
  async floatGain(qtable: QTable, layer: LayerName, job: JobContext): Promise<FloatGain> {
    const info = this.layers.get(layer);
    if (!info) throw new QbenchError(`no layer named "${layer}"`, this.graph.fileName);
    return measureFloatGain((q) => this.evaluate(q, 'outputs', job), qtable, layer, effectivePrecision(info, qtable, this.scheme), qtableLayer(info));
  }

  /**
   * The precision each layer runs at under a QTable, as the QDQ model is built: non-quantizable
   * layers and the layers of a branch no calibration sample took run FP32 whatever the QTable says.
   */
  effectivePrecisions(qtable: QTable, job: JobContext = silentJob): Promise<ReadonlyMap<LayerName, Precision>> {
    return this.withCompleteCalibration(job, async () => this.requireSimulator().buildQdq(qtable).precisions);
  }

  /**
   * Each output and each part of an output built by a Concat (issue #11): its name, its float value
   * range on the evaluation samples. Figures come with an Evaluation (perOutput, perPart).
   */
  async outputParts(job: JobContext = silentJob): Promise<{ readonly parts: readonly OutputPart[]; readonly ranges: Record<string, [number, number]> }> {
    await this.ensureEvaluation(job);
    const { parts } = this.scoring();
    const outputs = this.model.graph.outputs.map((o) => o.name);
    return { parts, ranges: valueRanges(this.state.evaluation?.outputs ?? [], outputs, parts) };
  }

  /** How outputs are scored now: parts, tasks (detected or chosen) and labels. Needs the evaluation samples. */
  scoring(): OutputScoring {
    const { model, types, evaluation, taskOverrides, labels } = this.state;
    if (!evaluation) throw new QbenchError('no evaluation samples yet: calibrate first');
    return this.scoringOf(model, types, evaluation, taskOverrides, labels);
  }

  /** Each output's task and how it is read, after ensureEvaluation (issue #11). */
  async taskSpecs(job: JobContext = silentJob): Promise<Readonly<Record<string, TaskSpec>>> {
    await this.ensureEvaluation(job);
    return this.scoring().specs;
  }

  /**
   * Scores an output as `task` (null: as detected). Refused, naming the output, when its shape
   * cannot hold the task; the state is unchanged then.
   */
  async setOutputTask(output: string, task: OutputTask | null, job: JobContext = silentJob): Promise<Readonly<Record<string, TaskSpec>>> {
    if (!this.model.graph.outputs.some((o) => o.name === output)) throw new QbenchError(`the model has no output "${output}" (its outputs: ${this.model.graph.outputs.map((o) => o.name).join(', ')})`);
    const taskOverrides = new Map(this.state.taskOverrides);
    if (task) taskOverrides.set(output, task);
    else taskOverrides.delete(output);
    await this.ensureEvaluation(job);
    const previous = this.state;
    this.update({ taskOverrides });
    try {
      return this.scoring().specs;
    } catch (error) {
      this.state = previous;
      throw error;
    }
  }

  /** The samples' true classes by sample name (metrics/outputScoring.ts parseLabels, labelsFromFolders); null forgets them. */
  setLabels(labels: ReadonlyMap<string, number> | null): void {
    this.update({ labels });
  }

  /** The names of the dataset's samples, in order (to read labels against). */
  get sampleNames(): readonly string[] {
    return this.state.dataset?.sampleNames ?? [];
  }

  /**
   * Evaluation sample `index` as the float and the quantized model see it (issue #11, the output
   * viewer): its inputs, both models' outputs read as their tasks read them, bounded for the page.
   * The quantized outputs come from the QTable's cached QDQ session (built once per QTable).
   */
  sampleOutputs(qtable: QTable, index: number, options: { readonly channelOrder?: 'rgb' | 'bgr' } = {}, job: JobContext = silentJob): Promise<SampleOutputs> {
    return this.withCompleteCalibration(job, async () => {
      const { samples, outputs } = this.state.evaluation!;
      const count = samples.samples.length;
      if (!(Number.isInteger(index) && index >= 0 && index < count)) throw new QbenchError(`there is no evaluation sample ${index}: there are ${count}`);
      const quantized = await this.requireSimulator().sampleOutputs(qtable, index);
      const outputNames = this.model.graph.outputs.map((o) => o.name);
      return buildSampleOutputs({
        index, sampleCount: count, sampleName: samples.sampleNames[index] ?? `sample ${index}`, inputs: samples.samples[index],
        outputNames, float: outputs[index], quantized, specs: this.scoring().specs, ...options,
      });
    });
  }

  /** The quantized model of a QTable in QDQ form: the same graph the evaluation ran. */
  exportQdq(qtable: QTable, job: JobContext = silentJob): Promise<Uint8Array> {
    return this.withCompleteCalibration(job, async () => onnx.ModelProto.encode(this.requireSimulator().buildQdq(qtable).proto).finish());
  }

  /**
   * Writes the QDQ model and proves it: the bytes are loaded in a fresh session and run on the
   * evaluation samples; the measured output error is returned next to the predicted one.
   */
  async exportVerifiedQdq(qtable: QTable, job: JobContext): Promise<{ bytes: Uint8Array; verification: ExportVerification }> {
    const bytes = await this.exportQdq(qtable, job);
    const evaluation = await this.evaluate(qtable, 'outputs', job);
    const { samples, outputs } = this.state.evaluation!;
    const measured = await measureExportedModel(this.quantizedEngine, bytes, `${this.model.fileName} (exported QDQ)`, samples, [...outputs], job, this.scoring());
    return {
      bytes,
      verification: {
        predicted: evaluation.output, measured: measured.output, sampleCount: samples.samples.length, engine: this.quantizedEngine.name,
        ...(Object.keys(measured.tasks).length ? { tasks: { predicted: evaluation.tasks ?? {}, measured: measured.tasks } } : {}),
        ...(evaluation.warnings ? { warnings: evaluation.warnings } : {}),
      },
    };
  }

  /** What the last incremental 'outputs' evaluation in this process ran: kept outputs, a part, or the whole model (tests, benchmark). */
  lastIncrementalPlan(kind: WhatIfKind = 'outputs'): IncrementalOutputs['lastPlan'] {
    return this.whatIfRunner(kind)?.lastPlan ?? null;
  }

  /** What the what-if evaluations in this process keep between edits (tests, benchmark: issue #15's memory). */
  keptWhatIfValues(kind: WhatIfKind = 'outputs'): ReturnType<IncrementalOutputs['keptValues']> | null {
    return this.whatIfRunner(kind)?.keptValues() ?? null;
  }

  /** The signatures of the values a what-if runner keeps as checkpoints (tests). */
  whatIfCheckpoints(kind: WhatIfKind): readonly string[] {
    return this.whatIfRunner(kind)?.checkpointSignatures() ?? [];
  }

  /** Bytes all what-if runners keep between edits, a value they share counted once (benchmark, tests). */
  keptWhatIfBytes(): number {
    const { evaluation } = this.state;
    return evaluation ? keptBytes(this.incrementalOf(evaluation.samples, this.wholeWhatIf)) : 0;
  }

  private whatIfRunner(kind: WhatIfKind): IncrementalOutputs | null {
    const { evaluation } = this.state;
    return evaluation ? this.incrementalOf(evaluation.samples, this.wholeWhatIf)[kind] : null;
  }

  async dispose(): Promise<void> {
    this.recentEvaluations.clear();
    this.simulatorOf.clear();
    this.incrementalOf.clear();
  }

  /** The evaluation samples and their float outputs (reused from calibration where they overlap). */
  private async prepareEvaluation(job: JobContext): Promise<void> {
    const dataset = this.requireDataset();
    const calibration = this.requireCalibration();
    const count = Math.min(dataset.samples.length, this.settings.evaluationSamples ?? Infinity);
    const samples = { samples: dataset.samples.slice(0, count), sampleNames: dataset.sampleNames.slice(0, count) };
    const outputs = calibration.floatOutputs.slice(0, count);
    if (outputs.length < count) {
      const session = await this.engine.createSession(this.model.encode(), { modelName: this.model.fileName });
      try {
        for (let i = outputs.length; i < count; i++) {
          job.throwIfCancelled();
          outputs.push(await session.run(dataset.samples[i]));
        }
      } finally {
        await session.dispose();
      }
    }
    this.update({ evaluation: { samples, outputs } });
  }

  private requireDataset(): Dataset {
    if (!this.state.dataset) throw new DataError('no calibration data: add .npy files or images first');
    return this.state.dataset;
  }

  private requireCalibration(): CalibrationResult {
    if (!this.state.calibration) throw new QbenchError('the model is not calibrated yet: run calibration first');
    return this.state.calibration;
  }

  private requireSimulator(): Simulator {
    if (!this.simulator) throw new QbenchError('the model is not calibrated yet: run calibration first');
    return this.simulator;
  }
}

/** A name per evaluation sample set (SearchContext.samplesKey): equal for the same Dataset object. */
const samplesKeys = new WeakMap<Dataset, string>();
let samplesCount = 0;
function samplesKeyOf(samples: Dataset): string {
  let key = samplesKeys.get(samples);
  if (!key) samplesKeys.set(samples, (key = `samples-${++samplesCount}`));
  return key;
}
