/**
 * Issue #4's benchmark: the mixed-precision searches on a MobileNetV2-sized model (the test graph
 * builder's, random weights) with 30 seeded 224x224 samples, in Node (the CLI's worker-thread pool)
 * and in Chromium (the page's Web Worker pool), each against the naive cost of the same run:
 * units x methods x samples x one float inference.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { nodeSearchPool } from '../cli/nodeSearchPool';
import { ortNodeEngine } from '../cli/ortNodeEngine';
import { formatNpy } from '../src/core/io/dataset/npy';
import { CancelToken, jobContext, silentJob } from '../src/core/jobs/Job';
import { ALL_INT8, qtableToData, withPrecision } from '../src/core/model/QTable';
import { SEARCH_DEFAULTS } from '../src/core/search/SearchRequest';
import type { SearchResult } from '../src/core/search/SearchSession';
import { sampleScore } from '../src/core/search/scoring/searchMetric';
import { onlyUnitQuantized } from '../src/core/search/scoring/sensitivity';
import { quantUnits } from '../src/core/search/scoring/units';
import { Simulator } from '../src/core/sim/Simulator';
import { Workbench } from '../src/core/Workbench';
import type { AppState } from '../src/state/store';
import { seededRandom } from '../test/support/GraphBuilder';
import { mobileNetV2 } from '../test/support/mobilenetV2';
import { median, ratio, round } from './figures';

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
const SAMPLES = 30;
const METHODS = SEARCH_DEFAULTS.sensitive.methods;

function batch(): Float32Array {
  const random = seededRandom(42);
  return Float32Array.from({ length: SAMPLES * 3 * 224 * 224 }, () => random() * 4 - 2);
}

/** Files for the CLI and the page: the model and one .npy of 30 samples. */
export function searchBenchFiles(): { dir: string; model: string; data: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qbench-search-'));
  writeFileSync(join(dir, 'mobilenetv2.onnx'), mobileNetV2());
  writeFileSync(join(dir, 'batch30.npy'), formatNpy({ dtype: 'float32', dims: [SAMPLES, 3, 224, 224], data: batch() }));
  return { dir, model: join(dir, 'mobilenetv2.onnx'), data: join(dir, 'batch30.npy') };
}

/** Float inference per sample: the median of three passes over the samples (one session, all cores). */
async function floatPerSample(bench: Workbench): Promise<number> {
  const passes: number[] = [];
  for (let i = 0; i < 3; i++) passes.push((await bench.measureFloatInference(silentJob)).perSampleMs);
  return median(passes);
}

function wallOf(command: string[]): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, command, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.on('exit', (code) => (code === 0 ? resolve({ ms: performance.now() - started, stdout }) : reject(new Error(`qbench exited ${code}`))));
  });
}

/**
 * The naive loop on a spread of units (every fifth): the whole QDQ model per unit and method, every
 * sample; how far its scores are from the ranking's, and whether it orders those units the same.
 */
async function agreementWithNaiveLoop(bench: Workbench, result: SearchResult) {
  const ctx = await bench.searchContext();
  const units = quantUnits(ctx.model.graph, ctx.layers);
  const picked = units.filter((_, i) => i % 5 === 0);
  let maxDifference = 0;
  const naiveBest = new Map<string, number>();
  for (const unit of picked) {
    const ranked = result.ranking.find((r) => r.head === unit.head)!;
    for (const m of ranked.perMethod) {
      const cali = new Map(ctx.cali);
      for (const t of ctx.layers.get(unit.layers[unit.layers.length - 1])!.floatOutputs) cali.set(t, ctx.methodTables.get(m.method)!.get(t)!);
      const simulator = new Simulator({ ...ctx, cali, engine: bench.engine, floatOutputs: ctx.references });
      const outputs = await simulator.simulatedOutputs(onlyUnitQuantized(unit), 'outputs', silentJob);
      await simulator.dispose();
      const compared = ctx.model.graph.outputs.map((o) => ({ tensor: o.name, weight: 1 }));
      const naive = outputs.reduce((s, out, i) => s + sampleScore(result.metric, compared, ctx.references[i], out), 0) / outputs.length;
      maxDifference = Math.max(maxDifference, Math.abs(naive - m.score));
      naiveBest.set(unit.head, Math.min(naiveBest.get(unit.head) ?? Infinity, 1 - naive));
    }
  }
  const order = (loss: (head: string) => number) => picked.map((u) => u.head).sort((a, b) => loss(b) - loss(a)).join(',');
  const byRanking = new Map(result.ranking.map((r) => [r.head, r.best.loss]));
  return { unitsChecked: picked.length, maxScoreDifference: maxDifference, sameOrder: order((h) => byRanking.get(h)!) === order((h) => naiveBest.get(h)!) };
}

