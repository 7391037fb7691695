/**
 * npm run bench: speed of the core loop, in Node (onnxruntime-node) and in Chromium (the real page,
 * onnxruntime-web WASM in the compute worker), on the built-in demo (PP-OCRv4 det, 12 images at
 * 320x320) and on a MobileNetV2-sized model from the test graph builder (12 random 224x224 samples).
 * Prints one JSON object on stdout; progress goes to stderr. Timing only: no pass/fail.
 *   npm run bench                          # everything
 *   npm run bench -- --node-only           # or --browser-only
 *   npm run bench -- --sections=calibration  # core (issue #2), calibration (issue #3), search (issue #4), tflite (issue #14), robustness (issue #12),
 *                                            # graph (issue #13: 10,000-layer models in the page), rules (issue #13: rules re-applied, Node),
 *                                            # whatif (issue #15: edit -> similarity and heatmap, before and after, Node and page),
 *                                            # engines (issue #15: float inference on WebGPU against WASM in the page),
 *                                            # cli (the qbench command's start, from its bundle and from source),
 *                                            # heap (issue #15, opt-in: the workers' heap snapshots after the demo's 30-sample what-if)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { nodeImageDecoder } from '../cli/nodeImageDecoder';
import { benchCliStart } from './cliStart';
import { ortNodeEngine } from '../cli/ortNodeEngine';
import { ortNodeLanes } from '../cli/engineLanes';
import type { Dataset } from '../src/core/io/dataset/Dataset';
import { loadDataset } from '../src/core/io/dataset/loadDataset';
import { formatNpy } from '../src/core/io/dataset/npy';
import { readOnnx } from '../src/core/io/onnx/OnnxModel';
import type { ModelGraph } from '../src/core/model/ModelGraph';
import { silentJob } from '../src/core/jobs/Job';
import { compareTensors } from '../src/core/metrics/similarity';
import { compareOutputs, NO_SCORING, type OutputScoring } from '../src/core/metrics/outputParts';
import { Simulator } from '../src/core/sim/Simulator';
import { ALL_INT8, withPrecision } from '../src/core/model/QTable';
import { Workbench } from '../src/core/Workbench';
import { DEMO_PREPROCESS } from '../src/demo/preprocess';
import type { AppState } from '../src/state/store';
import { seededRandom } from '../test/support/GraphBuilder';
import { deepResidualModel } from '../test/support/deepGraph';
import { mobileNetV2 } from '../test/support/mobilenetV2';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../test/support/models';
import { benchRobustnessNode } from './robustness';
import { benchCalibrationFloorNode } from './calibrationFloor';
import { median, ratio, round } from './figures';
import { benchGraphBrowser, benchRulesNode, framesPerSecond } from './graph';
import { benchSearchBrowser, benchSearchNode } from './search';
import { benchTfliteOpenBrowser, benchTfliteOpenNode } from './tflite';
import { calibratedAndIdle } from './pageWait';
import { benchEngineSplitBrowser, benchWhatIfBrowser, benchWhatIfNode } from './whatIf';
import { benchHeapBrowser } from './heap';

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const SAMPLES = 12;

interface BenchModel {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** The layer whose precision the what-if changes (a mid-network convolution). */
  whatIfLayer(graph: ModelGraph): string;
  dataset(bench: Workbench): Promise<Dataset>;
  /** Files to drop into the page. */
  files(): { name: string; mimeType: string; buffer: Buffer }[];
}

function randomBatch(count: number): Float32Array {
  const random = seededRandom(42);
  return Float32Array.from({ length: count * 3 * 224 * 224 }, () => random() * 4 - 2);
}

