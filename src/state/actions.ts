import { call, endComputeWorker, runOnWorker, workbenchClient, Comlink, type JobArgs, type JobName, type JobResult } from '../../workers/client';
import { layoutInWorker, layoutViewInWorker } from '../../workers/layoutClient';
import type { FileSource, ModelSummary, OpenOptions } from '../../workers/client';
import { errorMessage, isCancelled } from '../core/errors';
import type { ImagePreprocess } from '../core/io/dataset/loadDataset';
import { formatQTable } from '../core/io/qtable';
import type { JobProgress } from '../core/jobs/Job';
import type { LayerName } from '../core/model/ModelGraph';
import { TARGET_SCHEMES, type TargetScheme } from '../core/quant/schemes';
import { qtableFromData, qtableToData, sameQTable, type Precision, type QTableData } from '../core/model/QTable';
import { SEARCH_DEFAULTS, type SearchRequest } from '../core/search/SearchRequest';
import type { SearchKind, VisitedConfiguration } from '../core/search/SearchSession';
import type { JobEvent } from '../core/jobs/JobEvent';
import { diffQTables, SEARCH_LABEL } from '../core/search/describe';
import { PRELIMINARY_SAMPLES } from './slices/evaluation';
import { withBestMethods } from '../core/search/bestMethods';
import { changedTensors, NO_OVERRIDES, sameOverrides, type OverrideList } from '../core/calib/overrideList';
import type { CalibrationSettings, TensorOverride } from '../core/calib/Calibration';
import type { WeightOptions } from '../core/quant/WeightOptions';
import type { TableKind } from '../core/export/tables';
import type { OutputTask, TaskSpec } from '../core/metrics/tasks';
import { DEMO_IMAGES, DEMO_MODEL, DEMO_PREPROCESS } from '../demo/demo';
import { nothingToQuantize, useApp, type CorrectionToggle } from './store';
import type { EditState } from './slices/qtable';
import { appliedOverrides, figureBasis } from './figureBasis';
import { dataFileName } from './dataFileNames';
import { holdForConfirmation, preprocessOnOpen } from './preprocessGate';

/**
 * The one bridge between the compute worker and the store: every user action that needs the
 * worker runs a job of workers/jobs.ts through here, and every result or progress report becomes a
 * store action. What it keeps between calls lives in the store (slices/session.ts), not here.
 */

const app = () => useApp.getState();

/**
 * Runs one job of the compute worker (workers/jobs.ts) with the job bar: `kind` is what the job is
 * (data the components read), `label` what the bar says. Undefined when it failed (the message is
 * shown) or was cancelled.
 */
export async function runJob<N extends JobName>(name: N, args: JobArgs<N>, label: string, options: { readonly kind?: string; readonly onEvent?: (event: JobEvent) => void; readonly started?: (jobId: string) => void } = {}): Promise<JobResult<N> | undefined> {
  const id = app().jobStarted(options.kind ?? name, label);
  const model = app().model;
  try {
    options.started?.(id);
    const onProgress = Comlink.proxy((progress: JobProgress) => app().jobProgressed(id, progress));
    return await runOnWorker(name, args, id, onProgress, options.onEvent && Comlink.proxy(options.onEvent));
  } catch (error) {
    // A job of a model that another replaced meanwhile ran on the new one (the worker queues jobs):
    // its failure is about a model that is gone, and says nothing the user can act on.
    if (!isCancelled(error) && app().model === model) app().notify('error', errorMessage(error));
    return undefined;
  } finally {
    app().jobEnded(id);
  }
}

/** How long a cancelled job may take to stop by itself before its worker is ended (issue #12). */
const CANCEL_GRACE_MS = 1000;

/**
 * Cancels a job: the worker stops it at its next check, between inferences. `stopNow` (the user's
 * Cancel) also makes sure it stops: one inference cannot be interrupted inside the compute worker's
 * thread, and while it runs the worker reads no message, so when the job still runs a second later
 * and the worker does not answer within another second, the worker itself is ended and the session
 * is built again in a new one (session/restore.ts), without the step that was cancelled. A worker
 * that answers is not held inside an inference (a search waits on its search workers, which the
 * worker ends itself: WorkbenchService.cancel). Without `stopNow` (an evaluation superseded by a
 * newer edit) the job just stops at its next check.
 */