export async function benchSearchNode() {
  log('node search: mobilenetv2-sized, 30 samples');
  const files = searchBenchFiles();
  const bench = await Workbench.open(ortNodeEngine(0), mobileNetV2(), 'mobilenetv2.onnx');
  const random = seededRandom(42);
  const samples = Array.from({ length: SAMPLES }, () => ({ input: { dtype: 'float32' as const, dims: [1, 3, 224, 224], data: Float32Array.from({ length: 3 * 224 * 224 }, () => random() * 4 - 2) } }));
  bench.setDataset({ samples, sampleNames: samples.map((_, i) => `s${i}`) });
  await bench.calibrate(silentJob);
  const pools: { close(): Promise<void> }[] = [];
  bench.setSearchPools(async (ctx) => {
    const pool = await nodeSearchPool(ctx);
    pools.push(pool);
    return pool;
  });
  try {
    const floatMs = await floatPerSample(bench);
    const units = quantUnits(bench.graph, bench.layers).length;
    const naiveMs = units * METHODS.length * SAMPLES * floatMs;
    const base = qtableToData(ALL_INT8);
    const sensitive = await bench.search({ kind: 'sensitive', metric: { kind: 'rescaled_cos', compare: [] }, base, options: SEARCH_DEFAULTS.sensitive }, silentJob, () => {});
    const floatAfterMs = await floatPerSample(bench);
    const bisection = await bench.search({ kind: 'bisection', metric: { kind: 'mae', compare: [] }, base, options: SEARCH_DEFAULTS.bisection }, silentJob, () => {});
    const whatIfLayer = bench.graph.nodes.filter((n) => n.opType === 'Conv')[30].name;
    await bench.evaluate(ALL_INT8, 'outputs', silentJob);
    const whatIfStart = performance.now();
    await bench.evaluate(withPrecision(ALL_INT8, whatIfLayer, 'FP32'), 'outputs', silentJob);
    const whatIfMs = performance.now() - whatIfStart;
    // Cancel: a sensitivity search stopped 2 s in; how long until it has stopped.
    const token = new CancelToken();
    const running = bench.search({ kind: 'sensitive', metric: { kind: 'rescaled_cos', compare: [] }, base, options: SEARCH_DEFAULTS.sensitive }, jobContext(() => {}, token), () => {});
    await new Promise((r) => setTimeout(r, 2000));
    const cancelAt = performance.now();
    token.cancel();
    await running.catch(() => undefined);
    const cancelMs = performance.now() - cancelAt;
    const agreement = await agreementWithNaiveLoop(bench, sensitive);
    const cli = await wallOf(['cli/qbench.js', 'search', 'sensitive', '--model', files.model, '--data', files.data, '-o', join(files.dir, 'out.qtable'), '--json']);
    const cliResult = JSON.parse(cli.stdout) as { searchMs: number; workers: number };
    const bestFloat = Math.min(floatMs, floatAfterMs);
    return {
      samples: SAMPLES, units, methods: METHODS, workers: sensitive.runners,
      floatInferencePerSampleMs: { before: round(floatMs), after: round(floatAfterMs) },
      naiveRankingMs: Math.round(units * METHODS.length * SAMPLES * bestFloat),
      sensitivity: {
        rankingMs: Math.round(sensitive.rankingMs!), searchMs: Math.round(sensitive.elapsedMs),
        rankingVsNaive: ratio(sensitive.rankingMs! / (units * METHODS.length * SAMPLES * bestFloat)),
        rankingVsNaiveWithFloatBefore: ratio(sensitive.rankingMs! / naiveMs),
        configurationsScored: sensitive.visited.length,
      },
      cliSensitiveWallMs: Math.round(cli.ms), cliSearchMs: cliResult.searchMs,
      agreementWithNaiveLoop: agreement,
      bisection: { searchMs: Math.round(bisection.elapsedMs), evaluations: bisection.visited.length },
      whatIf: { layer: `${whatIfLayer} -> FP32`, outputSimilarityMs: Math.round(whatIfMs) },
      cancelToStoppedMs: Math.round(cancelMs),
    };
  } finally {
    await Promise.all(pools.map((p) => p.close()));
    await bench.dispose();
  }
}

