import { activeCaliTable, calibrateModel, DEFAULT_CALIBRATION, type CalibrationResult, type CalibrationSettings, type TensorOverride } from './calib/Calibration';
import type { CaliEntry, CaliTable, CalibrationMethod } from './calib/CaliTable';
import { CALIBRATION_METHODS } from './calib/CaliTable';
import type { TensorStatistics } from './calib/TensorStatistics';
import type { Engine, ValueInfo } from './engine/Engine';
import { DataError, QbenchError, withFileName } from './errors';
import { measureExportedModel, type ExportVerification } from './export/verifyExport';
import type { Dataset } from './io/dataset/Dataset';
import { validateDataset } from './io/dataset/validate';
import { OnnxModel, readOnnx } from './io/onnx/OnnxModel';
import { dequantizeQdq, quantizedForm } from './io/onnx/quantizedForm';
import { bodyInputs } from './io/onnx/ifBodies';
import { findModel, type ModelFindings } from './quant/modelFindings';
import { onnx } from './io/onnx/protobuf';
import { silentJob, type JobContext } from './jobs/Job';
import type { LayerName, ModelGraph } from './model/ModelGraph';
import type { TensorMap } from './model/tensor';
import { DEFAULT_WEIGHT_OPTIONS, fusedTensors, MissingCalibrationError, qdqOpset, type QuantizationContext, type WeightOptions } from './quant/buildQdqModel';
import { meanMetrics, type ErrorMetrics } from './metrics/similarity';
import { biasCorrection, correctFloatModel, DEFAULT_MIN_LAYER_COS, DEFAULT_TUNE_NUM, tuneThresholds, type FloatCorrectionEffects, type FloatCorrections } from './corrections';
import { describeLayers, type LayerInfo } from './quant/layerInfo';
import { ALL_INT8, qtableToData, type QTable } from './quant/QTable';
import { effectivePrecision, TARGET_SCHEMES, type TargetScheme } from './quant/schemes';
import type { Evaluation } from './sim/Evaluation';
import type { SearchContext } from './search/SearchContext';
import { floatActivations } from './search/boundaries';
import { runSearch } from './search/runSearch';
import { LocalRunnerPort, SearchPool } from './search/SearchPool';
import type { SearchRequest } from './search/SearchRequest';
import { SearchRunner } from './search/SearchRunner';
import type { SearchEvent, SearchResult } from './search/SearchSession';
import { Simulator, type EvaluationDepth } from './sim/Simulator';
import { inferTensorTypes } from './sim/tensorTypes';

/** Which corrections apply (algorithms.md §6; TPU-MLIR --sq --we --bc --tune_num, Bolt -b). */
export interface Corrections extends FloatCorrections {
  readonly biasCorrection: boolean;
  /** TPU-MLIR's KL threshold tuning; applies while the method is KL. */
  readonly tuneThresholds: boolean;
  /** Samples the tuning uses (TPU-MLIR tune_num, default 5). */
  readonly tuneNum: number;
  /** Bias correction corrects convolutions whose local cosine is below this (TPU-MLIR min_layer_cos, default 0.99). */
  readonly minLayerCos: number;
  /** Samples bias correction measures the error on (TPU-MLIR bc_inference_num); null: the calibration samples. */
  readonly biasSamples: number | null;
}

export const NO_CORRECTIONS: Corrections = {
  foldBatchNorm: false, equalize: false, smoothQuant: false, biasCorrection: false, tuneThresholds: false, tuneNum: DEFAULT_TUNE_NUM,
  minLayerCos: DEFAULT_MIN_LAYER_COS, biasSamples: null,
};

/** What the corrections in force did, shown next to each toggle. */
export interface CorrectionEffects extends FloatCorrectionEffects {
  /** Bias correction: the 8-bit convolutions corrected and the output cosine without and with; not kept when it drops. */
  readonly biasCorrection: { readonly layers: number; readonly kept: boolean; readonly before: number; readonly after: number } | null;
  /** Tensors whose KL threshold the tuning moved (null: tuning off, or no KL thresholds to tune). */
  readonly tunedTensors: number | null;
}