export function cancelJob(jobId: string, { stopNow = false }: { readonly stopNow?: boolean } = {}): void {
  // A lost worker has nothing left to cancel; its job fails by itself (see session/restore.ts).
  const client = workbenchClient();
  client.cancel(jobId, stopNow).catch(() => {});
  if (!stopNow) return;
  setTimeout(() => {
    if (!app().jobs[jobId]) return;
    const answered = client.cancel(jobId, false).then(() => true, () => true);
    const silent = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), CANCEL_GRACE_MS));
    void Promise.race([answered, silent]).then((answers) => {
      const job = app().jobs[jobId];
      if (!answers && job) endComputeWorker(`cancel: "${job.label}" was inside one inference and did not stop`, job.kind);
    });
  }, CANCEL_GRACE_MS);
}

export async function loadCapabilities(): Promise<void> {
  try {
    useApp.setState({ capabilities: await workbenchClient().capabilities() });
  } catch (error) {
    app().notify('error', `The compute worker did not start: ${errorMessage(error)}`);
  }
}

const MODEL_EXTENSIONS = /\.(onnx|tflite|circle)$/i;

/** Files dropped or picked: a model (.onnx) opens first, everything else is calibration data. */
export async function openFiles(files: readonly File[]): Promise<void> {
  const models = files.filter((f) => MODEL_EXTENSIONS.test(f.name));
  const data = files.filter((f) => !MODEL_EXTENSIONS.test(f.name));
  if (models.length > 1) app().notify('error', `Drop one model at a time (got ${models.map((m) => m.name).join(', ')}).`);
  if (models.length === 1) {
    const opened = await openModel({ name: models[0].name, file: models[0] });
    if (!opened) return;
  }
  // a file from a folder keeps its path in it as its sample name (class folders -> labels)
  if (data.length > 0) await loadData(data.map((f) => ({ name: dataFileName(f), file: f })));
}

/** Opens a model; `restoring`: a session being built again brings its own QTable (no saved one is offered). */
export function openModel(source: FileSource, options: OpenOptions = {}, restoring = false): Promise<boolean> {
  const open = openModelNow(source, options, restoring);
  useApp.setState({ opening: open });
  void open.finally(() => {
    if (app().opening === open) useApp.setState({ opening: null });
  });
  return open;
}

async function openModelNow(source: FileSource, options: OpenOptions, restoring: boolean): Promise<boolean> {
  useApp.setState({ modelLoading: source.name });
  try {
    const summary = await call('openModel', { source, engineKind: app().engineKind, options, limits: app().limits });
    useApp.setState({ sources: { model: source, options, data: null, labels: null, outputTasks: {}, importedTable: null }, openedGraph: summary.graph });
    app().modelOpened(summary);
    preprocessOnOpen(summary.graph, restoring ? 'restoring' : options.dequantize ? 'same-model' : 'new');
    const saved = restoring ? null : app().savedQTable(summary.graph);
    if (saved) {
      app().replaceQTable(saved.qtable);
      const missing = saved.missing.length ? `; ${saved.missing.length} saved layer${saved.missing.length === 1 ? ' is' : 's are'} not in this model and ${saved.missing.length === 1 ? 'was' : 'were'} left out (${saved.missing.slice(0, 3).join(', ')}${saved.missing.length > 3 ? ', …' : ''})` : '';
      app().notify('info', `Restored ${saved.qtable.layers.size} precision setting${saved.qtable.layers.size === 1 ? '' : 's'} from your last session on ${summary.graph.fileName} (Undo drops them)${missing}.`);
    } else if (!restoring && summary.fileQTable) {
      // A quantized .tflite/.circle's own precisions (a 16x8 file's INT16 operators) are the QTable to start from.
      const counts = [...summary.fileQTable.layers.values()].reduce((m, p) => m.set(p, (m.get(p) ?? 0) + 1), new Map<string, number>());
      app().replaceQTable(summary.fileQTable);
      app().notify('info', `${summary.graph.fileName}: the file's own precisions imported as the QTable (${[...counts].map(([p, n]) => `${n} ${p}`).join(', ')}; the rest INT8; Undo drops them).`);
    }
    layOut(summary.graph);
    return true;
  } catch (error) {
    app().notify('error', errorMessage(error));
    return false;
  } finally {
    // Another open may have started meanwhile (the page opening the model again after a lost worker).
    if (app().modelLoading === source.name) useApp.setState({ modelLoading: null });
  }
}

/**
 * "Open as float": the open QDQ model again, as the float model it was made from with its own
 * ranges imported as the calibration; the data in use, if any, is read again for it.
 */
export async function openDequantized(): Promise<void> {
  const { model: source, data } = app().sources;
  if (!source) return;
  if (await openModel(source, { dequantize: true })) {
    if (data) await loadData(data);
  }
}