type State = () => AppState;
const state = <T>(page: Page, pick: string) => page.evaluate(`(() => { const s = globalThis.qbenchState(); return ${pick}; })()`) as Promise<T>;
const idle = (page: Page) => page.waitForFunction(() => {
  const s = (globalThis as unknown as { qbenchState: State }).qbenchState();
  return s.calibration !== null && s.layerEvaluation !== null && Object.keys(s.jobs).length === 0;
}, undefined, { timeout: 900_000 });

/** The same in the page: searches from the Search tab on the pool of Web Workers. */
export async function benchSearchBrowser(page: Page, baseUrl: string) {
  log('chromium search: mobilenetv2-sized, 30 samples');
  const files = searchBenchFiles();
  await page.goto(`${baseUrl}/?demo=0`);
  await page.getByTestId('pick-model-empty').setInputFiles(files.model);
  await page.getByTestId('model-info').getByText('opset').waitFor();
  await page.getByTestId('pick-data').setInputFiles(files.data);
  await idle(page);
  await page.getByTestId('tab-data').click();
  await page.getByTestId('measure-baseline').click();
  await page.waitForFunction(() => (globalThis as unknown as { qbenchState: State }).qbenchState().floatBaseline !== null, undefined, { timeout: 300_000 });
  const floatMs = await state<number>(page, 's.floatBaseline.perSampleMs');
  const units = await state<number>(page, 's.model.layers.filter((l) => l.quantizable).length');
  await page.getByTestId('tab-search').click();

  const runSearch = async (kind: string) => {
    await page.getByTestId('search-kind').selectOption(kind);
    await page.getByTestId('search-run').click();
    await page.waitForFunction(() => {
      const s = (globalThis as unknown as { qbenchState: State }).qbenchState();
      return s.searchRun === null && Object.keys(s.jobs).length === 0;
    }, undefined, { timeout: 900_000 });
    return state<{ elapsedMs: number; rankingMs: number | null; runners: number; ranking: unknown[]; visited: unknown[] }>(page, 's.searchResult');
  };
  const sensitive = await runSearch('sensitive');
  const rankedUnits = sensitive.ranking.length;
  const naiveMs = rankedUnits * METHODS.length * SAMPLES * floatMs;
  const bisection = await runSearch('bisection');

  // what-if: one layer's precision changed -> the new output similarity over the 30 samples
  await idle(page);
  const layer = await state<string>(page, "s.model.graph.nodes.filter((n) => n.opType === 'Conv')[30].name");
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('table-filter').fill(layer);
  await page.locator(`[data-testid=table-row][data-layer="${layer}"]`).click();
  await page.getByTestId('precision-FP32').click();
  await page.waitForFunction(() => {
    const s = (globalThis as unknown as { qbenchState: State }).qbenchState();
    return s.lastEditToSimilarityMs !== null && s.outputEvaluation?.qtable.layers.length === 1;
  }, undefined, { timeout: 300_000 });
  const whatIfMs = await state<number>(page, 's.lastEditToSimilarityMs');
  await idle(page);

  // cancel: a sensitivity search stopped 3 s in
  await page.getByTestId('tab-search').click();
  await page.getByTestId('search-kind').selectOption('sensitive');
  await page.getByTestId('search-run').click();
  await page.waitForTimeout(3000);
  // A string, not a function: tsx would wrap an inner arrow function in a helper the page lacks.
  const cancelMs = await page.evaluate<number>(`new Promise((resolve) => {
    const started = performance.now();
    document.querySelector('[data-testid=search-cancel]').click();
    const check = () => {
      const s = globalThis.qbenchState();
      if (!Object.values(s.jobs).some((j) => j.kind === 'search')) resolve(performance.now() - started);
      else requestAnimationFrame(check);
    };
    check();
  })`);
  return {
    samples: SAMPLES, rankedUnits, methods: METHODS, workers: sensitive.runners, floatInferencePerSampleMs: round(floatMs), quantizableLayers: units,
    naiveRankingMs: Math.round(naiveMs),
    sensitivity: { rankingMs: Math.round(sensitive.rankingMs ?? NaN), searchMs: Math.round(sensitive.elapsedMs), rankingVsNaive: ratio((sensitive.rankingMs ?? NaN) / naiveMs) },
    bisection: { searchMs: Math.round(bisection.elapsedMs), evaluations: bisection.visited.length },
    whatIf: { layer: `${layer} -> FP32`, editToSimilarityMs: Math.round(whatIfMs) },
    cancelToStoppedMs: Math.round(cancelMs),
  };
}