const models: BenchModel[] = [
  {
    name: 'ppocr-v4-det (demo, 320x320)',
    bytes: REAL_MODELS.ppocrDet(),
    whatIfLayer: () => 'p2o.Conv.17', // the conv whose FP32 helps most (see e2e/workbench.spec.ts)
    async dataset(bench) {
      const files = readdirSync(DEMO_IMAGE_DIR).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
      return loadDataset(files, bench.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder);
    },
    files: () => [],
  },
  {
    name: 'mobilenetv2-sized (builder, 224x224)',
    bytes: mobileNetV2(),
    whatIfLayer: (graph) => graph.nodes.filter((n) => n.opType === 'Conv')[30].name,
    async dataset(bench) {
      const data = randomBatch(SAMPLES);
      const npy = formatNpy({ dtype: 'float32', dims: [SAMPLES, 3, 224, 224], data });
      return loadDataset([{ name: 'batch.npy', bytes: npy }], bench.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder);
    },
    files: () => [{ name: 'batch.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(formatNpy({ dtype: 'float32', dims: [SAMPLES, 3, 224, 224], data: randomBatch(SAMPLES) })) }],
  },
];

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

async function benchNode(model: BenchModel) {
  log(`node: ${model.name}`);
  const engine = ortNodeEngine(0);
  const [bench, openMs] = await timed(() => Workbench.open(engine, model.bytes, model.name));
  const dataset = await model.dataset(bench);
  bench.setDataset(dataset);
  const float = await engine.createSession(bench.model.encode());
  await float.run(dataset.samples[0]);
  const [, floatMs] = await timed(async () => { for (const s of dataset.samples) await float.run(s); });
  await float.dispose();
  const [, calibrationMs] = await timed(() => bench.calibrate(silentJob));
  const [outputsCold, outputsColdMs] = await timed(() => bench.evaluate(ALL_INT8, 'outputs', silentJob));
  const [, outputsWarmMs] = await timed(() => bench.evaluate(ALL_INT8, 'outputs', silentJob));
  const [, layersColdMs] = await timed(() => bench.evaluate(ALL_INT8, 'layers', silentJob));
  const design = await fakeQuantVersusInt8Kernels(bench, engine, dataset);
  const layer = model.whatIfLayer(bench.graph);
  if (!bench.layers.get(layer)?.quantizable) throw new Error(`what-if layer ${layer} is not a quantizable layer of ${model.name}`);
  const whatIf = withPrecision(ALL_INT8, layer, 'FP32');
  const [changed, whatIfOutputsMs] = await timed(() => bench.evaluate(whatIf, 'outputs', silentJob));
  const [, whatIfLayersMs] = await timed(() => bench.evaluate(whatIf, 'layers', silentJob));
  const outputMetrics = await outputMetricsOverhead(bench);
  await bench.dispose();
  const n = dataset.samples.length;
  return {
    samples: n,
    layers: bench.layers.size,
    whatIf: `${layer} -> FP32`,
    openMs: round(openMs),
    floatInferencePerSampleMs: round(floatMs / n),
    calibrationPerSampleMs: round(calibrationMs / n),
    evaluateOutputsMs: { cold: round(outputsColdMs), warmSession: round(outputsWarmMs) },
    evaluateLayersMs: round(layersColdMs),
    editToSimilarityMs: round(whatIfOutputsMs),
    editToLayerErrorsMs: round(whatIfOutputsMs + whatIfLayersMs),
    outputCos: { allInt8: outputsCold.output.cos, whatIf: changed.output.cos },
    outputMetrics,
    simulationDesign: design,
  };
}

/**
 * What per-output, per-part and task figures and the warnings cost an 'outputs' evaluation (issue
 * #11: at most 10 %). Two measures in one run: the same warm evaluation with the workbench's scoring
 * and with none (whole outputs' cosine only), alternated, the fastest of 9 each (the machine is
 * noisy; the fastest is the cost without interference); and the scoring's own arithmetic, timed
 * alone on the stored quantized outputs (what the first measure's difference should be).
 */
async function outputMetricsOverhead(bench: Workbench) {
  const ctx = await bench.searchContext();
  const simulator = (scoring: OutputScoring) => new Simulator({ ...ctx, engine: bench.engine, floatOutputs: ctx.references, scoring });
  const full = simulator(ctx.scoring);
  const plain = simulator(NO_SCORING);
  await full.evaluate(ALL_INT8, 'outputs', silentJob);
  await plain.evaluate(ALL_INT8, 'outputs', silentJob);
  const times = { plain: [] as number[], full: [] as number[] };
  for (let round = 0; round < 9; round++) {
    times.plain.push((await timed(() => plain.evaluate(ALL_INT8, 'outputs', silentJob)))[1]);
    times.full.push((await timed(() => full.evaluate(ALL_INT8, 'outputs', silentJob)))[1]);
  }
  const quantized = await full.simulatedOutputs(ALL_INT8, 'outputs', silentJob);
  await Promise.all([full.dispose(), plain.dispose()]);
  const outputs = ctx.model.graph.outputs.map((o) => o.name);
  const scoreAll = (scoring: OutputScoring) => quantized.forEach((q, i) => compareOutputs(ctx.references[i], (name) => q[name]?.data as Float32Array | undefined, outputs, scoring, i));
  const arithmetic = (scoring: OutputScoring) => {
    const runs: number[] = [];
    for (let r = 0; r < 9; r++) {
      const start = performance.now();
      scoreAll(scoring);
      runs.push(performance.now() - start);
    }
    return Math.min(...runs);
  };
  const scoringMs = arithmetic(ctx.scoring) - arithmetic(NO_SCORING);
  const fastest = { plain: Math.min(...times.plain), full: Math.min(...times.full) };
  return {
    tasks: Object.fromEntries(Object.entries(ctx.scoring.specs).map(([o, s]) => [o, s.task])),
    parts: ctx.scoring.parts.length,
    evaluateOutputsMs: { wholeOutputsOnly: round(fastest.plain), withPartsTasksWarnings: round(fastest.full) },
    overheadPercent: round(100 * (fastest.full / fastest.plain - 1)),
    scoringArithmeticMs: round(scoringMs),
    scoringArithmeticPercent: round((100 * scoringMs) / fastest.plain),
  };
}

/**
 * The measurement behind the simulation design: the all-INT8 QDQ model run as fake quantization
 * (onnxruntime at 'basic': Q/DQ computed in float, which is what a switchable fake-quant model
 * computes) against the same file with onnxruntime's fused int8 kernels (what a user's runtime does).
 */
async function fakeQuantVersusInt8Kernels(bench: Workbench, engine: ReturnType<typeof ortNodeEngine>, dataset: Dataset) {
  const bytes = await bench.exportQdq(ALL_INT8);
  const [fused, fake, float] = await Promise.all([
    engine.createSession(bytes, { graphOptimization: 'all' }),
    engine.createSession(bytes, { graphOptimization: 'basic' }),
    engine.createSession(bench.model.encode()),
  ]);
  const vsFloat = { int8Kernels: [] as number[], fakeQuant: [] as number[] };
  const between: number[] = [];
  let maxAbsDiff = 0;
  for (const sample of dataset.samples) {
    const [a, b, f] = await Promise.all([fused.run(sample), fake.run(sample), float.run(sample)]);
    for (const name of float.outputNames) {
      const x = a[name].data as Float32Array;
      const y = b[name].data as Float32Array;
      const ref = f[name].data as Float32Array;
      vsFloat.int8Kernels.push(compareTensors(ref, x).cos);
      vsFloat.fakeQuant.push(compareTensors(ref, y).cos);
      between.push(compareTensors(x, y).cos);
      for (let i = 0; i < x.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x[i] - y[i]));
    }
  }
  await Promise.all([fused.dispose(), fake.dispose(), float.dispose()]);
  const mean = (v: number[]) => v.reduce((p, q) => p + q, 0) / v.length;
  return {
    outputCosVsFloat: { int8Kernels: mean(vsFloat.int8Kernels), fakeQuant: mean(vsFloat.fakeQuant) },
    cosFakeQuantVsInt8Kernels: mean(between),
    maxAbsDifference: maxAbsDiff,
  };
}

const VITE = join('node_modules', 'vite', 'bin', 'vite.js');

/** Builds the page and serves it; vite runs as a direct child so that kill() stops it. */
function startPreview(port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // BENCH_OUT_DIR / BENCH_PORT: a bench beside another checkout's build and server (as E2E_OUT_DIR / E2E_PORT).
    const outDir = process.env.BENCH_OUT_DIR ?? 'dist';
    const build = spawn(process.execPath, [VITE, 'build', '--logLevel', 'error', '--outDir', outDir], { stdio: ['ignore', 'ignore', 'inherit'] });
    build.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`vite build exited ${code}`));
      const server = spawn(process.execPath, [VITE, 'preview', '--outDir', outDir, '--port', String(port), '--strictPort'], { stdio: ['ignore', 'pipe', 'inherit'] });
      process.on('exit', () => server.kill()); // also when the bench dies on an error
      server.stdout!.on('data', (chunk: Buffer) => { if (chunk.toString().includes(String(port))) resolve(server); });
      server.on('exit', (c) => reject(new Error(`vite preview exited ${c}`)));
    });
  });
}