/** Says why a figure cannot be had when no layer can be quantized (the buttons are disabled then too); true when it refused. */
function refuseNothingToQuantize(what: string): boolean {
  const reason = nothingToQuantize(app());
  if (reason) app().notify('info', `${what}: nothing to quantize (${reason}).`);
  return reason !== null;
}

/** Reads calibration data for the open model and calibrates on it (unless `calibrate` is false: a restore whose calibration was cancelled). */
export async function loadData(sources: FileSource[], preprocess: ImagePreprocess = app().preprocess, { calibrate: calibrateNow = true }: { readonly calibrate?: boolean } = {}): Promise<boolean> {
  const { opening } = app();
  if (opening) await opening;
  if (!app().model) {
    app().notify('error', 'Open a model (.onnx) before adding calibration data.');
    return false;
  }
  // Images for a model whose preprocessing is not confirmed are read (their errors show now) but not calibrated.
  const held = calibrateNow && holdForConfirmation(sources);
  const dataset = await runJob('loadDataset', { sources, preprocess, limits: app().limits }, `Reading ${sources.length === 1 ? sources[0].name : `${sources.length} files`}`);
  if (!dataset) return false;
  useApp.setState((s) => ({ sources: { ...s.sources, data: sources } }));
  app().datasetLoaded(dataset);
  return calibrateNow && !held ? calibrate() : true;
}

/** Calibrates on the data read, then evaluates (unless `evaluate` is false: a restore evaluates once, at its end). False when it failed or was cancelled. */
export async function calibrate({ evaluate = true }: { readonly evaluate?: boolean } = {}): Promise<boolean> {
  const calibration = await runJob('calibrate', { qtable: app().qtable }, `Calibrating (${app().calibrationSettings.method})`, { kind: 'calibrate' });
  if (!calibration) return false;
  app().calibrated(calibration);
  if (evaluate) await evaluateCurrent();
  return true;
}

/**
 * Evaluates the current QTable: output similarity first (fast), then every layer. A newer edit
 * supersedes an older evaluation: the old one is cancelled and its results are dropped.
 */
export async function evaluateCurrent({ depths = ['outputs', 'layers'] }: { readonly depths?: readonly ('outputs' | 'layers')[] } = {}): Promise<void> {
  // With no quantizable layer the quantized model is the float model: its similarity (1) is no result.
  if (!app().calibration || nothingToQuantize(app())) return;
  const generation = app().evaluationGeneration + 1;
  useApp.setState({ evaluationGeneration: generation });
  for (const id of app().runningEvaluations) cancelJob(id);
  const { qtable } = app();
  useApp.setState({ preliminaryEvaluation: null });
  for (const depth of depths) {
    const label = depth === 'outputs' ? 'Evaluating output similarity' : 'Evaluating every layer';
    let jobId = '';
    let answered = false;
    const first = depth === 'outputs' ? firstFigure(generation, () => answered) : null;
    const evaluation = await runJob('evaluate', { qtable, depth, ...(first ? { firstSamples: PRELIMINARY_SAMPLES, streamFirst: true } : {}) }, label, {
      kind: `evaluate:${depth}`,
      started: (id) => useApp.setState((s) => ({ runningEvaluations: [...s.runningEvaluations, (jobId = id)] })),
      ...(first ? { onEvent: first } : {}),
    }).finally(() => useApp.setState((s) => ({ runningEvaluations: s.runningEvaluations.filter((id) => id !== jobId) })));
    answered = true;
    if (!evaluation || generation !== app().evaluationGeneration) return;
    app().evaluated(evaluation, depth);
    const { editStartedAt } = app();
    if (editStartedAt !== null) {
      const measure = performance.measure(`qbench:edit-to-${depth}`, { start: editStartedAt });
      useApp.setState(depth === 'outputs' ? { lastEditToSimilarityMs: measure.duration } : { lastEditToLayersMs: measure.duration });
    }
    if (depth === 'outputs') void measureQuantizedInFile();
  }
  useApp.setState({ editStartedAt: null });
}

/**
 * Issue #15's progressive answer: with more evaluation samples than PRELIMINARY_SAMPLES, the
 * outputs evaluation streams a first figure from the first few samples (what the edit changed, on
 * those samples only) while it goes on with the rest; this shows it, marked as such, unless a newer
 * edit superseded it or the full figure is in (`answered`: the event travels on its own port and
 * may land after the job's result). Null when there is no first figure to wait for (few samples,
 * or `?what_if=whole`).
 */
