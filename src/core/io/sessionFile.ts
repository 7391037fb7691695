import { CALIBRATION_METHODS } from '../model/CaliTable';
import { DEFAULT_CALIBRATION, type CalibrationSettings } from '../calib/Calibration';
import type { OverrideList } from '../calib/overrideList';
import { NO_CORRECTIONS, type Corrections } from '../corrections/CorrectionState';
import { FormatError, QbenchError } from '../errors';
import { DEFAULT_PREPROCESS, RESIZE_MODES, type ImagePreprocess } from './dataset/ImagePreprocess';
import { parseJsonText } from './jsonText';
import { DEFAULT_LIMITS, type Limits } from './limits';
import { OUTPUT_TASKS, type OutputTask } from '../metrics/tasks';
import { PRECISIONS, type Precision, type QTableData } from '../model/QTable';
import { TARGET_SCHEMES, type TargetScheme } from '../quant/schemes';
import { DEFAULT_WEIGHT_OPTIONS, type WeightOptions } from '../quant/WeightOptions';
import type { RuleList } from '../rules/rules';
import { rulesFromList } from '../rules/rulesFile';
import type { SearchRequest } from '../search/SearchRequest';
import type { SearchKind, SearchResult, VisitedConfiguration } from '../search/SearchSession';

/**
 * The `.qbench` session file (issue #13 item 5; docs/formats.md): a page session as one JSON file
 * someone else can open with their own copy of the model and data. It names the model by file name,
 * size and SHA-256 (the settings and the QTable mean nothing on another model) and the data by file
 * names only: the bytes stay with their owner, the file stays small enough to mail or commit.
 * Everything else is the session's data: preprocessing, limits, scheme, weight and calibration
 * settings, corrections, calibration overrides, rules, output tasks, the QTable, optionally its
 * undo history, and the searches' requests and results. Figures are not kept: they are measured again.
 */

/** The version this build writes and the only one it reads; a later one is refused by name. */
export const SESSION_FILE_VERSION = 1;

export const SESSION_FILE_EXTENSION = '.qbench';

/** The model a session was made on: enough to say which file it wants and to refuse another. */
export interface SessionModelRef {
  readonly name: string;
  readonly bytes: number;
  /** SHA-256 of the model file's bytes, lowercase hex. */
  readonly sha256: string;
}

/** One undo step (the page's EditData, restated here: core does not depend on the page). */
export interface SessionEdit {
  readonly qtable: QTableData;
  readonly overrides: OverrideList;
  readonly rules?: RuleList;
}

/** The session's settings and edits: what a `.qbench` carries besides the files' names. */
export interface SessionContent {
  readonly options: { readonly dequantize?: boolean };
  readonly preprocess: ImagePreprocess;
  readonly limits: Limits;
  readonly scheme: TargetScheme['id'];
  readonly weightOptions: WeightOptions;
  readonly calibrationSettings: CalibrationSettings;
  /** null: the session was never calibrated (no corrections were chosen). */
  readonly corrections: Corrections | null;
  readonly qtable: QTableData;
  readonly overrides: OverrideList;
  readonly rules: RuleList;
  readonly outputTasks: Readonly<Record<string, OutputTask | null>>;
  /** The undo history; absent when the file was saved without it. */
  readonly past?: readonly SessionEdit[];
  readonly future?: readonly SessionEdit[];
  readonly searchKind?: SearchKind;
  readonly searchRequests?: Partial<Record<SearchKind, SearchRequest>>;
  readonly searchResult?: SearchResult | null;
  readonly visited?: readonly VisitedConfiguration[];
}

export interface SessionFile extends SessionContent {
  readonly qbench_session: typeof SESSION_FILE_VERSION;
  readonly model: SessionModelRef;
  /** The calibration data's file names, in the order they were opened (null: no data). */
  readonly data: readonly string[] | null;
  /** The labels file's name, or class folders; null: no labels. */
  readonly labels: { readonly file?: string; readonly folders?: boolean } | null;
  /** The name of the cali_table imported over the calibration, if any. */
  readonly importedTable: string | null;
}

/** The file name a session on `modelName` is saved under: `resnet.onnx` → `resnet.qbench`. */
export function sessionFileName(modelName: string): string {
  return `${modelName.replace(/\.[^./\\]+$/, '') || 'session'}${SESSION_FILE_EXTENSION}`;
}

