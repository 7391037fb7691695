import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { errorMessage, QbenchError } from '../src/core/errors';
import { loadDataset } from '../src/core/io/dataset/loadDataset';
import { formatQTable, parseQTable } from '../src/core/io/qtable';
import { entriesOnOperators, qtableLayer } from '../src/core/quant/layerInfo';
import { NO_RULES, reapplyRules, ruleLayersOf, ruleOutcome } from '../src/core/rules/rules';
import { parseRules } from '../src/core/rules/rulesFile';
import type { Rule } from '../src/core/rules/rules';
import { checkSessionModel, parseSessionFile, type SessionFile } from '../src/core/io/sessionFile';
import type { ImagePreprocess } from '../src/core/io/dataset/ImagePreprocess';
import { preprocessForModel } from '../src/core/io/dataset/modelPreprocess';
import type { Limits } from '../src/core/io/limits';
import { jobContext } from '../src/core/jobs/Job';
import type { ErrorMetrics } from '../src/core/metrics/similarity';
import { targetScheme } from '../src/core/quant/schemes';
import { partKey } from '../src/core/metrics/outputParts';
import { labelsFromFolders, parseLabels } from '../src/core/metrics/outputScoring';
import { OUTPUT_TASKS, type OutputTask, type TaskSpec } from '../src/core/metrics/tasks';
import { taskFiguresText } from '../src/core/metrics/taskMetrics';
import { ALL_INT8, qtableFromData, qtableToData, type QTable } from '../src/core/model/QTable';
import { formatOneConfig } from '../src/core/io/oneConfig';
import { oneConfigLayers } from '../src/core/export/flatbufferExports';
import { writeRecordMinmax } from '../src/core/io/recordMinmax';
import { bestMethodOverrides } from '../src/core/search/bestMethods';
import { resultOutputCos, SEARCH_LABEL } from '../src/core/search/describe';
import { nodeSearchPool } from './nodeSearchPool';
import { LANE_SLOTS, startRunWatchdog, watchedCall, watchedEngine, type RunWatchdog } from './runWatchdog';
import { checkSearchFlags, SEARCH_NAMES, searchRequestFrom, SearchFlagError, type SearchFlags } from './searchFlags';
import type { Evaluation } from '../src/core/model/Evaluation';
import { bestThresholdMethod, NO_CORRECTIONS, Workbench, type CorrectionEffects, type Corrections, type ThresholdSearchRow } from '../src/core/Workbench';
import type { CalibrationSettings } from '../src/core/calib/Calibration';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../src/core/model/CaliTable';
import { formatCaliTable, parseCaliTable } from '../src/core/io/caliTable';
import { nodeImageDecoder } from './nodeImageDecoder';
import { countFlag, FlagError, limitsFrom, LIMITS_USAGE } from './limitFlags';
import { describePreprocess, preprocessFlagsGiven, preprocessFrom } from './preprocessFlags';
import { readRegularFile, readRegularText } from './readChecked';
import { ortNodeEngine } from './ortNodeEngine';
import { ortNodeLanes } from './engineLanes';
import { errorLine } from './errorLine';