function firstFigure(generation: number, answered: () => boolean): ((event: JobEvent) => void) | null {
  const samples = app().calibration?.evaluationSampleCount ?? 0;
  if (samples <= PRELIMINARY_SAMPLES || new URLSearchParams(globalThis.location?.search ?? '').get('what_if') === 'whole') return null;
  return (event) => {
    if (event.type !== 'preliminary' || generation !== app().evaluationGeneration || answered()) return;
    app().evaluated(event.evaluation, 'outputs');
    const { editStartedAt } = app();
    if (editStartedAt !== null) useApp.setState({ lastEditToFirstFigureMs: performance.measure('qbench:edit-to-first-figure', { start: editStartedAt }).duration });
  };
}

/**
 * A QDQ file opened as float: its own quantized model, measured once per model and data on the
 * evaluation samples, to show beside the similarity of the re-quantization.
 */
async function measureQuantizedInFile(): Promise<void> {
  const { model, dataset } = app();
  if (!model?.dequantized || !dataset || app().quantizedInFile || app().measuringInFile === dataset) return;
  useApp.setState({ measuringInFile: dataset });
  try {
    const metrics = await runJob('measureQuantizedOriginal', {}, "Measuring the file's own quantized model");
    // Kept only if the data it was measured on is still the data in use (a new model or new data resets it).
    if (metrics && app().dataset === dataset && app().model?.dequantized) useApp.setState({ quantizedInFile: metrics });
  } finally {
    if (app().measuringInFile === dataset) useApp.setState({ measuringInFile: null });
  }
}

/** Lays out a graph off the main thread and shows it, unless another graph replaced it meanwhile. */
export function layOut(graph: ModelSummary['graph']): void {
  void layoutInWorker(graph)
    .then((layout) => {
      if (app().model?.graph === graph) app().layoutReady(layout);
    })
    .catch((error) => app().notify('error', `Graph layout failed: ${errorMessage(error)}`));
}

/** Lays out what the graph view draws with groups collapsed (src/ui/graph/useScopeGroups.ts), in a layout worker of its own. */
export function layOutView(graph: ModelSummary['graph']): ReturnType<typeof layoutViewInWorker> {
  return layoutViewInWorker(graph);
}

const CORRECTION_LABEL: Record<CorrectionToggle, string> = {
  foldBatchNorm: 'BatchNorm folding', equalize: 'Cross-layer equalization', smoothQuant: 'SmoothQuant',
  biasCorrection: 'Bias correction', tuneThresholds: 'KL threshold tuning',
};

/**
 * Switches one correction (or sets tune_num) and records its measured effect on the output
 * similarity of the current QTable. BN folding changes the graph: the new one is laid out and
 * shown, and the QTable stays as it is (precisions of folded BNs come back when folding is off).
 */
export async function setCorrection(toggle: CorrectionToggle | 'tuneNum' | 'minLayerCos', value: boolean | number): Promise<void> {
  const current = app().calibration?.corrections;
  if (!current) return;
  const next = { ...current, [toggle]: value };
  const shown: CorrectionToggle = toggle === 'tuneNum' ? 'tuneThresholds' : toggle === 'minLayerCos' ? 'biasCorrection' : toggle;
  useApp.setState({ correctionsPending: next });
  const result = await runJob('setCorrections', { corrections: next, qtable: app().qtable }, `${CORRECTION_LABEL[shown]} ${next[shown] ? 'on' : 'off'}`)
    .finally(() => useApp.setState({ correctionsPending: null }));
  if (!result) return;
  if (result.model) {
    app().modelReplaced(result.model);
    layOut(result.model.graph);
  }
  useApp.setState((s) => ({
    calibration: result.summary, calibrationSettings: result.summary.settings, baseline: null,
    correctionEffects: { ...s.correctionEffects, [shown]: { on: Boolean(next[shown]), ...result.report.outputCos } },
  }));
  const bias = result.report.effects.biasCorrection;
  if (toggle === 'biasCorrection' && value && bias && !bias.kept) {
    app().notify('info', bias.layers === 0
      ? 'Bias correction: no 8-bit convolution with a bias is below the layer cosine 0.99; nothing to correct.'
      : `Bias correction would lower the output cosine (${bias.before.toFixed(4)} → ${bias.after.toFixed(4)}); it was measured and reverted.`);
  }
  edited();
}

export function edited(): void {
  void evaluateEdit();
}

/** The evaluation of an edit just made (edited(), for a caller that waits for its figure). */
function evaluateEdit(): Promise<void> {
  // An edit answered from memory has no first figure: the last edit's must not stand for it.
  useApp.setState({ editStartedAt: performance.now(), lastEditToFirstFigureMs: null });
  return evaluateCurrent();
}