const state = (page: Page) => page.evaluate(() => {
  const s = (globalThis as unknown as { qbenchState: () => AppState }).qbenchState();
  return {
    openMs: s.model?.openMs ?? null,
    layoutMs: s.layout?.elapsedMs ?? null,
    calibrationMs: s.calibration?.elapsedMs ?? null,
    samples: s.dataset?.sampleCount ?? null,
    outputsMs: s.outputEvaluation?.elapsedMs ?? null,
    layersMs: s.layerEvaluation?.elapsedMs ?? null,
    layerEvaluationQTableSize: s.layerEvaluation?.qtable.layers.length ?? null,
    cos: s.outputEvaluation?.output.cos ?? null,
    editToSimilarityMs: s.lastEditToSimilarityMs,
    editToLayersMs: s.lastEditToLayersMs,
    busy: Object.keys(s.jobs).length > 0,
  };
});

async function benchBrowser(model: BenchModel, page: Page, baseUrl: string) {
  log(`chromium: ${model.name}`);
  const isDemo = model.files().length === 0;
  await page.goto(isDemo ? baseUrl : `${baseUrl}/?demo=0`);
  if (!isDemo) {
    await page.getByTestId('pick-model-empty').setInputFiles({ name: 'mobilenetv2.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(model.bytes) });
    await page.getByTestId('model-info').getByText('mobilenetv2.onnx').waitFor();
    await page.getByTestId('pick-data').setInputFiles(model.files());
  }
  await page.waitForFunction(() => {
    const s = (globalThis as unknown as { qbenchState: () => AppState }).qbenchState();
    return s.layerEvaluation !== null && s.layout !== null && Object.keys(s.jobs).length === 0;
  }, undefined, { timeout: 600_000 });
  const first = await state(page);
  const layer = model.whatIfLayer(readOnnx(model.bytes, model.name).graph);
  await page.getByTestId('table-filter').fill(layer);
  await page.locator(`[data-testid=table-row][data-layer="${layer}"]`).click();
  await page.getByTestId('precision-FP32').click();
  await page.waitForFunction(() => {
    const s = (globalThis as unknown as { qbenchState: () => AppState }).qbenchState();
    return s.lastEditToLayersMs !== null && Object.keys(s.jobs).length === 0;
  }, undefined, { timeout: 600_000 });
  const after = await state(page);
  const n = first.samples ?? 1;
  return {
    samples: n,
    whatIf: `${layer} -> FP32`,
    openMs: round(first.openMs ?? NaN),
    layoutMs: round(first.layoutMs ?? NaN),
    calibrationPerSampleMs: round((first.calibrationMs ?? NaN) / n),
    evaluateOutputsMs: round(first.outputsMs ?? NaN),
    evaluateLayersMs: round(first.layersMs ?? NaN),
    editToSimilarityMs: round(after.editToSimilarityMs ?? NaN),
    editToLayerErrorsMs: round(after.editToLayersMs ?? NaN),
    outputCos: { allInt8: first.cos, whatIf: after.cos },
  };
}

/** A 2,000-node model in the page: time to a laid-out graph, and frame rate while zooming and panning. */
async function benchBigGraph(page: Page, baseUrl: string) {
  log('chromium: 2,000-node graph');
  const bytes = deepResidualModel(2000);
  await page.goto(`${baseUrl}/?demo=0`);
  const started = Date.now();
  await page.getByTestId('pick-model-empty').setInputFiles({ name: 'deep2000.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
  await page.waitForFunction(() => (globalThis as unknown as { qbenchState: () => AppState }).qbenchState().layout !== null, undefined, { timeout: 120_000 });
  const pickToGraphMs = Date.now() - started;
  await page.getByTestId('graph-node').first().waitFor();
  const s = await state(page);
  const box = (await page.locator('.graph-panel').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const fps = (move: () => Promise<void>) => framesPerSecond(page, move);
  const zoomFps = await fps(async () => { for (let i = 0; i < 40; i++) { await page.mouse.wheel(0, i < 20 ? 120 : -120); await page.waitForTimeout(40); } });
  const panFps = await fps(async () => {
    await page.mouse.down();
    for (let i = 0; i < 40; i++) { await page.mouse.move(box.x + box.width / 2 + (i % 20) * 15, box.y + box.height / 2 + (i % 20) * 10); await page.waitForTimeout(40); }
    await page.mouse.up();
  });
  return { nodes: await page.getByTestId('graph-node').count(), openMs: round(s.openMs ?? NaN), layoutMs: round(s.layoutMs ?? NaN), pickToGraphMs, zoomFps, panFps };
}

/** n samples for a model: the demo's images repeated (12 unique), or seeded random 224x224 tensors. */
async function samplesFor(model: BenchModel, bench: Workbench, n: number): Promise<Dataset> {
  const base = await model.dataset(bench);
  const random = seededRandom(n);
  const samples = Array.from({ length: n }, (_, i) => {
    const sample = base.samples[i % base.samples.length];
    if (i < base.samples.length) return sample;
    // Past the unique samples, a seeded jitter keeps every sample distinct.
    const [name, tensor] = Object.entries(sample)[0];
    const data = Float32Array.from(tensor.data as Float32Array, (v) => v + (random() - 0.5) * 0.01);
    return { [name]: { ...tensor, data } };
  });
  return { samples, sampleNames: samples.map((_, i) => `sample ${i}`) };
}

/**
 * Issue #3's cost target: KL calibration over 100 samples against 100 float inferences, with only
 * KL's statistics kept and with every method's; and memory: what calibration keeps (statistics) and
 * how much the process grows during the pass, 10 vs 200 samples.
 */
async function benchCalibrationNode(model: BenchModel) {
  log(`node calibration: ${model.name}`);
  const engine = ortNodeEngine(0);
  // As the qbench command runs it: the statistics pass on one engine thread per core (cli/engineLanes.ts).
  const lanes = ortNodeLanes(Math.max(2, cpus().length), model.name);
  const bench = await Workbench.open(engine, model.bytes, model.name, { statisticsEngine: lanes });
  // The same pass on the float engine alone (every core, one thread of JavaScript), in the same rounds.
  const oneEngine = await Workbench.open(engine, model.bytes, model.name);
  bench.setDataset(await samplesFor(model, bench, 100));
  oneEngine.setDataset(await samplesFor(model, bench, 100));
  // The float engine (onnxruntime-node, every core) runs the float inference. The machine is shared and noisy, and a
  // process's first float runs are slower than later ones: float inference is timed right before and
  // right after each round's calibrations, the ratio taken to their mean, and the median of 3 rounds kept.
  await bench.measureFloatInference(silentJob); // warm-up, not counted
  const floats: number[] = [];
  const ratios: Record<string, number> = {};
  const rounds: Record<string, number[]> = {};
  for (const collect of ['method', 'all'] as const) {
    bench.setCalibrationSettings({ method: 'kl', collect });
    oneEngine.setCalibrationSettings({ method: 'kl', collect });
    const key = collect === 'method' ? 'klOnly' : 'allMethods';
    rounds[key] = [];
    rounds[`${key}OneEngine`] = [];
    for (let r = 0; r < 3; r++) {
      const before = (await bench.measureFloatInference(silentJob)).perSampleMs;
      const summary = await bench.calibrate(silentJob);
      const single = await oneEngine.calibrate(silentJob);
      const after = (await bench.measureFloatInference(silentJob)).perSampleMs;
      floats.push(before, after);
      rounds[key].push(ratio(summary.elapsedMs / summary.sampleCount / ((before + after) / 2)));
      rounds[`${key}OneEngine`].push(ratio(single.elapsedMs / single.sampleCount / ((before + after) / 2)));
    }
    ratios[key] = median(rounds[key]);
    ratios[`${key}OneEngine`] = median(rounds[`${key}OneEngine`]);
  }
  await oneEngine.dispose();
  const float = { perSampleMs: median(floats) };
  log(`node calibration floor: ${model.name}`);
  const leastExactStatisticsCost = await benchCalibrationFloorNode(engine, bench, await samplesFor(model, bench, 30));
  const memory: Record<string, { statisticsBytes: number; rssGrowthDuringPassMB: number }> = {};
  for (const n of [10, 200]) {
    bench.setDataset(await samplesFor(model, bench, n));
    bench.setCalibrationSettings({ method: 'kl', collect: 'all' });
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
    await bench.calibrate(silentJob);
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    memory[`${n} samples`] = { statisticsBytes: bench.calibrationFootprint(), rssGrowthDuringPassMB: Math.round((peak - before) / 1e5) / 10 };
  }
  await bench.dispose();
  await lanes.close();
  return { samples: 100, floatInferencePerSampleMs: round(float.perSampleMs), klCalibrationCostVsFloat: ratios, klCalibrationCostVsFloatRounds: rounds, leastExactStatisticsCost, memory };
}

/** The same cost ratio in the page's worker: the calibration panel's own float-inference comparison. */
async function benchCalibrationBrowser(page: Page, baseUrl: string) {
  log('chromium calibration: mobilenetv2-sized, 100 samples');
  const mnv2 = models[1];
  await page.goto(`${baseUrl}/?demo=0`);
  await page.getByTestId('pick-model-empty').setInputFiles({ name: 'mobilenetv2.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(mnv2.bytes) });
  await page.getByTestId('model-info').getByText('opset').waitFor();
  // 60 MB: past what Playwright passes as a buffer, so it goes through a file.
  const path = join(mkdtempSync(join(tmpdir(), 'qbench-bench-')), 'batch100.npy');
  writeFileSync(path, formatNpy({ dtype: 'float32', dims: [100, 3, 224, 224], data: randomBatch(100) }));
  await page.getByTestId('pick-data').setInputFiles(path);
  const idle = () => calibratedAndIdle(page);
  await idle();
  await page.getByTestId('tab-data').click();
  const ratios: Record<string, number> = {};
  let floatMs = 0;
  for (const collect of ['method', 'all'] as const) {
    await page.getByTestId('collect').selectOption(collect);
    await page.getByTestId('cali-method').selectOption('kl');
    await idle();
    await page.getByTestId('measure-baseline').click();
    await page.waitForFunction(() => (globalThis as unknown as { qbenchState: () => AppState }).qbenchState().floatBaseline !== null, undefined, { timeout: 300_000 });
    await idle();
    const r = await page.evaluate(() => {
      const s = (globalThis as unknown as { qbenchState: () => AppState }).qbenchState();
      return { calibration: s.calibration!.elapsedMs / s.calibration!.sampleCount, float: s.floatBaseline!.perSampleMs };
    });
    floatMs = r.float;
    ratios[collect === 'method' ? 'klOnly' : 'allMethods'] = ratio(r.calibration / r.float);
    await page.evaluate(() => (globalThis as unknown as { qbenchState: () => AppState }).qbenchState()); // keep the page busy-free
  }
  return { model: mnv2.name, samples: 100, floatInferencePerSampleMs: round(floatMs), klCalibrationCostVsFloat: ratios };
}

async function main() {
  const args = new Set(process.argv.slice(2));
  const sectionArg = process.argv.find((a) => a.startsWith('--sections='));
  const sections = new Set(sectionArg ? sectionArg.slice('--sections='.length).split(',') : ['core', 'calibration', 'search', 'tflite', 'robustness', 'rules', 'whatif', 'cli']);
  const result: Record<string, unknown> = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, date: new Date().toISOString() },
  };
  if (!args.has('--browser-only')) {
    if (sections.has('core')) {
      const node: Record<string, unknown> = {};
      for (const model of models) node[model.name] = await benchNode(model);
      result.node = { engine: 'onnxruntime-node 1.30 (CPU, all cores)', ...node };
    }
    if (sections.has('calibration')) {
      const calibration: Record<string, unknown> = {};
      for (const model of models) calibration[model.name] = await benchCalibrationNode(model);
      result.nodeCalibration = calibration;
    }
    if (sections.has('search')) result.nodeSearch = await benchSearchNode();
    if (sections.has('tflite')) result.nodeTfliteOpen = await benchTfliteOpenNode();
    if (sections.has('robustness')) result.nodeRobustness = await benchRobustnessNode(DEMO_IMAGE_DIR);
    if (sections.has('rules')) result.nodeRules = benchRulesNode();
    if (sections.has('whatif')) result.nodeWhatIf = await benchWhatIfNode();
    if (sections.has('cli')) result.cliStart = await benchCliStart();
  }
  if (!args.has('--node-only')) {
    const port = Number(process.env.BENCH_PORT ?? 4174);
    const server = await startPreview(port);
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-blink-features=ForceEagerMeasureMemory'],
    });
    try {
      const chromiumResults: Record<string, unknown> = { engine: `onnxruntime-web 1.30 WASM in a module worker, Chromium ${browser.version()}` };
      if (sections.has('core')) {
        for (const model of models) {
          const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
          chromiumResults[model.name] = await benchBrowser(model, page, `http://localhost:${port}`);
          await page.close();
        }
        const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        chromiumResults['graph-2000-nodes'] = await benchBigGraph(page, `http://localhost:${port}`);
        await page.close();
      }
      if (sections.has('graph') || sections.has('core')) {
        chromiumResults.graph = await benchGraphBrowser(() => browser.newPage({ viewport: { width: 1280, height: 800 } }), `http://localhost:${port}`);
      }
      if (sections.has('calibration')) {
        const calibrationPage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        chromiumResults.calibration = await benchCalibrationBrowser(calibrationPage, `http://localhost:${port}`);
        await calibrationPage.close();
      }
      if (sections.has('search')) {
        const searchPage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        chromiumResults.search = await benchSearchBrowser(searchPage, `http://localhost:${port}`);
        await searchPage.close();
      }
      if (sections.has('tflite')) {
        const tflitePage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
        chromiumResults.tfliteOpen = await benchTfliteOpenBrowser(tflitePage, `http://localhost:${port}`);
        await tflitePage.close();
      }
      if (sections.has('whatif')) chromiumResults.whatIf = await benchWhatIfBrowser(browser, `http://localhost:${port}`);
      if (sections.has('whatif') || sections.has('engines')) chromiumResults.engineSplit = await benchEngineSplitBrowser(`http://localhost:${port}`);
      if (sections.has('heap')) chromiumResults.heap = await benchHeapBrowser(`http://localhost:${port}`);
      result.chromium = chromiumResults;
    } finally {
      await browser.close();
      server.kill();
    }
  }
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

await main();