const USAGE = `qbench: quantization workbench, headless

Usage:
  qbench calibrate --model m.onnx --data <dir|file.h5|file.npz> [--cali_method M] [--search search_threshold]
                   [--histogram_bin_num 2048] -o cali_table [--record_minmax out.circle] [--json]
  qbench eval      --model m.onnx --data <dir|file>[,file...] [--qtable t.qtable] [--calibration_table t] [--local] [--json]
  qbench export    --model m.onnx --data <dir|file> [--qtable t.qtable] [--calibration_table t]
                   --out model.qdq.onnx [--qtable-out t.qtable]
  qbench search    sensitive|qtable|run_qtable|bisection|fp_forward|pattern|pattern_resolver
                   --model m.onnx --data <dir|file> [search flags] -o out.qtable [--one_config out.json]
                   [--record_minmax out.circle] [--json]

Searches (TPU-MLIR's and ONE's names and defaults):
  sensitive     run_sensitive_layer: --quantize_method_list MAX,Percentile9999,KL --expected_cos 0.99
                --max_float_layers 5 --fp_type F32|F16 [--new_cali_table t]: the cali_table with each
                ranked layer at its best method's threshold (TPU-MLIR's new_cali_table.txt)
  qtable        search_qtable: --quantize_method_list MSE --expected_cos 0.99 --max_float_layers 5 [--cluster]
  run_qtable    --min_layer_cos 0.99 --expected_cos 0.99
  bisection     ONE circle-mpqsolver: --qerror_ratio 0.5 --bisection auto|true|false
  fp_forward    --fpfwd_inputs a,b --fpfwd_outputs c --fpfwd_blocks "s1,s2:e1 s3:e3" --fp_type F32|F16
  pattern       TPU-MLIR pattern-match (YOLO post-processing, transformer rules)
  pattern_resolver  ONE: --u8_layernorm_with_s16_variance --u8_softmax_with_s16_sub_exp (both by default)
  --metric auto|task|detection|iou|ctc|top1|cos|rescaled_cos|sqnr|mae  what configurations are scored by.
                auto (the default): the model's task figure where an output has a task (top-1
                agreement, detection F1, map IoU, CTC decoded agreement; cosine breaks ties), else the
                toolchain's own (TPU-MLIR: rescaled_cos = 0.5+0.5cos, the scale of expected_cos;
                ONE's bisection: mae, its qerror). detection, iou and ctc are names for task.
  --global_compare_layers "a:0.3,b:0.7"  compare these layers instead of the outputs
  --inference_num N  samples every configuration is scored on; --workers N  worker threads (default: all cores)
  The search starts from --qtable (default all INT8); -o writes the result as a TPU-MLIR qtable.

Outputs (every command):
  --local                        eval: also each layer's local error (the layer alone quantized, fed float
                                 inputs), beside the accumulated one; costs about one more evaluation
  --task out=classifier|detector|dense|sequence|other[,…]  score an output as this task (default: told
                                 from its shape and float values; eval --json says which)
  --labels FILE|folders          the samples' true classes, for a classifier's accuracy: FILE has
                                 "<sample name> <class index>" per line (or the index alone, in order);
                                 folders: the data is a folder per class (data/<class>/<image>)

ONE (a .circle or .tflite model):
  --record_minmax out.circle     calibrate, search: the calibration as ONE's record-minmax writes it, the model
                                 as a .circle with each float activation's quantization min/max (a .tflite is
                                 converted as tflite2circle does); for circle-quantizer --quantize_with_minmax

Calibration (every command):
  --cali_method max|percentile9999|kl|kl_tensorrt|mse|aciq_gauss|aciq_laplace|minmax_percentile|moving_average
                                 activation calibration method (default max); TPU-MLIR's use_* names work too
  --calibration_table t          use a TPU-MLIR cali_table's thresholds instead (eval, export)
  --histogram_bin_num N          KL histogram bins (default 2048)
  --values_per_tensor N|all      elements sampled per tensor per sample for histograms (default 4096)
  --input_num N                  samples that calibrate (default all); --inference_num N: samples that evaluate
  --weight_granularity channel|tensor, --weight_scale max|mse
Corrections (every command; TPU-MLIR's names):
  --fold_bn                      fold BatchNorm into the convolution before it (Bolt -b)
  --we                           cross-layer weight equalization
  --sq                           SmoothQuant
  --bc                           bias correction, kept only if the output similarity does not drop
  --min_layer_cos 0.99           bias correction corrects convolutions below this local cosine
  --bc_inference_num N           samples bias correction measures (default: the calibration samples)
  --tune_num N                   tune the KL thresholds on N samples (with --cali_method kl)

Data: a directory of .npy/.npz/.h5/images, or files separated by commas.
Image preprocessing (TPU-MLIR's names): images start from the model's own preprocessing (its input's layout and
channels, uint8 as raw pixels, its metadata; else RGB, /255, stretch), or the --session's; each flag given goes
over it, and a note says what was used:
  --mean 123.675,116.28,103.53   per-channel mean, in the pixel format's order
  --scale 0.0171,0.0175,0.0174   per-channel scale: value = (pixel - mean) * scale
  --pixel_format rgb|bgr|gray    channel order (default: the model's, else rgb)
  --preset imagenet|yolo|ppocr_det|ppocr_rec|minus1_1|raw
                                 a model family's preprocessing over the model's layout and size; the flags below override it:
                                 imagenet: RGB, mean 255*[0.485,0.456,0.406], std 255*[0.229,0.224,0.225], crop
                                 yolo: RGB, /255, letterbox padded with 114 (640x640 when dynamic)
                                 ppocr_det: BGR, the ImageNet mean/std in BGR order, stretch (320x320 when dynamic)
                                 ppocr_rec: BGR, (x-127.5)/127.5, keep_aspect_pad padded with 127.5 (48x320)
                                 minus1_1: RGB, (x-127.5)/127.5; raw: RGB, 0..255 as they are
  --resize_mode stretch|crop|letterbox|keep_aspect_pad
                                 how an image fits the input (default: the model's, else stretch; crop with --resize_dims):
                                 crop: cover, then the centre; letterbox: fit, centred, padded;
                                 keep_aspect_pad: height fills, width by the aspect (at most the input's), padded right
  --pad_value V                  the padding's pixel value, 0..255 (default 114 letterbox, 0 keep_aspect_pad)
  --resize_dims H,W              resize to H,W then centre-crop to the input size (--resize_mode crop)
  --input_size H,W               input size for models with dynamic height/width
  --layout nchw|nhwc             tensor layout (default: the model's input, NHWC when its last axis is 1 or 3)
Other:
  --target ort-qdq|tpu-mlir|one|bolt  quantization scheme (default ort-qdq: uint8 asymmetric activations)
  --session file.qbench          a session saved by the page (Export → Save session): its preprocessing, calibration
                                 settings, weight options, target, corrections, calibration overrides, rules, output
                                 tasks and QTable, as if given by their flags (the flags given win); refused when
                                 the model's SHA-256 is not the one the session was made on
  --rules file.json              precision rules applied to the QTable of any command, in order, the later winning
                                 (the page's Save rules; {"rules": [{"kind": "op|name|scope|first|last", "value": "Softmax",
                                 "precision": "FP32"}]}); the layers --qtable sets keep its precision
  --max_samples N                use the first N samples only
  --threads N                    onnxruntime threads: the float model's intra-op threads, and the calibration pass's
                                 engine threads (default: all cores; at most --max_threads; 1: one thread for both)
  --json                         (eval) print one JSON object
  --dequantize                   the model is already quantized (QDQ, QOperator or dynamic): quantize the float model
                                 it was made from, with its quantizers' ranges imported as the calibration (dynamic
                                 quantization has none); eval also measures the file's own

${LIMITS_USAGE}`;

const OPTIONS = {
  model: { type: 'string' },
  data: { type: 'string' },
  session: { type: 'string' },
  qtable: { type: 'string' },
  rules: { type: 'string' },
  json: { type: 'boolean' },
  dequantize: { type: 'boolean' },
  out: { type: 'string', short: 'o' },
  'qtable-out': { type: 'string' },
  qtable_out: { type: 'string' },
  mean: { type: 'string' },
  scale: { type: 'string' },
  pixel_format: { type: 'string' },
  resize_dims: { type: 'string' },
  input_size: { type: 'string' },
  preset: { type: 'string' },
  resize_mode: { type: 'string' },
  pad_value: { type: 'string' },
  layout: { type: 'string' },
  target: { type: 'string' },
  max_samples: { type: 'string' },
  cali_method: { type: 'string' },
  calibration_table: { type: 'string' },
  search: { type: 'string' },
  histogram_bin_num: { type: 'string' },
  values_per_tensor: { type: 'string' },
  input_num: { type: 'string' },
  inference_num: { type: 'string' },
  weight_granularity: { type: 'string' },
  weight_scale: { type: 'string' },
  tune_num: { type: 'string' },
  fold_bn: { type: 'boolean' },
  we: { type: 'boolean' },
  sq: { type: 'boolean' },
  bc: { type: 'boolean' },
  min_layer_cos: { type: 'string' },
  bc_inference_num: { type: 'string' },
  threads: { type: 'string' },
  workers: { type: 'string' },
  one_config: { type: 'string' },
  record_minmax: { type: 'string' },
  new_cali_table: { type: 'string' },
  expected_cos: { type: 'string' },
  max_float_layers: { type: 'string' },
  quantize_method_list: { type: 'string' },
  cluster: { type: 'boolean' },
  fp_type: { type: 'string' },
  qerror_ratio: { type: 'string' },
  bisection: { type: 'string' },
  fpfwd_inputs: { type: 'string' },
  fpfwd_outputs: { type: 'string' },
  fpfwd_blocks: { type: 'string' },
  u8_layernorm_with_s16_variance: { type: 'boolean' },
  u8_softmax_with_s16_sub_exp: { type: 'boolean' },
  metric: { type: 'string' },
  labels: { type: 'string' },
  local: { type: 'boolean' },
  task: { type: 'string' },
  global_compare_layers: { type: 'string' },
  max_image_pixels: { type: 'string' },
  max_archive_bytes: { type: 'string' },
  max_tensor_bytes: { type: 'string' },
  max_model_bytes: { type: 'string' },
  max_dataset_samples: { type: 'string' },
  max_input_side: { type: 'string' },
  max_threads: { type: 'string' },
  max_loop_trips: { type: 'string' },
  max_run_seconds: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

/** A bad flag value found by limitFlags.ts is bad usage too (exit 2). */
function usage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw error instanceof FlagError ? new UsageError(error.message) : error;
  }
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