export function setPrecision(layer: LayerName, precision: Precision): void {
  const info = app().model?.layers.find((l) => l.name === layer);
  if (!info?.quantizable) {
    app().notify('info', `${layer} is not quantizable${info?.reason ? `: ${info.reason}` : ''}; it runs as in the model.`);
    return;
  }
  const before = app().qtable;
  app().setPrecision(layer, precision);
  if (app().qtable !== before) edited();
}

export function undo(): void {
  stepped(() => app().undo(), () => app().redo());
}

export function redo(): void {
  stepped(() => app().redo(), () => app().undo());
}

/**
 * Undo or Redo: the store moves at once; when the per-tensor overrides moved too, the worker gets
 * them back before the page evaluates, so the figure is that of the state restored (and if the
 * worker refuses, the step is taken back: the page never shows overrides the worker does not use).
 */
function stepped(step: () => void, back: () => void): void {
  const { qtable, tensorOverrides } = app();
  step();
  const moved = app().tensorOverrides;
  if (moved !== tensorOverrides) {
    void putOverrides(moved).then((ok) => {
      if (ok) edited();
      else if (app().tensorOverrides === moved) back();
    });
  } else if (app().qtable !== qtable) edited();
}

/** The worker's overrides made `overrides` exactly; the calibration shown follows. False when it failed (the message is shown). */
export async function putOverrides(overrides: OverrideList): Promise<boolean> {
  try {
    const summary = await call('replaceTensorOverrides', { overrides });
    if (summary) useApp.setState({ calibration: summary });
    return true;
  } catch (error) {
    app().notify('error', errorMessage(error));
    return false;
  }
}

/**
 * One undoable edit of the QTable, the per-tensor overrides or both (best methods, a Pareto point,
 * reset): the worker gets the overrides first, so the evaluation that follows measures both. Null
 * when nothing changed (or the worker refused); otherwise the evaluation of the edit, to wait for.
 */
async function commitEdit(next: Partial<EditState>): Promise<{ readonly evaluated: Promise<void> } | null> {
  const { qtable, tensorOverrides } = app();
  const overridesMove = next.overrides !== undefined && !sameOverrides(next.overrides, tensorOverrides);
  if (overridesMove && !(await putOverrides(next.overrides!))) return null;
  app().applyEdit(next);
  const changed = app().qtable !== qtable || app().tensorOverrides !== tensorOverrides;
  return changed ? { evaluated: evaluateEdit() } : null;
}

/** New calibration settings: a new method re-evaluates; a change of what is observed recalibrates. */
export async function updateCalibrationSettings(settings: Partial<CalibrationSettings>): Promise<void> {
  try {
    const { needsCalibration, summary } = await call('setCalibrationSettings', { settings });
    useApp.setState((s) => ({ calibrationSettings: { ...s.calibrationSettings, ...settings } }));
    if (needsCalibration) {
      if (app().dataset) await calibrate();
      return;
    }
    if (summary) useApp.setState({ calibration: summary, baseline: null });
    edited();
  } catch (error) {
    app().notify('error', errorMessage(error));
  }
}

export async function updateWeightOptions(options: Partial<WeightOptions>): Promise<void> {
  try {
    await call('setWeightOptions', { options });
    useApp.setState((s) => ({ weightOptions: { ...s.weightOptions, ...options }, baseline: null }));
    edited();
  } catch (error) {
    app().notify('error', errorMessage(error));
  }
}

/** A tensor's own calibration method or typed threshold; null returns it to the model-wide method. An undoable edit. */
export async function setTensorOverride(tensor: string, override: TensorOverride | null): Promise<void> {
  const next = new Map(app().tensorOverrides);
  if (override) next.set(tensor, override);
  else next.delete(tensor);
  await commitEdit({ overrides: [...next] });
}

/** Every per-tensor method and threshold back to the model-wide choice: one undoable edit. */
export async function resetOverrides(): Promise<void> {
  const count = app().tensorOverrides.length;
  if (await commitEdit({ overrides: NO_OVERRIDES }) !== null) {
    app().notify('info', `${count} per-tensor override${count === 1 ? '' : 's'} removed; every tensor takes the model-wide method again (Undo puts them back).`);
  }
}

/**
 * run_sensitive_layer's new cali table: each unit the last search ranked takes the method it
 * measured least loss with, and nothing else changes: one undoable edit. Its whole-model figure was
 * never measured (each method was, with only its unit quantized), so the page measures it and says
 * what it did.
 */