const NO_EFFECTS: CorrectionEffects = { foldedBatchNorms: 0, equalizedPairs: 0, smoothedPairs: 0, skipped: [], biasCorrection: null, tunedTensors: null };

/** A change of corrections and its measured effect on the output similarity of the QTable in use. */
export interface CorrectionReport {
  readonly effects: CorrectionEffects;
  readonly outputCos: { readonly before: number | null; readonly after: number };
  /** BN folding removed or restored layers: the graph shown must be the new one. */
  readonly graphChanged: boolean;
}

export interface CalibrationSummary {
  readonly settings: CalibrationSettings;
  readonly sampleCount: number;
  readonly evaluationSampleCount: number;
  readonly tensorCount: number;
  readonly elapsedMs: number;
  /** The CaliTable in use, tensor by tensor. */
  readonly table: readonly (readonly [string, CaliEntry])[];
  readonly overrides: readonly (readonly [string, TensorOverride])[];
  readonly imported: boolean;
  readonly corrections: Corrections;
  readonly correctionEffects: CorrectionEffects;
}

/** search_threshold's comparison: the all-INT8 model under each method (algorithms.md §5). */
export interface ThresholdSearchRow {
  readonly method: CalibrationMethod;
  readonly output: Evaluation['output'];
}

/** What the inspector draws for one tensor: its histogram and every method's entry. */
export interface TensorCalibrationView {
  readonly tensor: string;
  readonly min: number;
  readonly max: number;
  readonly histogram: { readonly width: number; readonly counts: readonly number[] };
  /** Every method whose statistics the pass kept (all of them unless calibration kept one). */
  readonly entries: Readonly<Partial<Record<CalibrationMethod, CaliEntry>>>;
  readonly active: CaliEntry;
  readonly override: TensorOverride | null;
}

/**
 * One model and its dataset, calibrated and evaluated: the core job that the worker (for the page)
 * and the CLI both wrap. Holds the heavy data (weights, samples, statistics, sessions); hands out
 * plain data.
 */
export class Workbench {
  private dataset?: Dataset;
  private calibration?: CalibrationResult;
  private cali?: Map<string, CaliEntry>;
  private evaluationSamples?: Dataset;
  private evaluationOutputs?: TensorMap[];
  private simulator?: Simulator;
  private overrides = new Map<string, TensorOverride>();
  private imported: CaliTable | null = null;
  settings: CalibrationSettings = DEFAULT_CALIBRATION;
  scheme: TargetScheme = TARGET_SCHEMES['ort-qdq'];
  weightOptions: WeightOptions = DEFAULT_WEIGHT_OPTIONS;

  /** The search context handed out last (pools keep their copy while it stays the same object). */
  private searchCtx?: { key: string; ctx: SearchContext };
  /**
   * The pool a search runs on, for a context: by default this engine alone; the CLI gives Node worker
   * threads and the page Web Workers (one runner per core).
   */
  /** Whether 'outputs' evaluations run on the search pool (the page sets it: a pool worker per core). */
  outputsOnPool = false;
  searchPools: (ctx: SearchContext) => Promise<SearchPool> = async (ctx) => new SearchPool([new LocalRunnerPort(new SearchRunner(ctx, this.engine))]);

  /** The corrections in force (algorithms.md §6, TPU-MLIR's threshold tuning) and what they did. */
  corrections: Corrections = NO_CORRECTIONS;
  private effects: CorrectionEffects = NO_EFFECTS;
  private tuned: Map<string, CaliEntry> | null = null;
  private biasShifts: Map<LayerName, Float32Array> | null = null;
  /** What `model` was made from: the float corrections and, for SmoothQuant, the dataset. */
  private floatModelKey = floatModelKey(NO_CORRECTIONS, 0);
  private datasetVersion = 0;
  /** The model being quantized: the file's model after the float corrections (BN folding, CLE, SmoothQuant). */
  model: OnnxModel;
  types: ReadonlyMap<string, ValueInfo>;
  layers: ReadonlyMap<LayerName, LayerInfo>;