/** Lowercase hex of a digest (crypto.subtle in the page, node:crypto in the CLI give bytes). */
export function hexOf(digest: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(digest instanceof Uint8Array ? digest : new Uint8Array(digest))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function formatSessionFile(file: Omit<SessionFile, 'qbench_session'>): string {
  return `${JSON.stringify({ qbench_session: SESSION_FILE_VERSION, ...file }, null, 1)}\n`;
}

/**
 * Refuses a session made on another model: the hash decides (a renamed file is the same model),
 * and the message says which file the session wants.
 */
export function checkSessionModel(session: SessionFile, model: { readonly name: string; readonly sha256: string }, sessionName: string): void {
  if (session.model.sha256 === model.sha256.toLowerCase()) return;
  throw new QbenchError(
    `this session was made on ${describeModel(session.model)}, not on ${model.name} (its SHA-256 differs): open ${session.model.name} with it`,
    sessionName,
  );
}

/** "yolo.onnx (12.3 MB, SHA-256 1f2e3d4c…)": the model a session wants, as a message names it. */
export function describeModel(ref: SessionModelRef): string {
  const size = ref.bytes >= 1024 * 1024 ? `${(ref.bytes / 1024 / 1024).toFixed(1)} MB` : `${ref.bytes.toLocaleString('en-US')} bytes`;
  return `${ref.name} (${size}, SHA-256 ${ref.sha256.slice(0, 12)}…)`;
}

type Obj = Record<string, unknown>;

/** Reads a `.qbench`; anything malformed is refused with the file's name and the field's path. */
export function parseSessionFile(text: string, fileName: string): SessionFile {
  const data = parseJsonText(text, fileName, 'a qbench session file');
  const fail = (path: string, expected: string, found: unknown): never => {
    throw new FormatError(fileName, `${path}: expected ${expected}, found ${JSON.stringify(found) ?? 'nothing'}`);
  };
  if (!isObj(data) || !('qbench_session' in data)) {
    throw new FormatError(fileName, 'expected a qbench session file (a JSON object with "qbench_session": 1, saved by Save session)');
  }
  if (data.qbench_session !== SESSION_FILE_VERSION) {
    throw new FormatError(fileName, `session file version ${JSON.stringify(data.qbench_session)} is not one this qbench reads (it reads version ${SESSION_FILE_VERSION}): open it with the qbench that saved it`);
  }
  const obj = (path: string, v: unknown): Obj => (isObj(v) ? v : fail(path, 'an object', v));
  const str = (path: string, v: unknown): string => (typeof v === 'string' && v !== '' ? v : fail(path, 'a non-empty text', v));
  const num = (path: string, v: unknown, ok: (n: number) => boolean = () => true, what = 'a number'): number => (typeof v === 'number' && Number.isFinite(v) && ok(v) ? v : fail(path, what, v));
  const oneOf = <T extends string>(path: string, v: unknown, values: readonly T[]): T => (values.includes(v as T) ? (v as T) : fail(path, `one of ${values.join(', ')}`, v));
  const list = (path: string, v: unknown): unknown[] => (Array.isArray(v) ? v : fail(path, 'a list', v));
  const positiveInt = (n: number) => Number.isInteger(n) && n > 0;

  const m = obj('model', data.model);
  const model: SessionModelRef = {
    name: str('model.name', m.name),
    bytes: num('model.bytes', m.bytes, (n) => Number.isInteger(n) && n >= 0, 'a byte count'),
    sha256: typeof m.sha256 === 'string' && /^[0-9a-fA-F]{64}$/.test(m.sha256) ? m.sha256.toLowerCase() : fail('model.sha256', 'a SHA-256 in 64 hex digits', m.sha256),
  };
  const names = data.data === null || data.data === undefined ? null : list('data', data.data).map((v, i) => str(`data[${i}]`, v));
  const labels = data.labels === null || data.labels === undefined ? null : readLabels(obj('labels', data.labels), str);
  const importedTable = data.importedTable === null || data.importedTable === undefined ? null : str('importedTable', data.importedTable);

  const qtable = (path: string, v: unknown): QTableData => {
    const q = obj(path, v);
    return {
      defaultPrecision: oneOf(`${path}.defaultPrecision`, q.defaultPrecision, PRECISIONS),
      layers: list(`${path}.layers`, q.layers).map((e, i) => {
        const pair = Array.isArray(e) && e.length === 2 ? e : fail(`${path}.layers[${i}]`, 'a [layer, precision] pair', e);
        return [str(`${path}.layers[${i}][0]`, pair[0]), oneOf<Precision>(`${path}.layers[${i}][1]`, pair[1], PRECISIONS)] as const;
      }),
    };
  };
  const overrides = (path: string, v: unknown): OverrideList => list(path, v ?? []).map((e, i) => {
    const pair = Array.isArray(e) && e.length === 2 ? e : fail(`${path}[${i}]`, 'a [tensor, override] pair', e);
    const o = obj(`${path}[${i}][1]`, pair[1]);
    const override = 'threshold' in o ? { threshold: num(`${path}[${i}][1].threshold`, o.threshold, (n) => n > 0, 'a positive threshold') } : { method: oneOf(`${path}[${i}][1].method`, o.method, CALIBRATION_METHODS) };
    return [str(`${path}[${i}][0]`, pair[0]), override] as const;
  });
  const rules = (path: string, v: unknown): RuleList => rulesFromList(list(path, v ?? []), fileName, path);
  const edits = (path: string, v: unknown): SessionEdit[] | undefined => v === undefined ? undefined : list(path, v).map((e, i) => {
    const o = obj(`${path}[${i}]`, e);
    return { qtable: qtable(`${path}[${i}].qtable`, o.qtable), overrides: overrides(`${path}[${i}].overrides`, o.overrides), rules: rules(`${path}[${i}].rules`, o.rules) };
  });

  const p = obj('preprocess', data.preprocess);
  const triple = (path: string, v: unknown) => {
    const a = list(path, v);
    return a.length === 3 ? ([0, 1, 2].map((i) => num(`${path}[${i}]`, a[i])) as [number, number, number]) : fail(path, 'three numbers (one per channel)', v);
  };
  const dims = (path: string, v: unknown): readonly [number, number] | null => {
    if (v === null || v === undefined) return null;
    const a = list(path, v);
    return a.length === 2 ? [num(`${path}[0]`, a[0], positiveInt, 'a positive whole number'), num(`${path}[1]`, a[1], positiveInt, 'a positive whole number')] : fail(path, '[height, width]', v);
  };
  const preprocess: ImagePreprocess = {
    ...DEFAULT_PREPROCESS,
    resizeDims: dims('preprocess.resizeDims', p.resizeDims),
    inputSize: dims('preprocess.inputSize', p.inputSize),
    mean: triple('preprocess.mean', p.mean),
    scale: triple('preprocess.scale', p.scale),
    pixelFormat: oneOf('preprocess.pixelFormat', p.pixelFormat, ['rgb', 'bgr', 'gray'] as const),
    layout: oneOf('preprocess.layout', p.layout, ['nchw', 'nhwc'] as const),
    ...(p.resizeMode === undefined ? {} : { resizeMode: oneOf('preprocess.resizeMode', p.resizeMode, RESIZE_MODES) }),
    ...(p.padValue === undefined ? {} : { padValue: num('preprocess.padValue', p.padValue, (n) => n >= 0 && n <= 255, 'a pixel value from 0 to 255') }),
  };

  // Settings a later qbench may add to are read over the defaults: a missing field is the default.
  const l = obj('limits', data.limits ?? {});
  const limits = Object.fromEntries(Object.entries(DEFAULT_LIMITS).map(([k, d]) => [k, l[k] === undefined ? d : num(`limits.${k}`, l[k], (n) => n > 0, 'a positive number')])) as unknown as Limits;
  const w = obj('weightOptions', data.weightOptions ?? {});
  const weightOptions: WeightOptions = {
    granularity: w.granularity === undefined ? DEFAULT_WEIGHT_OPTIONS.granularity : oneOf('weightOptions.granularity', w.granularity, ['channel', 'tensor'] as const),
    scaleMethod: w.scaleMethod === undefined ? DEFAULT_WEIGHT_OPTIONS.scaleMethod : oneOf('weightOptions.scaleMethod', w.scaleMethod, ['max', 'mse'] as const),
  };
  const c = obj('calibrationSettings', data.calibrationSettings ?? {});
  const countOrNull = (path: string, v: unknown) => (v === null || v === undefined ? null : num(path, v, positiveInt, 'a positive whole number or null'));
  const calibrationSettings: CalibrationSettings = {
    method: c.method === undefined ? DEFAULT_CALIBRATION.method : oneOf('calibrationSettings.method', c.method, CALIBRATION_METHODS),
    histogramBins: c.histogramBins === undefined ? DEFAULT_CALIBRATION.histogramBins : num('calibrationSettings.histogramBins', c.histogramBins, positiveInt, 'a positive whole number'),
    valuesPerTensor: c.valuesPerTensor === undefined ? DEFAULT_CALIBRATION.valuesPerTensor : c.valuesPerTensor === 'all' ? 'all' : num('calibrationSettings.valuesPerTensor', c.valuesPerTensor, positiveInt, 'a positive whole number or "all"'),
    collect: c.collect === undefined ? DEFAULT_CALIBRATION.collect : oneOf('calibrationSettings.collect', c.collect, ['all', 'method'] as const),
    calibrationSamples: countOrNull('calibrationSettings.calibrationSamples', c.calibrationSamples),
    evaluationSamples: countOrNull('calibrationSettings.evaluationSamples', c.evaluationSamples),
  };
  const corrections = data.corrections === null || data.corrections === undefined ? null : readCorrections(obj('corrections', data.corrections), fail);
  const tasks = obj('outputTasks', data.outputTasks ?? {});
  const outputTasks = Object.fromEntries(Object.entries(tasks).map(([k, v]) => [k, v === null ? null : oneOf(`outputTasks.${k}`, v, OUTPUT_TASKS)]));
  const options = obj('options', data.options ?? {});

  return {
    qbench_session: SESSION_FILE_VERSION,
    model,
    data: names,
    labels,
    importedTable,
    options: options.dequantize === true ? { dequantize: true } : {},
    preprocess,
    limits,
    scheme: oneOf('scheme', data.scheme ?? 'ort-qdq', Object.keys(TARGET_SCHEMES) as TargetScheme['id'][]),
    weightOptions,
    calibrationSettings,
    corrections,
    qtable: qtable('qtable', data.qtable),
    overrides: overrides('overrides', data.overrides),
    rules: rules('rules', data.rules),
    outputTasks,
    past: edits('past', data.past),
    future: edits('future', data.future),
    // The searches' records are shown, never computed from: kept as they are, only their shape checked.
    ...(data.searchKind === undefined ? {} : { searchKind: str('searchKind', data.searchKind) as SearchKind }),
    ...(data.searchRequests === undefined ? {} : { searchRequests: obj('searchRequests', data.searchRequests) as Partial<Record<SearchKind, SearchRequest>> }),
    ...(data.searchResult === undefined ? {} : { searchResult: data.searchResult === null ? null : (obj('searchResult', data.searchResult) as unknown as SearchResult) }),
    ...(data.visited === undefined ? {} : { visited: list('visited', data.visited) as VisitedConfiguration[] }),
  };
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readLabels(o: Obj, str: (path: string, v: unknown) => string): SessionFile['labels'] {
  return { ...(o.file === undefined ? {} : { file: str('labels.file', o.file) }), ...(o.folders === true ? { folders: true } : {}) };
}

function readCorrections(o: Obj, fail: (path: string, expected: string, found: unknown) => never): Corrections {
  const flag = (k: keyof Corrections): boolean => {
    const v = o[k];
    if (v === undefined) return NO_CORRECTIONS[k] as boolean;
    return typeof v === 'boolean' ? v : fail(`corrections.${k}`, 'true or false', v);
  };
  const number = (k: keyof Corrections, ok: (n: number) => boolean, what: string): number => {
    const v = o[k];
    if (v === undefined) return NO_CORRECTIONS[k] as number;
    return typeof v === 'number' && ok(v) ? v : fail(`corrections.${k}`, what, v);
  };
  const biasSamples = o.biasSamples;
  return {
    foldBatchNorm: flag('foldBatchNorm'),
    equalize: flag('equalize'),
    smoothQuant: flag('smoothQuant'),
    biasCorrection: flag('biasCorrection'),
    tuneThresholds: flag('tuneThresholds'),
    tuneNum: number('tuneNum', (n) => Number.isInteger(n) && n > 0, 'a positive whole number'),
    minLayerCos: number('minLayerCos', (n) => n >= -1 && n <= 1, 'a number from -1 to 1'),
    biasSamples: biasSamples === null || biasSamples === undefined ? null : typeof biasSamples === 'number' && Number.isInteger(biasSamples) && biasSamples > 0 ? biasSamples : fail('corrections.biasSamples', 'a positive whole number or null', biasSamples),
  };
}