export async function applyBestMethods(): Promise<void> {
  const ranking = app().searchResult?.ranking ?? [];
  const layers = new Map((app().model?.layers ?? []).map((l) => [l.name, l]));
  const next = withBestMethods(app().tensorOverrides, ranking, layers);
  const changed = changedTensors(app().tensorOverrides, next).length;
  const previous = app().outputEvaluation;
  const before = previous?.output.cos;
  const edit = changed ? await commitEdit({ overrides: next }) : null;
  if (!edit) return;
  const { qtable, tensorOverrides } = app();
  await edit.evaluated;
  const after = app().outputEvaluation?.output.cos;
  // Said only of this edit's own evaluation, while the page still shows its state (another edit supersedes it).
  if (app().tensorOverrides !== tensorOverrides || app().qtable !== qtable || app().outputEvaluation === previous || after === undefined) return;
  const figures = before !== undefined ? `: output cos ${before.toFixed(6)} → ${after.toFixed(6)}, measured` : '';
  app().notify('info', `Best methods set on ${changed} tensor${changed === 1 ? '' : 's'}${figures}. Undo (Ctrl+Z) goes back.`);
}

export async function runThresholdSearch(): Promise<void> {
  if (refuseNothingToQuantize('search_threshold')) return;
  const result = await runJob('searchThreshold', {}, 'search_threshold: every method on the all-INT8 model');
  if (!result) return;
  useApp.setState({ thresholdSearch: result.rows, calibration: result.summary, calibrationSettings: result.summary.settings, baseline: null });
  edited();
}

/** A qtable, a ONE layer configuration or a cali_table, recognised by its content. */
export async function measureFloatBaseline(): Promise<void> {
  const result = await runJob('measureFloatInference', {}, 'Float inference (baseline)');
  if (result) useApp.setState({ floatBaseline: result });
}

export async function importTable(file: File): Promise<void> {
  try {
    const result = await call('importTable', { source: { name: file.name, file } });
    if (result.kind === 'cali_table') useApp.setState((s) => ({ sources: { ...s.sources, importedTable: { name: file.name, file } } }));
    const unknown = result.unknownNames.length ? `; ${result.unknownNames.length} names not in the model (${result.unknownNames.slice(0, 3).join(', ')}${result.unknownNames.length > 3 ? ', …' : ''})` : '';
    if (result.kind === 'cali_table') {
      useApp.setState({ calibration: result.summary, baseline: null });
      app().notify('info', `${file.name}: thresholds imported for ${result.summary.table.filter(([, e]) => e.source === 'imported').length} tensors${unknown}.`);
    } else {
      app().replaceQTable(result.qtable);
      app().notify('info', `${file.name}: ${result.qtable.layers.size} layer precisions imported${unknown}.`);
    }
    edited();
  } catch (error) {
    app().notify('error', errorMessage(error));
  }
}

export async function exportTableFile(kind: TableKind): Promise<OutputFile | undefined> {
  try {
    const { fileName, text, bytes, warnings } = await call('exportTable', { kind, qtable: app().qtable, evaluation: app().layerEvaluation });
    for (const warning of warnings) app().notify('info', warning);
    if (bytes) return { fileName, data: bytes, type: 'application/octet-stream' };
    return { fileName, data: text, type: kind === 'cali_table' ? 'text/plain' : 'application/json' };
  } catch (error) {
    app().notify('error', errorMessage(error));
    return undefined;
  }
}

export async function setScheme(scheme: TargetScheme['id']): Promise<void> {
  try {
    await call('setScheme', { scheme });
    // A scheme brings its weight granularity (Bolt: per tensor); the worker applied it too.
    useApp.setState((s) => ({ scheme, weightOptions: { ...s.weightOptions, granularity: TARGET_SCHEMES[scheme].weightGranularity }, outputEvaluation: null, layerEvaluation: null, baseline: null }));
    edited();
  } catch (error) {
    app().notify('error', errorMessage(error));
  }
}

function modelBaseName(): string {
  return (app().model?.graph.fileName ?? 'model').replace(/\.onnx$/i, '');
}

/** A file for the user to save (the page's download, src/ui/download.ts, takes it from here). */
export interface OutputFile {
  readonly fileName: string;
  readonly data: Uint8Array | string;
  readonly type: string;
}

export function exportQTable(): OutputFile {
  const text = formatQTable(app().qtable, { sampleCount: app().dataset?.sampleCount });
  return { fileName: `${modelBaseName()}.qtable`, data: text, type: 'text/plain' };
}

export async function exportQdqModel(): Promise<OutputFile | undefined> {
  if (refuseNothingToQuantize('QDQ export')) return undefined;
  const result = await runJob('exportQdq', { qtable: app().qtable }, 'Exporting and verifying the QDQ model');
  if (!result) return undefined;
  const fileName = `${modelBaseName()}.qdq.onnx`;
  useApp.setState({ lastExport: { verification: result.verification, fileName } });
  return { fileName, data: result.bytes, type: 'application/octet-stream' };
}