  private constructor(
    readonly engine: Engine,
    /** The model as read from the file. */
    readonly original: OnnxModel,
    private readonly originalTypes: ReadonlyMap<string, ValueInfo>,
  ) {
    this.model = original;
    this.types = originalTypes;
    this.layers = describeLayers(original.graph, originalTypes);
  }

  /**
   * Reads the model and checks that the engine can run it (every problem names the file).
   * `dequantize`: the file is a QDQ model; open the float model it was made from instead, with the
   * ranges of its quantizers imported as the calibration (issue #9).
   */
  static async open(engine: Engine, bytes: Uint8Array, fileName: string, options: { readonly dequantize?: boolean } = {}): Promise<Workbench> {
    let model = readOnnx(bytes, fileName);
    let dequantized: { readonly ranges: ReadonlyMap<string, CaliEntry>; readonly original: Uint8Array; readonly note: string } | null = null;
    if (options.dequantize) {
      const form = quantizedForm(model.graph.nodes);
      if (form?.form !== 'qdq') throw new QbenchError(form ? `de-quantizing a ${form.form} model is not supported yet (only QDQ models): ${form.operators.join(', ')}` : 'the model is not quantized: there is nothing to de-quantize', fileName);
      const result = dequantizeQdq(model.proto, fileName);
      model = readOnnx(onnx.ModelProto.encode(result.proto).finish(), fileName);
      dequantized = { ranges: result.ranges, original: bytes, note: `opened de-quantized: ${result.removedPairs} QuantizeLinear/DequantizeLinear pairs removed and their ranges imported as the calibration, ${result.dequantizedWeights} stored integer tensors turned back into float (weights keep their integer rounding)${result.restoredRelus ? `, ${result.restoredRelus} Relu${result.restoredRelus === 1 ? '' : 's'} folded into a quantizer put back` : ''}` };
    }
    const types = await inferTensorTypes(model, engine);
    const bench = new Workbench(engine, model, types);
    if (dequantized) {
      bench.quantizedOriginal = dequantized.original;
      bench.dequantizedNote = dequantized.note;
      bench.setImportedTable({ entries: new Map([...dequantized.ranges].filter(([tensor]) => types.has(tensor))) });
    }
    return bench;
  }