const DATA_EXTENSIONS = /\.(npy|npz|h5|hdf5|jpe?g|png|bmp|webp)$/i;

async function readData(spec: string): Promise<{ name: string; bytes: Uint8Array }[]> {
  const paths: { path: string; name: string }[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    let info;
    try {
      info = await stat(part);
    } catch {
      throw new QbenchError('no such file or directory', part);
    }
    if (info.isDirectory()) {
      const entries = (await readdir(part, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
      const files = entries.filter((e) => e.isFile() && DATA_EXTENSIONS.test(e.name)).map((e) => ({ path: join(part, e.name), name: e.name }));
      // No files at the top: a folder per class (cat/001.jpg), one level down; samples keep their folder in their name.
      if (files.length === 0) {
        for (const folder of entries.filter((e) => e.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
          const inner = (await readdir(join(part, folder.name))).filter((f) => !f.startsWith('.') && DATA_EXTENSIONS.test(f)).sort();
          files.push(...inner.map((f) => ({ path: join(part, folder.name, f), name: `${folder.name}/${f}` })));
        }
      }
      if (files.length === 0) throw new QbenchError('the directory holds no .npy, .npz, .h5 or image files (nor class folders of them)', part);
      paths.push(...files);
    } else {
      paths.push({ path: part, name: basename(part) });
    }
  }
  return Promise.all(paths.map(async ({ path, name }) => ({ name, bytes: await readRegularFile(path, 'calibration data') })));
}

/** The run watchdog of this command (started when the model opens). */
let runWatchdog: RunWatchdog | null = null;
/** The command being run ("eval", "search bisection"), for the messages. */
let commandLine = '';

async function openWorkbench(values: Values, positionals: readonly string[] = [], checkMore: () => void = () => {}): Promise<{ bench: Workbench; qtable: QTable }> {
  if (!values.model) throw new UsageError('--model is required');
  if (!values.data) throw new UsageError('--data is required');
  // Every flag is checked before any file is read: bad usage is exit 2 whatever the files are.
  const flagSettings = calibrationSettingsFrom(values);
  const flagCorrections = correctionsFrom(values, positionals);
  const tasks = values.task ? taskFlags(values.task) : [];
  checkMore();
  const limits = usage(() => limitsFrom(values));
  const maxSamples = values.max_samples ? usage(() => countFlag(values.max_samples!, 'max_samples')) : Infinity;
  const threads = values.threads ? usage(() => countFlag(values.threads!, 'threads', { limits, name: 'threads' })) : 0;
  // Checked now (bad usage is exit 2 before any file is read); applied over the model's own once it is read.
  usage(() => preprocessFrom(values, limits));
  const flagScheme = values.target ? targetSchemeFlag(values.target) : undefined;
  if (values.weight_granularity && !['channel', 'tensor'].includes(values.weight_granularity)) throw new UsageError(`--weight_granularity is channel or tensor, got "${values.weight_granularity}"`);
  if (values.weight_scale && !['max', 'mse'].includes(values.weight_scale)) throw new UsageError(`--weight_scale is max or mse, got "${values.weight_scale}"`);
  // The session file is read first: a malformed one is refused before the model costs anything.
  const session = values.session ? parseSessionFile(await readRegularText(values.session, 'the session file'), basename(values.session)) : null;
  const settings = session ? { ...session.calibrationSettings, ...flagSettings } : flagSettings;
  if (values.tune_num && (settings.method ?? 'max') !== 'kl') throw new UsageError('--tune_num tunes KL thresholds: use it with --cali_method kl (or a session calibrated with KL)');
  const corrections = session ? sessionCorrections(session, flagCorrections, values) : flagCorrections;
  const scheme = flagScheme ?? (session ? targetScheme(session.scheme) : undefined);
  // Refused before a byte is read: a directory, a FIFO, /dev/zero, a file over the model limit.
  const modelBytes = await readRegularFile(values.model, 'the model file', { limits, name: 'modelBytes' });
  if (session) checkSessionModel(session, { name: basename(values.model), sha256: createHash('sha256').update(modelBytes).digest('hex') }, basename(values.session!));
  // Every inference watched against --max_run_seconds (runWatchdog.ts), on this thread and the search workers'.
  const watchdog = startRunWatchdog(limits.runSeconds, basename(values.model), `"qbench ${commandLine}"`);
  runWatchdog = watchdog;
  const engine = watchedEngine(ortNodeEngine(threads), watchdog.buffer, 0, limits.runSeconds);
  // The calibration pass on one thread per core (engineLanes.ts; as many as the watchdog has slots for), unless --threads asks for one.
  const laneCount = threads === 1 ? 1 : Math.min(threads || availableParallelism(), LANE_SLOTS);
  const statisticsEngine = laneCount > 1 ? ortNodeLanes(laneCount, basename(values.model), watchdog) : undefined;
  const bench = await Workbench.open(engine, modelBytes, basename(values.model), { dequantize: values.dequantize === true || session?.options.dequantize === true, limits, statisticsEngine });
  if (!values.json) for (const note of bench.findings.notes) process.stdout.write(`note: ${note}\n`);
  if (scheme) bench.setScheme(scheme);
  const files = await readData(values.data);
  const preprocess = imagePreprocess(values, limits, bench, session, files);
  // A damaged .h5 can send h5wasm into a loop of its own: reading is held to the same limit as a run.
  const dataset = await watchedCall(watchdog.buffer, 0, limits.runSeconds, 'reading the data', () => loadDataset(files, bench.graph.inputs, preprocess, nodeImageDecoder, limits));
  bench.setDataset(Number.isFinite(maxSamples) ? { samples: dataset.samples.slice(0, maxSamples), sampleNames: dataset.sampleNames.slice(0, maxSamples) } : dataset);
  bench.setCalibrationSettings(settings);
  if (session) bench.setWeightOptions(session.weightOptions);
  if (values.weight_granularity || values.weight_scale) {
    bench.setWeightOptions({
      ...(values.weight_granularity ? { granularity: values.weight_granularity as 'channel' | 'tensor' } : {}),
      ...(values.weight_scale ? { scaleMethod: values.weight_scale as 'max' | 'mse' } : {}),
    });
  }
  let qtable = ALL_INT8;
  if (values.qtable) {
    const parsed = parseQTable(await readRegularText(values.qtable, 'the qtable'), basename(values.qtable), bench.graph.nodes);
    if (parsed.unknownLayers.length > 0) {
      throw new QbenchError(`names layers the model does not have: ${parsed.unknownLayers.slice(0, 5).join(', ')}${parsed.unknownLayers.length > 5 ? ', …' : ''}`, basename(values.qtable));
    }
    qtable = entriesOnOperators(parsed.table, bench.layers);
    // The session's rules apply under an explicit --qtable, as the page applied them under its edits.
    if (session?.rules.length && !values.rules) qtable = withRules(session.rules, basename(values.session!), qtable, bench, values.json === true);
  } else if (session) {
    qtable = sessionQTable(session, bench, basename(values.session!));
  } else if (bench.sourceFile && bench.fileQTable) {
    // A quantized .tflite/.circle starts from its own precisions (a 16x8 file's int16 operators INT16), as the page does.
    qtable = bench.fileQTable;
    if (!values.json) {
      const counts = new Map<string, number>();
      for (const p of qtable.layers.values()) counts.set(p, (counts.get(p) ?? 0) + 1);
      process.stdout.write(`note: the file's own precisions are the QTable (${[...counts].map(([p, n]) => `${n} ${p}`).join(', ')}; the rest INT8); --qtable replaces them\n`);
    }
  }
  if (values.rules) qtable = await withRulesFile(values.rules, qtable, bench, values.json === true);
  // Corrections calibrate too: the float ones change the model that is calibrated.
  if (corrections) await bench.setCorrections(corrections, qtable, progressJob(values.json === true));
  else await bench.calibrate(progressJob(values.json === true), qtable);
  if (values.calibration_table) {
    const parsed = parseCaliTable(await readRegularText(values.calibration_table, 'the calibration table'), basename(values.calibration_table), bench.graph.nodes);
    if (parsed.unknownTensors.length > 0) {
      throw new QbenchError(`names tensors the model does not have: ${parsed.unknownTensors.slice(0, 5).join(', ')}${parsed.unknownTensors.length > 5 ? ', …' : ''}`, basename(values.calibration_table));
    }
    bench.setImportedTable(parsed.table);
  }
  // The session's per-tensor calibration choices, made on top of the calibration as the page made them.
  if (session?.overrides.length) bench.setTensorOverrides(session.overrides);
  if (values.labels) await applyLabels(bench, values.labels);
  const given = new Set(tasks.map(([output]) => output));
  for (const [output, task] of Object.entries(session?.outputTasks ?? {})) if (task && !given.has(output)) await bench.setOutputTask(output, task);
  for (const [output, task] of tasks) await bench.setOutputTask(output, task);
  return { bench, qtable };
}

/** `--task out=detector,logits=classifier`: each output's task (detected when not given). */
function taskFlags(text: string): [string, OutputTask][] {
  return text.split(',').map((pair) => {
    const eq = pair.lastIndexOf('=');
    const task = pair.slice(eq + 1).trim() as OutputTask;
    if (eq <= 0 || !OUTPUT_TASKS.includes(task)) throw new UsageError(`--task takes output=task pairs, task one of ${OUTPUT_TASKS.join(', ')}; got "${pair}"`);
    return [pair.slice(0, eq).trim(), task];
  });
}

/** `--labels FILE` ("<sample> <class>" per line) or `--labels folders` (the samples' class folders). */
async function applyLabels(bench: Workbench, spec: string): Promise<void> {
  const names = bench.sampleNames;
  if (spec === 'folders') {
    const labels = labelsFromFolders(names);
    if (!labels) throw new QbenchError('--labels folders needs the data in a folder per class (data/<class>/<image>); these samples have no class folder', names[0] ?? 'data');
    bench.setLabels(labels);
    return;
  }
  let text: string;
  try {
    text = await readRegularText(spec, 'the labels file');
  } catch {
    throw new QbenchError('cannot read the labels file', spec);
  }
  bench.setLabels(parseLabels(text, names, basename(spec)));
}

/** TPU-MLIR spells methods use_max, use_percentile9999, use_mse, use_aciq_gauss...; KL is its default. */
function methodName(text: string): CalibrationMethod {
  const name = text.replace(/^use_/, '').toLowerCase();
  if (!(CALIBRATION_METHODS as readonly string[]).includes(name)) {
    throw new UsageError(`--cali_method must be one of ${CALIBRATION_METHODS.join(', ')} (TPU-MLIR's use_* names work too), got "${text}"`);
  }
  return name as CalibrationMethod;
}

function targetSchemeFlag(text: string) {
  try {
    return targetScheme(text);
  } catch {
    throw new UsageError(`--target is one of ort-qdq, tpu-mlir, one, bolt; got "${text}"`);
  }
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${flag} takes a positive whole number, got "${text}"`);
  return n;
}

function calibrationSettingsFrom(values: Values): Partial<CalibrationSettings> {
  // The CLI uses one method unless it searches: keep only that method's statistics (the fast pass).
  const settings: { -readonly [K in keyof CalibrationSettings]?: CalibrationSettings[K] } = { collect: values.search ? 'all' : 'method' };
  if (values.cali_method) settings.method = methodName(values.cali_method);
  if (values.histogram_bin_num) settings.histogramBins = positiveInteger(values.histogram_bin_num, 'histogram_bin_num');
  if (values.values_per_tensor) settings.valuesPerTensor = values.values_per_tensor === 'all' ? 'all' : positiveInteger(values.values_per_tensor, 'values_per_tensor');
  if (values.input_num) settings.calibrationSamples = positiveInteger(values.input_num, 'input_num');
  if (values.inference_num) settings.evaluationSamples = positiveInteger(values.inference_num, 'inference_num');
  if (values.tune_num && !values.session && (settings.method ?? 'max') !== 'kl') throw new UsageError('--tune_num tunes KL thresholds: use it with --cali_method kl');
  return settings;
}

/** `qbench search run_qtable` takes --min_layer_cos as its own; everywhere else it is bias correction's. */
function minLayerCosIsSearchs(values: Values, positionals: readonly string[]): boolean {
  return positionals[0] === 'search' && positionals[1] === 'run_qtable' && !values.bc;
}

function correctionsFrom(values: Values, positionals: readonly string[] = []): Corrections | null {
  const searchOwns = minLayerCosIsSearchs(values, positionals);
  if (!values.fold_bn && !values.we && !values.sq && !values.bc && !values.tune_num) {
    if ((values.min_layer_cos && !searchOwns) || values.bc_inference_num) throw new UsageError('--min_layer_cos and --bc_inference_num set up bias correction: add --bc');
    return null;
  }
  let minLayerCos = NO_CORRECTIONS.minLayerCos;
  if (values.min_layer_cos && !searchOwns) {
    minLayerCos = Number(values.min_layer_cos);
    if (!(minLayerCos >= -1 && minLayerCos <= 1)) throw new UsageError(`--min_layer_cos takes a number from -1 to 1, got "${values.min_layer_cos}"`);
  }
  return {
    foldBatchNorm: values.fold_bn === true,
    equalize: values.we === true,
    smoothQuant: values.sq === true,
    biasCorrection: values.bc === true,
    tuneThresholds: values.tune_num !== undefined,
    tuneNum: values.tune_num ? positiveInteger(values.tune_num, 'tune_num') : NO_CORRECTIONS.tuneNum,
    minLayerCos,
    biasSamples: values.bc_inference_num ? positiveInteger(values.bc_inference_num, 'bc_inference_num') : null,
  };
}

/** The corrections in force and what they did, for --json (absent when none is on). */
function correctionsJson(bench: Workbench) {
  const lines = describeCorrections(bench.corrections, bench.summary().correctionEffects);
  if (lines.length === 0) return {};
  const { skipped, ...effects } = bench.summary().correctionEffects;
  return { corrections: { ...bench.corrections, effects: { ...effects, skipped: skipped.length } } };
}

function printCorrections(bench: Workbench): void {
  for (const line of describeCorrections(bench.corrections, bench.summary().correctionEffects)) process.stdout.write(`${line}\n`);
}

/** One line per correction in force: what it did. */
function describeCorrections(corrections: Corrections, effects: CorrectionEffects): string[] {
  const lines: string[] = [];
  if (corrections.foldBatchNorm) lines.push(`BatchNorm folding: ${effects.foldedBatchNorms} folded`);
  if (corrections.equalize) lines.push(`cross-layer equalization: ${effects.equalizedPairs} pairs`);
  if (corrections.smoothQuant) lines.push(`SmoothQuant: ${effects.smoothedPairs} pairs`);
  const bias = effects.biasCorrection;
  if (corrections.biasCorrection && bias) {
    lines.push(bias.layers === 0
      ? `bias correction: no convolution below layer cos ${corrections.minLayerCos}`
      : `bias correction: ${bias.layers} convolutions, output cos ${bias.before.toFixed(6)} -> ${bias.after.toFixed(6)}, ${bias.kept ? 'kept' : 'reverted'}`);
  }
  if (corrections.tuneThresholds) lines.push(`threshold tuning: ${effects.tunedTensors ?? 0} KL thresholds moved (tune_num ${corrections.tuneNum})`);
  return lines;
}

/** Progress on stderr (never stdout, which may carry JSON), only when it is a terminal. */
function progressJob(quiet: boolean) {
  const tty = process.stderr.isTTY && !quiet;
  return jobContext((p) => {
    if (tty) process.stderr.write(`\r${p.stage} ${p.done}/${p.total}${p.done === p.total ? '\n' : ''}`);
  });
}

function jsonNumber(value: number): number | null {
  return Number.isFinite(value) ? value : null; // SQNR is Infinity where a tensor is exact; JSON has no Infinity
}

function metricsJson(m: ErrorMetrics) {
  return { cos: jsonNumber(m.cos), sqnr: jsonNumber(m.sqnr), mse: jsonNumber(m.mse) };
}

/** Each output scored whole and part by part (issue #11): `"outputs"` of `eval --json`. */
function outputsJson(evaluation: Evaluation, report: OutputReport) {
  const range = (key: string) => report.ranges[key] ?? null;
  return Object.entries(evaluation.perOutput).map(([name, metrics]) => ({
    name,
    range: range(name),
    task: report.specs[name]?.task ?? 'other',
    metrics: { ...metricsJson(metrics), ...evaluation.tasks?.[name]?.values },
    parts: report.parts.filter((p) => p.output === name).map((p) => ({ name: p.name, axis: p.axis, slice: [p.start, p.end], range: range(partKey(p)), ...metricsJson(evaluation.perPart?.[partKey(p)] ?? { cos: NaN, sqnr: NaN, mse: NaN }) })),
  }));
}

/** The outputs' parts, float ranges and tasks, for the figures of an evaluation. */
type OutputReport = Awaited<ReturnType<Workbench['outputParts']>> & { readonly specs: Readonly<Record<string, TaskSpec>> };

async function outputReport(bench: Workbench): Promise<OutputReport> {
  return { ...(await bench.outputParts()), specs: await bench.taskSpecs() };
}

function evaluationJson(bench: Workbench, evaluation: Evaluation, original: ErrorMetrics | null, precisions: ReadonlyMap<string, string>, report: OutputReport) {
  const ops = new Map(bench.graph.nodes.map((n) => [n.name, n.opType]));
  const findings = bench.findings;
  return {
    model: bench.graph.fileName,
    opset: bench.graph.opset,
    upgradedFrom: findings.upgradedFrom,
    quantizableLayers: findings.quantizableLayers,
    notes: findings.notes,
    ...(original ? { quantizedInFile: metricsJson(original) } : {}),
    samples: evaluation.sampleCount,
    engine: bench.engine.name,
    target: bench.scheme.id,
    output: metricsJson(evaluation.output),
    worst: evaluation.worst ?? null,
    outputs: outputsJson(evaluation, report),
    warnings: evaluation.warnings ?? [],
    layers: allLayers(bench, evaluation, precisions).map((l) => ({ name: l.layer, op: ops.get(l.layer) ?? '', precision: l.precision, ...(l.metrics ? metricsJson(l.metrics) : { cos: null, sqnr: null, mse: null }), ...(l.scope ? { scope: l.scope } : {}), ...(evaluation.local?.[l.layer] ? { local: metricsJson(evaluation.local[l.layer]) } : {}) })),
  };
}

/**
 * Every layer in graph order with the precision it runs at and, where the evaluation measured one,
 * its error. A layer inside an If/Loop/Scan body is measured by running its body on its own; one in
 * a branch no evaluation sample ran has no figure (and runs FP32 when no calibration sample took
 * it either) but is listed all the same, with its scope.
 */
function allLayers(bench: Workbench, evaluation: Evaluation, precisions: ReadonlyMap<string, string>): { layer: string; precision: string; metrics: ErrorMetrics | null; scope?: string }[] {
  const measured = new Map(evaluation.layers.map((l) => [l.layer, l]));
  return bench.graph.nodes.flatMap((node): { layer: string; precision: string; metrics: ErrorMetrics | null; scope?: string }[] => {
    const m = measured.get(node.name);
    const scope = node.scope ? { scope: node.scope } : {};
    if (m) return [{ layer: node.name, precision: m.precision, metrics: m, ...scope }];
    if (!node.scope) return [];
    return [{ layer: node.name, precision: precisions.get(node.name) ?? 'FP32', metrics: null, ...scope }];
  });
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function printEvaluation(bench: Workbench, evaluation: Evaluation, precisions: ReadonlyMap<string, string>, report: OutputReport): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const fmt = (m: ErrorMetrics) => `cos ${m.cos.toFixed(6)}  sqnr ${Number.isFinite(m.sqnr) ? `${m.sqnr.toFixed(2)} dB` : 'inf'}  mse ${m.mse.toExponential(3)}`;
  out(`model   ${bench.graph.fileName} (opset ${bench.graph.opset}, ${bench.layers.size} layers), ${evaluation.sampleCount} samples, ${bench.engine.name}, target ${bench.scheme.id}`);
  const worst = evaluation.worst;
  const many = Object.keys(evaluation.perOutput).length + Object.keys(evaluation.perPart ?? {}).length > 1;
  out(`output  ${fmt(evaluation.output)}${many && worst ? `  (the worst: ${worst.part ? `${worst.output} part ${worst.part}` : worst.output})` : ''}`);
  if (many || evaluation.tasks) {
    const range = (key: string) => (report.ranges[key] ? `  range [${report.ranges[key].map((v) => v.toPrecision(4)).join(', ')}]` : '');
    for (const [name, m] of Object.entries(evaluation.perOutput)) {
      const task = evaluation.tasks?.[name];
      out(`  ${name}: ${fmt(m)}${range(name)}`);
      if (task) out(`    ${task.task}: ${taskFiguresText(task)}`);
      for (const p of report.parts.filter((x) => x.output === name)) {
        const pm = evaluation.perPart?.[partKey(p)];
        if (pm) out(`    part ${p.name} [${p.start}:${p.end}] on axis ${p.axis}: ${fmt(pm)}${range(partKey(p))}`);
      }
    }
  }
  out('');
  const width = Math.min(60, Math.max(5, ...evaluation.layers.map((l) => l.layer.length))) + 2;
  const ops = new Map(bench.graph.nodes.map((n) => [n.name, n.opType]));
  out(`${pad('layer', width)}${pad('op', 20)}${pad('precision', 11)}${pad('cos', 11)}${pad('sqnr', 11)}mse`);
  for (const { layer, precision, metrics } of allLayers(bench, evaluation, precisions)) {
    if (!metrics) {
      out(`${pad(layer, width)}${pad(ops.get(layer) ?? '', 20)}${pad(precision, 11)}${pad('-', 11)}${pad('-', 11)}-`);
      continue;
    }
    const l = { layer, precision, ...metrics };
    out(`${pad(l.layer, width)}${pad(ops.get(l.layer) ?? '', 20)}${pad(l.precision, 11)}${pad(l.cos.toFixed(6), 11)}${pad(Number.isFinite(l.sqnr) ? l.sqnr.toFixed(2) : 'inf', 11)}${l.mse.toExponential(3)}`);
  }
}

/**
 * `--record_minmax out.circle`: the calibration in force as ONE's record-minmax leaves it (the
 * .circle with each float activation's min/max; docs/formats.md). Warnings go to stderr.
 */
async function writeRecordMinmaxFile(bench: Workbench, path: string): Promise<{ out: string; tensors: number }> {
  if (!bench.sourceFile) throw new QbenchError('--record_minmax writes the min/max into a .circle: give the .circle or the .tflite itself as --model (ONE imports an ONNX model to a .circle of its own)', bench.graph.fileName);
  const written = writeRecordMinmax(bench.sourceFile.bytes, bench.sourceFile.fileName, bench.caliTable().entries);
  await writeFile(path, written.bytes);
  if (written.missing.length) process.stderr.write(`warning: ${path}: ${written.missing.length} float activation${written.missing.length === 1 ? ' has' : 's have'} no calibrated range and no min/max (${written.missing.slice(0, 3).join(', ')}${written.missing.length > 3 ? ', …' : ''})\n`);
  return { out: path, tensors: written.recorded };
}

async function runCalibrate(values: Values): Promise<void> {
  if (!values.out) throw new UsageError('-o (the cali_table to write) is required');
  if (values.search && values.search !== 'search_threshold') throw new UsageError(`--search takes search_threshold here, got "${values.search}"`);
  const { bench } = await openWorkbench(values);
  let search: ThresholdSearchRow[] | undefined;
  if (values.search) {
    search = await bench.searchThreshold(progressJob(values.json === true));
    bench.setCalibrationSettings({ method: bestThresholdMethod(search) });
  }
  const table = bench.caliTable();
  await writeFile(values.out, formatCaliTable(table, { nodes: bench.graph.nodes }));
  const minmax = values.record_minmax ? await writeRecordMinmaxFile(bench, values.record_minmax) : null;
  const summary = bench.summary();
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ method: bench.settings.method, samples: summary.sampleCount, tensors: summary.tensorCount, out: values.out, ...(minmax ? { recordMinmax: minmax } : {}), ...(search ? { search: search.map((r) => ({ method: r.method, ...metricsJson(r.output), ...(r.tasks ? { tasks: r.tasks } : {}), ...(r.warnings ? { warnings: r.warnings } : {}) })) } : {}), ...correctionsJson(bench) })}\n`);
  } else {
    printCorrections(bench);
    if (search) {
      process.stdout.write('search_threshold: output similarity of the all-INT8 model per method\n');
      for (const row of [...search].sort((a, b) => b.output.cos - a.output.cos)) {
        const tasks = Object.entries(row.tasks ?? {}).map(([output, t]) => `  ${output}: ${taskFiguresText(t)}`).join('');
        const flag = row.warnings?.length ? `  ⚠ ${row.warnings.length} warning${row.warnings.length > 1 ? 's' : ''}` : '';
        process.stdout.write(`  ${row.method === bench.settings.method ? '*' : ' '} ${pad(row.method, 20)}cos ${row.output.cos.toFixed(6)}  sqnr ${row.output.sqnr.toFixed(2)} dB${tasks}${flag}\n`);
      }
    }
    process.stdout.write(`wrote ${values.out}: ${summary.tensorCount} tensors, method ${bench.settings.method}, ${summary.sampleCount} samples\n`);
    if (minmax) process.stdout.write(`wrote ${minmax.out}: min/max of ${minmax.tensors} activations (record-minmax's .circle)\n`);
  }
  await bench.dispose();
}

/** eval, export and search have no figure to give when nothing can be quantized: a refusal in words, not cos 1. */
function requireQuantizable(bench: Workbench): void {
  const nothing = bench.findings.nothingToQuantize;
  if (nothing) throw new QbenchError(nothing, bench.graph.fileName);
}

async function runEval(values: Values): Promise<void> {
  const { bench, qtable } = await openWorkbench(values);
  requireQuantizable(bench);
  const accumulated = await bench.evaluate(qtable, 'layers', progressJob(values.json === true));
  // Each layer's local error beside its accumulated one (issue #11), on request: it costs about one more evaluation.
  const evaluation = values.local ? { ...accumulated, local: await bench.localErrors(qtable, progressJob(values.json === true)) } : accumulated;
  const original = await bench.measureQuantizedOriginal(progressJob(values.json === true));
  const precisions = await bench.effectivePrecisions(qtable);
  const report = await outputReport(bench);
  // Collapse warnings go to stderr too, where a script that reads only stdout's JSON still shows them.
  for (const w of evaluation.warnings ?? []) process.stderr.write(`warning: ${w.message}\n`);
  if (values.json) process.stdout.write(`${JSON.stringify({ ...evaluationJson(bench, evaluation, original, precisions, report), ...correctionsJson(bench) })}\n`);
  else {
    printCorrections(bench);
    printEvaluation(bench, evaluation, precisions, report);
    if (original) process.stdout.write(`\nthe file's own quantized model: cos ${original.cos.toFixed(6)}  sqnr ${original.sqnr.toFixed(2)} dB (against the de-quantized float model)\n`);
  }
  await bench.dispose();
}

async function runExport(values: Values): Promise<void> {
  if (!values.out) throw new UsageError('--out is required');
  const { bench, qtable } = await openWorkbench(values);
  requireQuantizable(bench);
  const { bytes, verification } = await bench.exportVerifiedQdq(qtable, progressJob(false));
  await writeFile(values.out, bytes);
  printCorrections(bench);
  const qtableOut = values['qtable-out'] ?? values.qtable_out;
  if (qtableOut) await writeFile(qtableOut, formatQTable(qtable, { sampleCount: verification.sampleCount }));
  process.stdout.write(`wrote ${values.out} (${(bytes.length / 1024 / 1024).toFixed(2)} MB)${qtableOut ? ` and ${qtableOut}` : ''}\n`);
  process.stdout.write(`verified: the written model, run by ${verification.engine} on ${verification.sampleCount} samples, gives output cos ${verification.measured.cos.toFixed(6)} (predicted ${verification.predicted.cos.toFixed(6)})\n`);
  for (const [output, figures] of Object.entries(verification.tasks?.measured ?? {})) process.stdout.write(`  ${output} (${figures.task}): ${taskFiguresText(figures)}\n`);
  for (const w of verification.warnings ?? []) process.stderr.write(`warning: the written model: ${w.message}\n`);
  await bench.dispose();
}

/**
 * `qbench search <name>`: one of the toolchains' mixed-precision searches on a pool of worker
 * threads; writes the QTable it found (TPU-MLIR qtable, and ONE's layer configuration on request).
 */
async function runSearchCommand(values: Values, positionals: readonly string[]): Promise<void> {
  const name = positionals[1];
  const kind = name ? SEARCH_NAMES[name] : undefined;
  if (!kind) throw new UsageError(`search takes one of ${Object.keys(SEARCH_NAMES).join(', ')}${name ? `; got "${name}"` : ''}`);
  if (!values.out) throw new UsageError('-o (the qtable to write) is required');
  if (values.new_cali_table && kind !== 'sensitive' && kind !== 'qtable') throw new UsageError(`--new_cali_table needs a search that ranks layers (sensitive or qtable), not ${name}`);
  const workers = values.workers ? usage(() => countFlag(values.workers!, 'workers', { limits: limitsFrom(values), name: 'threads' })) : undefined;
  const flags = values as SearchFlags;
  const { bench, qtable } = await openWorkbench(values, positionals, () => {
    try {
      checkSearchFlags(kind, flags);
    } catch (error) {
      throw error instanceof SearchFlagError ? new UsageError(error.message) : error;
    }
  });
  requireQuantizable(bench);
  const request = searchRequestFrom(kind, flags, qtableToData(qtable), bench.graph);
  const pools: { close(): Promise<void> }[] = [];
  bench.setSearchPools(async (ctx) => {
    const pool = await nodeSearchPool(ctx, workers, runWatchdog ?? undefined);
    pools.push(pool);
    return pool;
  });
  const started = performance.now();
  const quiet = values.json === true;
  try {
    const result = await bench.search(request, progressJob(quiet), (event) => {
      if (!quiet && event.type === 'log') process.stdout.write(`${event.line}\n`);
    });
    const wallMs = performance.now() - started;
    const found = explicitQTable(qtableFromData(result.qtable), bench.layers);
    await writeFile(values.out, formatQTable(found, { sampleCount: result.sampleCount }));
    if (values.one_config) {
      // A .circle/.tflite's configuration names the file's operators, not the converted graph's nodes.
      const layers = oneConfigLayers(qtableFromData(result.qtable), bench.graph.nodes, bench.model.proto);
      await writeFile(values.one_config, formatOneConfig(layers.qtable, { nodes: layers.nodes, modelPath: bench.graph.fileName }).text);
    }
    if (values.record_minmax) await writeRecordMinmaxFile(bench, values.record_minmax);
    if (values.new_cali_table) {
      // run_sensitive_layer's new_cali_table.txt: the cali_table in use, each ranked unit's output at its best method.
      bench.setTensorOverrides(bestMethodOverrides(result.ranking, bench.layers));
      await writeFile(values.new_cali_table, formatCaliTable(bench.caliTable(), { nodes: bench.graph.nodes }));
    }
    const resultCos = resultOutputCos(result);
    const ops = new Map(bench.graph.nodes.map((n) => [n.name, n.opType]));
    if (quiet) {
      process.stdout.write(`${JSON.stringify({
        search: kind, metric: result.metric.kind, score: result.score, outputCos: resultCos, target: result.target, met: result.met,
        baselines: result.baselines, qtable: [...found.layers].map(([layer, precision]) => ({ layer, op: ops.get(layer) ?? '', precision })),
        ranking: [...result.ranking].sort((a, b) => b.best.loss - a.best.loss).map((r) => ({ layer: r.head, op: ops.get(r.head) ?? '', loss: r.best.loss, method: r.best.method, layers: r.layers })),
        configurations: result.visited.length, samples: result.sampleCount, workers: result.runners, searchMs: Math.round(result.elapsedMs), wallMs: Math.round(wallMs), out: values.out,
      })}\n`);
    } else {
      process.stdout.write(`${SEARCH_LABEL[kind]}: ${result.metric.kind} ${result.score.toFixed(6)}${result.target !== null ? ` (target ${result.target}, ${result.met ? 'met' : 'not met'})` : ''}, output cos ${resultCos?.toFixed(6) ?? '?'}\n`);
      process.stdout.write(`wrote ${values.out}: ${found.layers.size} layers not at INT8; ${result.visited.length} configurations scored on ${result.sampleCount} samples by ${result.runners} workers in ${(wallMs / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    await bench.dispose();
  }
}

/**
 * `--rules`: the file's rules applied under the QTable, as the page does: every layer --qtable lists
 * is a hand edit and keeps its precision, even one it lists at the default (a qtable line is explicit).
 */
async function withRulesFile(path: string, qtable: QTable, bench: Workbench, json: boolean): Promise<QTable> {
  return withRules(parseRules(await readRegularText(path, 'the rules file'), basename(path)), basename(path), qtable, bench, json);
}

function withRules(rules: readonly Rule[], source: string, qtable: QTable, bench: Workbench, json: boolean): QTable {
  // a node a .tflite conversion added has no QTable entry of its own: its operator's layer takes the rule
  const layers = ruleLayersOf(bench.graph.nodes, (name) => {
    const layer = bench.layers.get(name);
    return !!layer?.quantizable && qtableLayer(layer) === name;
  });
  const set = ruleOutcome(rules, layers).size;
  if (!json) process.stdout.write(`note: ${source}: ${rules.length} rule${rules.length === 1 ? '' : 's'} set ${set} layer${set === 1 ? '' : 's'}\n`);
  const ruled = reapplyRules({ defaultPrecision: qtable.defaultPrecision, layers: new Map() }, NO_RULES, rules, layers);
  const merged = new Map(ruled.layers);
  for (const [layer, precision] of qtable.layers) {
    if (precision === qtable.defaultPrecision) merged.delete(layer);
    else merged.set(layer, precision);
  }
  return { defaultPrecision: qtable.defaultPrecision, layers: merged };
}

/**
 * `--session`: the session's QTable as the page left it (its rules already applied). A layer the
 * model does not have means the file was edited by hand (the hash matched): refused by name.
 */
function sessionQTable(session: SessionFile, bench: Workbench, source: string): QTable {
  const unknown = session.qtable.layers.map(([layer]) => layer).filter((layer) => !bench.layers.has(layer));
  if (unknown.length > 0) throw new QbenchError(`qtable names layers the model does not have: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`, source);
  return qtableFromData(session.qtable);
}

const IMAGE_FILE = /\.(jpe?g|png|bmp|webp)$/i;

/**
 * The preprocessing images get: the model's own (what it says of its input layout, channels, dtype
 * and metadata; the page starts from the same, src/core/io/dataset/modelPreprocess.ts), or the
 * session's when --session is given, with each preprocessing flag given over it. Said in a note
 * when the data holds images.
 */
function imagePreprocess(values: Values, limits: Limits, bench: Workbench, session: SessionFile | null, files: readonly { readonly name: string }[]): ImagePreprocess {
  const told = preprocessForModel(bench.graph.inputs[0], bench.graph.metadata);
  const base = session ? session.preprocess : told.preprocess;
  const preprocess = usage(() => preprocessFrom(values, limits, base));
  if (!values.json && files.some((f) => IMAGE_FILE.test(f.name))) {
    const source = session ? `the session ${basename(values.session!)}` : `the model (${told.notes.join('; ')})`;
    const dims = bench.graph.inputs[0]?.dims;
    const sizeOpen = dims?.length === 4 && (preprocess.layout === 'nhwc' ? [dims[1], dims[2]] : [dims[2], dims[3]]).some((d) => d === null || d <= 0);
    process.stdout.write(`note: images preprocessed as ${describePreprocess(preprocess, source, preprocessFlagsGiven(values), sizeOpen)}\n`);
  }
  return preprocess;
}

/** The session's corrections with the correction flags given put over them (a flag can only turn one on). */
function sessionCorrections(session: SessionFile, flags: Corrections | null, values: Values): Corrections | null {
  const saved = session.corrections;
  if (!saved) return flags;
  const merged: Corrections = flags ? {
    foldBatchNorm: saved.foldBatchNorm || flags.foldBatchNorm,
    equalize: saved.equalize || flags.equalize,
    smoothQuant: saved.smoothQuant || flags.smoothQuant,
    biasCorrection: saved.biasCorrection || flags.biasCorrection,
    tuneThresholds: saved.tuneThresholds || flags.tuneThresholds,
    tuneNum: values.tune_num ? flags.tuneNum : saved.tuneNum,
    minLayerCos: values.min_layer_cos && flags.minLayerCos !== NO_CORRECTIONS.minLayerCos ? flags.minLayerCos : saved.minLayerCos,
    biasSamples: values.bc_inference_num ? flags.biasSamples : saved.biasSamples,
  } : saved;
  // All off is no correction: the plain calibration, as without the session.
  return merged.foldBatchNorm || merged.equalize || merged.smoothQuant || merged.biasCorrection || merged.tuneThresholds ? merged : null;
}

/** A QTable with its default made INT8 and every other layer listed (a TPU-MLIR qtable has no default). */
function explicitQTable(table: QTable, layers: ReadonlyMap<string, { quantizable: boolean; operator?: string }>): QTable {
  if (table.defaultPrecision === 'INT8') return table;
  const explicit = new Map<string, QTable['defaultPrecision']>();
  for (const [name, info] of layers) {
    if (info.operator) continue; // its file operator's entry holds it (a .tflite/.circle model)
    const precision = table.layers.get(name) ?? table.defaultPrecision;
    if (info.quantizable && precision !== 'INT8') explicit.set(name, precision);
  }
  return { defaultPrecision: 'INT8', layers: explicit };
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`qbench: ${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }
  const [command] = parsed.positionals;
  commandLine = parsed.positionals.slice(0, command === 'search' ? 2 : 1).join(' ');
  if (parsed.values.help || !command) {
    process.stdout.write(USAGE);
    return command || parsed.values.help ? 0 : 2;
  }
  try {
    if (command === 'calibrate') await runCalibrate(parsed.values);
    else if (command === 'eval') await runEval(parsed.values);
    else if (command === 'export') await runExport(parsed.values);
    else if (command === 'search') await runSearchCommand(parsed.values, parsed.positionals);
    else throw new UsageError(`unknown command "${command}" (expected calibrate, eval, export or search)`);
    return 0;
  } catch (error) {
    process.stderr.write(`${errorLine(error, command, error instanceof UsageError)}\n`);
    if (error instanceof UsageError) process.stderr.write(`\n${USAGE}`);
    return error instanceof UsageError ? 2 : 1;
  }
}