export async function startDemo(evaluationSamples?: number): Promise<void> {
  const opened = await openModel({ name: DEMO_MODEL.name, url: DEMO_MODEL.url });
  if (!opened) return;
  // A link may ask for fewer evaluation samples (?evaluation_samples=2): every edit is evaluated on them.
  if (evaluationSamples) {
    await call('setCalibrationSettings', { settings: { evaluationSamples } });
    useApp.setState((s) => ({ calibrationSettings: { ...s.calibrationSettings, evaluationSamples } }));
  }
  app().setPreprocess(DEMO_PREPROCESS);
  await loadData(DEMO_IMAGES.map((image) => ({ name: image.name, url: image.url })), DEMO_PREPROCESS);
}

/** The form's request for a search kind: what the user set, or the toolchain's defaults over the current QTable. */
export function searchRequestOf(kind: SearchKind): SearchRequest {
  const saved = app().searchRequests[kind];
  if (saved) return saved;
  return { kind, options: SEARCH_DEFAULTS[kind], metric: { kind: 'auto', compare: [] }, base: qtableToData(app().qtable) } as SearchRequest;
}

export function updateSearchRequest(request: SearchRequest): void {
  useApp.setState((s) => ({ searchRequests: { ...s.searchRequests, [request.kind]: request } }));
}

/**
 * Runs the selected search on the pool: each unit's sensitivity streams into the graph (the heatmap
 * switches to it), each scored configuration into the Pareto view, each step into the log.
 */
export async function runSearch(): Promise<void> {
  const kind = app().searchKind;
  if (refuseNothingToQuantize(SEARCH_LABEL[kind])) return;
  const request = { ...searchRequestOf(kind), base: qtableToData(app().qtable) } as SearchRequest;
  const basis = figureBasis(app());
  const ranks = kind === 'sensitive' || kind === 'qtable';
  if (ranks) useApp.setState({ metric: 'sensitivity' });
  // Streamed results are appended in place (a search ranks hundreds of units: copying the list per
  // event would be quadratic); the revision numbers tell the components something was added.
  const onEvent = (event: JobEvent) => {
    useApp.setState((s) => {
      const run = s.searchRun;
      if (!run) return {};
      switch (event.type) {
        case 'sensitivity':
          run.sensitivities.push(event.result);
          return { searchRun: { ...run, revision: run.revision + 1 } };
        case 'visited':
          s.visited.push(event.configuration);
          s.visitedBasis.set(event.configuration.id, basis);
          return { visitedRevision: s.visitedRevision + 1 };
        case 'log':
          run.log.push(event.line);
          if (run.log.length > 500) run.log.splice(0, run.log.length - 500);
          return { searchRun: { ...run, revision: run.revision + 1 } };
        default:
          return {};
      }
    });
  };
  const result = await runJob('search', { request }, `Search: ${SEARCH_LABEL[kind]}`, {
    onEvent,
    started: (id) => useApp.setState({ searchRun: { jobId: id, request, startedAt: performance.now(), sensitivities: [], log: [], revision: 0 }, searchResult: null }),
  });
  // A cancelled or failed search keeps what it found so far on screen (the sensitivities stay in the
  // graph) but no longer counts as running, so Run comes back.
  useApp.setState((s) => result
    ? { searchRun: null, searchResult: result }
    : { searchRun: s.searchRun && { ...s.searchRun, stopped: true } });
  if (result) {
    const changed = diffQTables(app().qtable, qtableFromData(result.qtable), quantizableLayers()).length;
    app().notify('info', `${SEARCH_LABEL[kind]}: done in ${(result.elapsedMs / 1000).toFixed(1)} s; ${changed} layer${changed === 1 ? '' : 's'} differ from the current QTable.`);
  }
}

/** Applies a search's QTable (or a Pareto point's): an edit like any other, so Undo takes it back. */
export function applyQTable(data: QTableData): void {
  const before = app().qtable;
  const next = qtableFromData(data);
  if (sameQTable(before, next)) return;
  app().replaceQTable(next);
  useApp.setState({ beforeApply: before });
  edited();
}

/**
 * Applies exactly a configuration a search scored (a Pareto point, a row under it, a search's
 * result): its QTable and the per-tensor overrides it was measured with, as one undoable edit, so
 * the header then shows its figure.
 */
