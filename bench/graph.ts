/**
 * Issue 13's graph and rules figures (npm run bench -- --sections=graph, --sections=rules --node-only):
 * a 10,000-layer model with and without name scopes in the page, from picking the file to its
 * (collapsed) graph on screen and the frame rate of wheel zoom and drag pan; rules re-applied to a
 * 2,000-layer model in Node.
 */
import type { Page } from '@playwright/test';
import { readOnnx } from '../src/core/io/onnx/OnnxModel';
import { ALL_INT8, withPrecision } from '../src/core/model/QTable';
import { reapplyRules, ruleLayersOf, type RuleList } from '../src/core/rules/rules';
import type { AppState } from '../src/state/store';
import { deepResidualModel, scopedResidualModel } from '../test/support/deepGraph';
import { round } from './figures';

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** Frames per second over 2 s while `move` runs (requestAnimationFrame callbacks that got to run). */
export async function framesPerSecond(page: Page, move: () => Promise<void>): Promise<number> {
  // A string, not a function: tsx would wrap a named inner function in a helper the page lacks.
  const frames = page.evaluate<number>(`new Promise((resolve) => {
    let count = 0;
    const start = performance.now();
    const tick = () => { count++; if (performance.now() - start < 2000) requestAnimationFrame(tick); else resolve(count / ((performance.now() - start) / 1000)); };
    requestAnimationFrame(tick);
  })`);
  const [rate] = await Promise.all([frames, move()]);
  return Math.round(rate);
}