  /** The file's own quantized model, when it was opened de-quantized (to compare a re-quantization with). */
  quantizedOriginal: Uint8Array | null = null;

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
    return measureExportedModel(this.engine, this.quantizedOriginal, `${this.model.fileName} (as quantized in the file)`, this.evaluationSamples!, this.evaluationOutputs!, job);
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
    this.corrections = next;
    try {
      if (!this.calibration || floatModelKey(next, this.datasetVersion) !== this.floatModelKey) {
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
    return { effects: this.effects, outputCos: { before, after }, graphChanged: this.model.graph.nodes.map((n) => n.name).join('\u0000') !== nodesBefore };
  }

  /** Everything a change of corrections replaces, to put back if the change fails or is cancelled. */
  private snapshot(): () => void {
    const { corrections, effects, tuned, biasShifts, floatModelKey, model, types, layers, calibration, evaluationSamples, evaluationOutputs } = this;
    return () => {
      Object.assign(this, { corrections, effects, tuned, biasShifts, floatModelKey, model, types, layers, calibration, evaluationSamples, evaluationOutputs });
      if (calibration) this.rebuildSimulator();
      else this.invalidateSimulator();
    };
  }

  /** The float model under the float corrections in force (cached: rebuilt only when they or, for SmoothQuant, the data change). */
  private async applyFloatCorrections(job: JobContext): Promise<void> {
    const key = floatModelKey(this.corrections, this.datasetVersion);
    if (key === this.floatModelKey) return;
    const corrected = await correctFloatModel(this.original, this.corrections, this.engine, this.calibrationSamples(), job);
    this.model = corrected.model;
    this.types = corrected.model === this.original ? this.originalTypes : await inferTensorTypes(corrected.model, this.engine);
    this.layers = describeLayers(this.model.graph, this.types);
    this.effects = { ...this.effects, ...corrected.effects };
    this.floatModelKey = key;
  }

  /**
   * Threshold tuning and bias correction, which need the calibration: tuning refines the KL
   * thresholds (when KL was collected); bias correction is measured on the calibration samples for
   * `qtable` and kept only if the output similarity on the evaluation samples does not drop.
   */
  private async applyCalibratedCorrections(qtable: QTable, job: JobContext, what: { retune: boolean; rebias: boolean }): Promise<void> {
    const calibration = this.requireCalibration();
    if (what.retune) {
      this.tuned = null;
      let tunedTensors: number | null = null;
      if (this.corrections.tuneThresholds && calibration.collected('kl')) {
        const entries = calibration.entries('kl');
        const absmax = new Map([...calibration.statistics].map(([t, st]) => [t, Math.max(Math.abs(st.min), Math.abs(st.max))]));
        const ranges = new Map([...calibration.statistics].map(([t, st]) => [t, { min: st.min, max: st.max }]));
        this.tuned = await tuneThresholds(this.model, this.engine, this.calibrationSamples(), entries, absmax, { ranges, types: this.types, tuneNum: this.corrections.tuneNum, job });
        tunedTensors = [...this.tuned].filter(([t, e]) => e.threshold !== entries.get(t)?.threshold).length;
      }
      this.effects = { ...this.effects, tunedTensors };
      this.rebuildSimulator();
    }
    if (what.rebias) {
      this.biasShifts = null;
      this.rebuildSimulator();
      let biasEffect: CorrectionEffects['biasCorrection'] = null;
      if (this.corrections.biasCorrection) {
        const without = (await this.evaluate(qtable, 'outputs', job)).output.cos;
        const samples = this.biasSamples();
        const { minLayerCos } = this.corrections;
        const result = await this.withCompleteCalibration(job, () => biasCorrection(this.context(), qtable, this.engine, samples, { job, minLayerCos }));
        this.biasShifts = new Map(result.corrected.map((c) => [c.layer, c.shift]));
        this.rebuildSimulator();
        const withShifts = result.corrected.length ? (await this.evaluate(qtable, 'outputs', job)).output.cos : without;
        const kept = result.corrected.length > 0 && withShifts >= without;
        if (!kept) {
          this.biasShifts = null;
          this.rebuildSimulator();
        }
        biasEffect = { layers: result.corrected.length, kept, before: without, after: withShifts };
      }
      this.effects = { ...this.effects, biasCorrection: biasEffect };
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
    return { model: this.model, layers: this.layers, types: this.types, cali: this.cali!, scheme: this.scheme, weights: this.weightOptions, ...(this.biasShifts ? { biasShifts: this.biasShifts } : {}) };
  }

  get graph(): ModelGraph {
    return this.model.graph;
  }

  get calibrated(): boolean {
    return this.calibration !== undefined && this.cali !== undefined;
  }

  /**
   * The evaluation samples and their float outputs, prepared again after a change of how many
   * samples evaluate (setCalibrationSettings cannot wait for the float runs that may take).
   */
  async ensureEvaluation(job: JobContext = silentJob): Promise<void> {
    if (this.calibration && (!this.evaluationSamples || !this.evaluationOutputs || !this.simulator)) await this.prepareEvaluation(job);
  }

  /** Sets the samples; they are checked against the model's inputs (names, shapes, dtypes, NaN). */
  setDataset(dataset: Dataset): void {
    validateDataset(dataset, this.model.graph.inputs);
    this.dataset = dataset;
    this.datasetVersion++;
    this.calibration = undefined;
    this.invalidateSimulator();
  }

  /** New settings; a change of what is observed needs calibrate() again, a change of method does not. */
  setCalibrationSettings(settings: Partial<CalibrationSettings>): { needsCalibration: boolean } {
    const next = { ...this.settings, ...settings };
    const needsCalibration = next.histogramBins !== this.settings.histogramBins || next.valuesPerTensor !== this.settings.valuesPerTensor
      || next.calibrationSamples !== this.settings.calibrationSamples || next.collect !== this.settings.collect
      || (this.calibration !== undefined && !this.calibration.collected(next.method));
    const evaluationChanged = next.evaluationSamples !== this.settings.evaluationSamples;
    this.settings = next;
    if (needsCalibration) {
      this.calibration = undefined;
      this.invalidateSimulator();
    } else if (evaluationChanged) {
      this.evaluationSamples = undefined;
      this.evaluationOutputs = undefined;
      void this.simulator?.dispose();
      this.simulator = undefined;
      this.rebuildSimulator();
    } else {
      this.rebuildSimulator();
    }
    return { needsCalibration };
  }

  setScheme(scheme: TargetScheme): void {
    if (scheme.id === this.scheme.id) return;
    this.scheme = scheme;
    this.weightOptions = { ...this.weightOptions, granularity: scheme.weightGranularity };
    this.rebuildSimulator();
  }

  setWeightOptions(options: Partial<WeightOptions>): void {
    this.weightOptions = { ...this.weightOptions, ...options };
    this.rebuildSimulator();
  }

  /** A tensor's own method or typed threshold (null: back to the model-wide choice). */
  setTensorOverride(tensor: string, override: TensorOverride | null): void {
    this.setTensorOverrides([[tensor, override]]);
  }

  /** Several tensors' overrides at once (one rebuild): run_sensitive_layer's best methods, for one. */
  setTensorOverrides(entries: readonly (readonly [string, TensorOverride | null])[]): void {
    for (const [tensor, override] of entries) {
      if (override) this.overrides.set(tensor, override);
      else this.overrides.delete(tensor);
    }
    this.rebuildSimulator();
  }

  /** An imported cali_table: its entries replace the method's for the tensors it names. */
  setImportedTable(table: CaliTable | null): void {
    this.imported = table;
    this.rebuildSimulator();
  }

  /**
   * The float tensors calibration observes: graph inputs and every float node output that gets a
   * quantizer under the all-INT8 QTable. A tensor fused into its activation (a Conv's output read
   * only by its Relu) is left out: observing it would cost a pass over it and break onnxruntime's
   * Conv+activation fusion, for a range nothing uses. A QTable that un-fuses it later calibrates it
   * then (calibrateRemaining).
   */
  calibratedTensors(): string[] {
    const precisions = new Map([...this.layers.values()].map((l) => [l.name, effectivePrecision(l, ALL_INT8, this.scheme)]));
    const fused = fusedTensors(this.model.graph, precisions);
    return this.activationTensors().filter((t) => !fused.has(t));
  }

  /** Every float tensor that can carry a range: graph inputs and every float node output. */
  activationTensors(): string[] {
    const tensors = this.model.graph.inputs.filter((i) => i.dtype === 'float32').map((i) => i.name);
    // a Loop body's own inputs (its carried values) are quantized inside the body too
    for (const input of bodyInputs(this.model.proto.graph!)) if (input.name && this.types.get(input.name)?.dtype === 'float32') tensors.push(input.name);
    for (const node of this.model.graph.nodes) {
      for (const output of node.outputs) if (output && this.types.get(output)?.dtype === 'float32') tensors.push(output);
    }
    return tensors;
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
    this.calibration = await calibrateModel(this.engine, this.model, this.calibratedTensors(), positions, samples, this.settings, job, this.types);
    this.evaluationSamples = undefined;
    this.evaluationOutputs = undefined;
    await this.prepareEvaluation(job);
    await this.applyCalibratedCorrections(qtable, job, { retune: true, rebias: true });
    return this.summary();
  }

  summary(): CalibrationSummary {
    const calibration = this.requireCalibration();
    return {
      settings: this.settings,
      sampleCount: calibration.sampleCount,
      evaluationSampleCount: this.evaluationSamples?.samples.length ?? 0,
      tensorCount: calibration.tensors.length,
      elapsedMs: calibration.elapsedMs,
      table: [...this.cali!],
      overrides: [...this.overrides],
      imported: this.imported !== null,
      corrections: this.corrections,
      correctionEffects: this.effects,
    };
  }

  /** The CaliTable in use (what cali_table export writes). */
  caliTable(): CaliTable {
    const calibration = this.requireCalibration();
    return { entries: new Map(this.cali), sampleCount: calibration.sampleCount, histogramBins: this.settings.histogramBins };
  }

  tensorCalibration(tensor: string): TensorCalibrationView | null {
    const calibration = this.calibration;
    const stats: TensorStatistics | undefined = calibration?.statistics.get(tensor);
    if (!calibration || !stats || !this.cali) return null;
    return {
      tensor,
      min: stats.min,
      max: stats.max,
      histogram: { width: stats.klHistogram.width, counts: Array.from(stats.klHistogram.counts) },
      entries: calibration.allMethods(tensor),
      active: this.cali.get(tensor)!,
      override: this.overrides.get(tensor) ?? null,
    };
  }

  evaluate(qtable: QTable, depth: EvaluationDepth, job: JobContext): Promise<Evaluation> {
    if (depth === 'outputs' && this.outputsOnPool) {
      return this.withCompleteCalibration(job, async () => {
        const evaluation = await this.evaluateOutputsOnPool(qtable, job);
        this.lastPoolOutputs = { simulator: this.simulator, evaluation };
        return evaluation;
      });
    }
    return this.withCompleteCalibration(job, () => {
      const simulator = this.requireSimulator();
      // The outputs the pool measured for this simulator's QTable need not run again for the heatmap.
      const known = this.lastPoolOutputs?.simulator === simulator ? this.lastPoolOutputs.evaluation : undefined;
      return simulator.evaluate(qtable, depth, job, known);
    });
  }

  /** The last 'outputs' evaluation made on the pool, and the simulator (calibration) it belongs to. */
  private lastPoolOutputs?: { readonly simulator: Simulator | undefined; readonly evaluation: Evaluation };

  /**
   * The 'outputs' evaluation with the samples split between the search pool's runners (the page's
   * what-if: one engine per core instead of one). The same QDQ model and the same means as the
   * Simulator's.
   */
  private async evaluateOutputsOnPool(qtable: QTable, job: JobContext): Promise<Evaluation> {
    const started = performance.now();
    this.requireSimulator();
    const ctx = await this.searchContext([], job);
    const pool = await this.searchPools(ctx);
    const perSample = await pool.outputErrors(qtable, ctx.samples.samples.length, job);
    const perOutput: Record<string, ErrorMetrics> = {};
    for (const name of this.model.graph.outputs.map((o) => o.name)) {
      const list = perSample.map((s) => s[name]).filter(Boolean);
      if (list.length) perOutput[name] = meanMetrics(list);
    }
    const precisions = [...this.layers.values()].map((l) => effectivePrecision(l, qtable, this.scheme));
    return {
      qtable: qtableToData(qtable), output: meanMetrics(Object.values(perOutput)), perOutput, layers: [],
      sampleCount: perSample.length, elapsedMs: performance.now() - started, opset: qdqOpset(this.model.opset, precisions),
    };
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

  private async calibrateRemaining(job: JobContext): Promise<void> {
    const calibration = this.requireCalibration();
    const known = new Set(calibration.tensors);
    const remaining = this.activationTensors().filter((t) => !known.has(t));
    if (remaining.length === 0) return;
    const dataset = this.requireDataset();
    const samples = { samples: dataset.samples.slice(0, calibration.sampleCount), sampleNames: dataset.sampleNames.slice(0, calibration.sampleCount) };
    const positions = new Map<string, number>();
    this.model.graph.nodes.forEach((node, i) => node.outputs.forEach((o) => positions.set(o, i)));
    const more = await calibrateModel(this.engine, this.model, remaining, positions, samples, this.settings, job, this.types);
    this.calibration = calibration.merge(more);
    this.rebuildSimulator();
  }

  /**
   * search_threshold (algorithms.md §5): the all-INT8 model evaluated with every method's table from
   * the one calibration pass; the best by output cosine becomes the model-wide method.
   */
  async searchThreshold(job: JobContext): Promise<ThresholdSearchRow[]> {
    let calibration = this.requireCalibration();
    if (!CALIBRATION_METHODS.every((m) => calibration.collected(m))) {
      this.settings = { ...this.settings, collect: 'all' };
      await this.calibrate(job);
      calibration = this.requireCalibration();
    }
    const rows: ThresholdSearchRow[] = [];
    for (const [i, method] of CALIBRATION_METHODS.entries()) {
      job.throwIfCancelled();
      job.progress({ stage: `search_threshold: ${method}`, done: i, total: CALIBRATION_METHODS.length });
      const quiet: JobContext = { progress: () => {}, throwIfCancelled: () => job.throwIfCancelled(), cancelled: job.cancelled };
      const evaluation = await this.withCompleteCalibration(job, async () => {
        const simulator = this.simulatorFor(activeCaliTable(this.requireCalibration(), method, new Map(), null));
        try {
          return await simulator.evaluate(ALL_INT8, 'outputs', quiet);
        } finally {
          await simulator.dispose();
        }
      });
      rows.push({ method, output: evaluation.output });
    }
    job.progress({ stage: 'search_threshold', done: CALIBRATION_METHODS.length, total: CALIBRATION_METHODS.length });
    const best = rows.reduce((a, b) => (b.output.cos > a.output.cos ? b : a));
    this.settings = { ...this.settings, method: best.method };
    this.rebuildSimulator();
    return rows;
  }

  /**
   * Time of plain float inference over the calibration samples (the baseline calibration and
   * searches are compared with): one session, one warm-up run, then every sample.
   */
  async measureFloatInference(job: JobContext): Promise<{ samples: number; perSampleMs: number }> {
    const dataset = this.requireDataset();
    const count = Math.min(dataset.samples.length, this.settings.calibrationSamples ?? Infinity);
    const session = await this.engine.createSession(this.model.encode(), { modelName: this.model.fileName });
    try {
      await session.run(dataset.samples[0]);
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        job.throwIfCancelled();
        job.progress({ stage: 'float inference', done: i, total: count });
        await session.run(dataset.samples[i]);
      }
      return { samples: count, perSampleMs: (performance.now() - started) / count };
    } finally {
      await session.dispose();
    }
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
    const key = compare.join('\u0000');
    if (this.searchCtx?.key === key) return this.searchCtx.ctx;
    const methodTables = new Map(CALIBRATION_METHODS.filter((m) => calibration.collected(m)).map((m) => [m, calibration.entries(m)] as const));
    const samples = this.evaluationSamples!;
    let references = this.evaluationOutputs!;
    const extra = compare.filter((t) => !(t in references[0]));
    if (extra.length) {
      const values = await floatActivations(this.engine, this.model, samples.samples, extra, job);
      references = references.map((r, i) => ({ ...r, ...values[i] }));
    }
    const ctx: SearchContext = {
      model: this.model, layers: this.layers, types: this.types, scheme: this.scheme, weights: this.weightOptions,
      ...(this.biasShifts ? { biasShifts: this.biasShifts } : {}),
      cali: this.cali!, methodTables, samples, references,
    };
    this.searchCtx = { key, ctx };
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
      this.settings = { ...this.settings, collect: 'all' };
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
    const calibration = this.requireCalibration();
    let bytes = 0;
    const add = (value: unknown): void => {
      if (ArrayBuffer.isView(value)) bytes += value.byteLength;
      else if (value && typeof value === 'object') for (const v of Object.values(value)) add(v);
    };
    for (const stats of calibration.statistics.values()) add(stats);
    return bytes;
  }

  /** Model outputs of the simulation of a QTable, per evaluation sample. */
  simulatedOutputs(qtable: QTable, depth: EvaluationDepth, job: JobContext): Promise<TensorMap[]> {
    return this.withCompleteCalibration(job, () => this.requireSimulator().simulatedOutputs(qtable, depth, job));
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
    const predicted = (await this.evaluate(qtable, 'outputs', job)).output;
    const samples = this.evaluationSamples!;
    const measured = await measureExportedModel(this.engine, bytes, `${this.model.fileName} (exported QDQ)`, samples, this.evaluationOutputs!, job);
    return { bytes, verification: { predicted, measured, sampleCount: samples.samples.length, engine: this.engine.name } };
  }

  async dispose(): Promise<void> {
    await this.simulator?.dispose();
  }

  /** The evaluation samples and their float outputs (reused from calibration where they overlap). */
  private async prepareEvaluation(job: JobContext): Promise<void> {
    const dataset = this.requireDataset();
    const calibration = this.requireCalibration();
    const count = Math.min(dataset.samples.length, this.settings.evaluationSamples ?? Infinity);
    this.evaluationSamples = { samples: dataset.samples.slice(0, count), sampleNames: dataset.sampleNames.slice(0, count) };
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
    this.evaluationOutputs = outputs;
    this.rebuildSimulator();
  }

  private invalidateSimulator(): void {
    this.searchCtx = undefined;
    void this.simulator?.dispose();
    this.simulator = undefined;
    this.cali = undefined;
  }

  private rebuildSimulator(): void {
    this.searchCtx = undefined;
    if (!this.calibration) return;
    this.cali = activeCaliTable(this.calibration, this.settings.method, this.overrides, this.imported, this.settings.method === 'kl' ? this.tuned : null);
    if (!this.evaluationSamples || !this.evaluationOutputs) return;
    void this.simulator?.dispose();
    this.simulator = this.simulatorFor(this.cali);
  }

  private simulatorFor(cali: Map<string, CaliEntry>): Simulator {
    return new Simulator({
      engine: this.engine, model: this.model, layers: this.layers, types: this.types, cali, scheme: this.scheme,
      weights: this.weightOptions, samples: this.evaluationSamples!, floatOutputs: this.evaluationOutputs!,
      ...(this.biasShifts ? { biasShifts: this.biasShifts } : {}),
    });
  }

  private requireDataset(): Dataset {
    if (!this.dataset) throw new DataError('no calibration data: add .npy files or images first');
    return this.dataset;
  }

  private requireCalibration(): CalibrationResult {
    if (!this.calibration) throw new QbenchError('the model is not calibrated yet: run calibration first');
    return this.calibration;
  }

  private requireSimulator(): Simulator {
    if (!this.simulator) throw new QbenchError('the model is not calibrated yet: run calibration first');
    return this.simulator;
  }
}

/** Identifies a float model made by correctFloatModel: its flags and, for SmoothQuant, which dataset measured it. */
function floatModelKey(corrections: FloatCorrections, datasetVersion: number): string {
  const flags = `${+corrections.foldBatchNorm}${+corrections.equalize}${+corrections.smoothQuant}`;
  return corrections.smoothQuant ? `${flags}:${datasetVersion}` : flags;
}