export async function applyConfiguration(configuration: VisitedConfiguration): Promise<void> {
  const before = app().qtable;
  const overrides = appliedOverrides(configuration, app().visitedBasis.get(configuration.id), figureBasis(app()), calibratedTensors());
  if (await commitEdit({ qtable: qtableFromData(configuration.qtable), overrides }) !== null) {
    useApp.setState({ beforeApply: before });
  }
}

/** Every tensor the calibration has a range for (what a method's whole table covers). */
export function calibratedTensors(): string[] {
  return (app().calibration?.table ?? []).map(([tensor]) => tensor);
}

/** Names of the layers a QTable can set. */
export function quantizableLayers(): string[] {
  return (app().model?.layers ?? []).filter((l) => l.quantizable).map((l) => l.name);
}

/**
 * fp_forward from the graph: float everything before or after the selected layer, or between the
 * block start and end picked on the graph; the search runs at once and its result waits in the
 * Search tab to be applied.
 */
export async function floatFromSelection(where: 'before' | 'after' | 'between', layer: string): Promise<void> {
  const current = searchRequestOf('fp_forward');
  if (current.kind !== 'fp_forward') return;
  const block = current.options.blocks[0] ?? { starts: [], ends: [] };
  const options = where === 'before' ? { ...current.options, inputs: [layer], outputs: [], blocks: [] }
    : where === 'after' ? { ...current.options, inputs: [], outputs: [layer], blocks: [] }
    : { ...current.options, inputs: [], outputs: [], blocks: [block] };
  updateSearchRequest({ ...current, options });
  useApp.setState({ searchKind: 'fp_forward', bottomTab: 'search' });
  await runSearch();
}

/** Marks the selected layer as the start or the end of the block "Float between" keeps in float. */
export function markBlock(end: 'start' | 'end', layer: string): void {
  const current = searchRequestOf('fp_forward');
  if (current.kind !== 'fp_forward') return;
  const block = current.options.blocks[0] ?? { starts: [], ends: [] };
  const next = end === 'start' ? { starts: [layer], ends: block.ends } : { starts: block.starts, ends: [layer] };
  updateSearchRequest({ ...current, options: { ...current.options, blocks: [next] } });
}

/** Each output's task as the worker reads it (detected, or chosen), or null when there are no evaluation samples yet. */
export async function loadTaskSpecs(): Promise<Readonly<Record<string, TaskSpec>> | null> {
  if (!app().calibration) return null;
  try {
    return await call('taskSpecs', {});
  } catch (error) {
    app().notify('error', errorMessage(error));
    return null;
  }
}

/**
 * Scores an output as `task` (null: as detected), and evaluates again: the header's task figure,
 * the warnings and the searches' default metric follow. Refused by name when the output's shape
 * cannot hold the task; nothing changes then.
 */
export async function setOutputTask(output: string, task: OutputTask | null): Promise<Readonly<Record<string, TaskSpec>> | null> {
  try {
    const specs = await call('setOutputTask', { output, task });
    useApp.setState((s) => ({ outputEvaluation: null, layerEvaluation: null, baseline: null, sources: { ...s.sources, outputTasks: { ...s.sources.outputTasks, [output]: task } } }));
    edited();
    return specs;
  } catch (error) {
    app().notify('error', errorMessage(error));
    return null;
  }
}

/** The samples' true classes from a labels file (null forgets them), for a classifier's accuracy. */
export async function setLabels(file: File | null): Promise<void> {
  try {
    const { labelled, samples } = await call('setLabels', file ? { source: { name: file.name, file } } : {});
    app().notify('info', file ? `${file.name}: ${labelled} of ${samples} samples have a class; a classifier now also shows its accuracy.` : 'Labels forgotten.');
    useApp.setState((s) => ({ outputEvaluation: null, layerEvaluation: null, baseline: null, sources: { ...s.sources, labels: file ? { source: { name: file.name, file } } : null } }));
    edited();
  } catch (error) {
    app().notify('error', errorMessage(error));
  }
}

/**
 * The samples' class folders as their true classes (data/<class>/<image>: the folder names sorted
 * and numbered from 0, or folders named by a class index), as `qbench --labels folders`.
 */
export async function setLabelsFromFolders(): Promise<void> {
  try {
    const { labelled, samples } = await call('setLabels', { folders: true });
    app().notify('info', `${labelled} of ${samples} samples take their class from their folder; a classifier now also shows its accuracy.`);
    useApp.setState((s) => ({ outputEvaluation: null, layerEvaluation: null, baseline: null, sources: { ...s.sources, labels: { folders: true } } }));
    edited();
  } catch (error) {
    app().notify('error', errorMessage(error));
  }
}