/** Wheel zoom (in, then out) and drag pan over the graph's middle. */
export async function zoomAndPanFps(page: Page): Promise<{ zoomFps: number; panFps: number }> {
  const box = (await page.locator('.graph-panel').boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  await page.mouse.move(cx, cy);
  const zoomFps = await framesPerSecond(page, async () => {
    for (let i = 0; i < 40; i++) {
      await page.mouse.wheel(0, i < 20 ? 120 : -120);
      await page.waitForTimeout(40);
    }
  });
  const panFps = await framesPerSecond(page, async () => {
    await page.mouse.down();
    for (let i = 0; i < 40; i++) {
      await page.mouse.move(cx + (i % 20) * 15, cy + (i % 20) * 10);
      await page.waitForTimeout(40);
    }
    await page.mouse.up();
  });
  return { zoomFps, panFps };
}

/**
 * One model in the page: time from setInputFiles to the first graph box (a group or a layer) in the
 * DOM, what it is made of (the model's opening in the compute worker, the collapsed layout's
 * request-to-answer and worker times from layoutClient's performance measures), the boxes drawn,
 * zoom and pan fps; then the same with every group open (Expand).
 */
export async function benchGraphOpen(page: Page, baseUrl: string, name: string, bytes: Uint8Array) {
  log(`chromium graph: ${name}`);
  await page.goto(`${baseUrl}/?demo=0`);
  await page.evaluate(() => performance.clearMeasures());
  // In the page: when the model reaches the store (the compute worker has opened it) and when the
  // first box is drawn, polled every frame; a string, so tsx adds no helper the page lacks.
  await page.evaluate(`(() => {
    const times = { picked: performance.now(), model: 0, graph: 0 };
    globalThis.__graphTimes = times;
    const poll = () => {
      if (!times.model && globalThis.qbenchState().model) times.model = performance.now();
      if (times.model && document.querySelector('[data-testid=graph-group], [data-testid=graph-node]')) { times.graph = performance.now(); return; }
      requestAnimationFrame(poll);
    };
    requestAnimationFrame(poll);
  })()`);
  const started = Date.now();
  await page.getByTestId('pick-model-empty').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
  await page.locator('[data-testid=graph-group], [data-testid=graph-node]').first().waitFor({ timeout: 120_000 });
  const pickToGraphMs = Date.now() - started;
  // No named functions inside: tsx would wrap them in a helper the page lacks.
  const parts = await page.evaluate(() => ({
    openMs: (globalThis as unknown as { qbenchState: () => AppState }).qbenchState().model?.openMs ?? null,
    layouts: performance.getEntriesByType('measure').filter((m) => m.name.startsWith('qbench:layout-'))
      .map((m) => ({ lane: m.name.slice('qbench:layout-'.length), answerMs: m.duration, ...((m as PerformanceMeasure).detail as { workerMs: number; nodes: number }) })),
  }));
  const viewLayout = parts.layouts.find((m) => m.lane === 'view') ?? null;
  const times = await page.evaluate<{ picked: number; model: number; graph: number }>('globalThis.__graphTimes');
  const boxes = await page.locator('[data-testid=graph-group], [data-testid=graph-node]').count();
  const groups = await page.getByTestId('graph-group').count();
  const { zoomFps, panFps } = await zoomAndPanFps(page);
  // Every group open (Expand): the whole graph, from the full layout the first worker computed meanwhile.
  const expandStarted = Date.now();
  await page.getByTestId('graph-groups-toggle').click();
  await page.getByTestId('graph-group').first().waitFor({ state: 'detached', timeout: 120_000 });
  await page.getByTestId('graph-node').first().waitFor();
  const expandMs = Date.now() - expandStarted;
  const expanded = await zoomAndPanFps(page);
  const round1 = (m: { answerMs: number; workerMs: number; nodes: number } | null) => m && { nodes: m.nodes, answerMs: round(m.answerMs), workerMs: round(m.workerMs) };
  return {
    layers: (await page.evaluate(() => (globalThis as unknown as { qbenchState: () => AppState }).qbenchState().model?.graph.nodes.length)) ?? null,
    pickToGraphMs, openMs: round(parts.openMs ?? NaN), modelToGraphMs: round(times.graph - times.model), collapsedLayout: round1(viewLayout), boxes, groups, zoomFps, panFps,
    expanded: { expandMs, boxes: await page.getByTestId('graph-node').count(), zoomFps: expanded.zoomFps, panFps: expanded.panFps },
  };
}

/** The page section `graph`: 10,000-layer models without and with name scopes. */
export async function benchGraphBrowser(newPage: () => Promise<Page>, baseUrl: string) {
  const out: Record<string, unknown> = {};
  for (const [key, name, bytes] of [
    ['unscoped-10000', 'deep10k.onnx', deepResidualModel(10_000)],
    ['scoped-10000', 'scoped10k.onnx', scopedResidualModel(10_000)],
  ] as const) {
    const page = await newPage();
    out[key] = await benchGraphOpen(page, baseUrl, name, bytes);
    await page.close();
  }
  return out;
}

/**
 * The node section `rules`: a rule list (op type, name regex, scope, first and last N) changed and
 * re-applied to a 2,000-layer model's QTable with hand edits (reapplyRules, what the page runs on
 * every rule edit), with and without building the rule view of the layers. Median of 25, warm.
 */
export function benchRulesNode() {
  log('node rules: 2,000 layers');
  const graph = readOnnx(scopedResidualModel(2000), 'scoped2000.onnx').graph;
  const layers = () => ruleLayersOf(graph.nodes, () => true);
  const before: RuleList = [
    { kind: 'op', value: 'Add', precision: 'INT16' },
    { kind: 'name', value: '/block1\\d+/conv2', precision: 'FP16' },
  ];
  const after: RuleList = [
    ...before,
    { kind: 'op', value: 'Conv, Relu', precision: 'INT16' },
    { kind: 'name', value: 'conv1/Conv$', precision: 'FP16' },
    { kind: 'scope', value: '/block3', precision: 'FP32' },
    { kind: 'first', value: '10', precision: 'FP32' },
    { kind: 'last', value: '10', precision: 'FP32' },
    { kind: 'name', value: '^/block(\\d*[02468])/add', precision: 'INT8', enabled: false },
  ];
  let qtable = ALL_INT8;
  for (const node of graph.nodes.filter((_, i) => i % 37 === 0)) qtable = withPrecision(qtable, node.name, 'FP32');
  const median = (run: () => void) => {
    const times: number[] = [];
    for (let i = 0; i < 25; i++) {
      const t = performance.now();
      run();
      times.push(performance.now() - t);
    }
    return round(times.sort((a, b) => a - b)[12]);
  };
  const prepared = layers();
  const reapplyMs = median(() => void reapplyRules(qtable, before, after, prepared));
  const withLayersMs = median(() => void reapplyRules(qtable, before, after, layers()));
  return { layers: graph.nodes.length, rules: after.length, reapplyMs, withRuleLayersMs: withLayersMs, targetMs: 100 };
}
