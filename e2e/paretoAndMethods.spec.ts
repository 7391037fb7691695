import { expect, test, type Page } from '@playwright/test';
import { openDemoOnSamples } from './support';

/**
 * Issue #11 item 8 on the demo model (PP-OCRv4 det), in a real browser: "use each layer's best
 * method" after a one-method ranking is one undoable edit whose figure is labelled as not measured;
 * the per-layer overrides can be reset in one edit; a Pareto point or a row under the chart applies
 * exactly its configuration (QTable and the per-tensor methods it was scored with), so the header
 * shows the figure it promised. Two evaluation samples and one method keep it short.
 */

type Override = readonly [string, { method?: string; threshold?: number }];
interface Configuration { id: number; label: string; outputCos: number; weightBytes: number; qtable: { defaultPrecision: string; layers: [string, string][] } }
interface StoreView {
  qtable: { defaultPrecision: string; layers: Map<string, string> };
  tensorOverrides: readonly Override[];
  past: unknown[];
  calibration: { overrides: readonly Override[]; evaluationSampleCount: number } | null;
  searchResult: { ranking: unknown[] } | null;
  visited: Configuration[];
  jobs: Record<string, unknown>;
}

const store = <T>(page: Page, pick: (s: StoreView) => T) => page.evaluate(`(${pick.toString()})(globalThis.qbenchState())`) as Promise<T>;
const idle = (page: Page) => page.waitForFunction(() => Object.keys((globalThis as unknown as { qbenchState: () => StoreView }).qbenchState().jobs).length === 0, undefined, { timeout: 120_000 });
const headerCos = async (page: Page) => (await page.getByTestId('output-cos').getAttribute('data-value')) ?? '';
const qtableOf = (page: Page) => store(page, (s) => ({ defaultPrecision: s.qtable.defaultPrecision, layers: [...s.qtable.layers].sort() }));
const sorted = (c: Configuration) => ({ defaultPrecision: c.qtable.defaultPrecision, layers: [...c.qtable.layers].sort() });

/** The demo, evaluated on 2 samples, calibrated with KL model-wide (so a max-only ranking measures something else). */
async function openDemo(page: Page): Promise<void> {
  await openDemoOnSamples(page, 2);
  await page.getByTestId('tab-data').click();
  await page.getByTestId('cali-method').selectOption('kl');
  await idle(page);
}

/** run_sensitive_layer with max alone, a target all INT8 misses, at most two float units. */
async function rankWithMaxOnly(page: Page): Promise<void> {
  await page.getByTestId('tab-search').click();
  await page.getByTestId('search-kind').selectOption('sensitive');
  for (const label of [/^percentile9999/, /^KL \(TPU-MLIR\)/]) await page.getByTestId('search-methods').getByText(label).click();
  await page.getByTestId('search-expected').fill('0.9999');
  await page.getByTestId('search-expected').blur();
  await page.getByTestId('search-max-float').fill('2');
  await page.getByTestId('search-max-float').blur();
  await page.getByTestId('search-run').click();
  await expect(page.getByTestId('search-result')).toBeVisible({ timeout: 300_000 });
  await idle(page);
}

test("best methods, reset and the Pareto view: each one edit that Undo takes back, each applying exactly what it shows", async ({ page }) => {
  // one search (a few minutes in one browser) serves every step
  test.setTimeout(900_000);
  await openDemo(page);
  await rankWithMaxOnly(page);
  const start = { cos: await headerCos(page), qtable: await qtableOf(page), past: await store(page, (s) => s.past.length) };
  expect(await store(page, (s) => s.tensorOverrides)).toEqual([]);

  await test.step("use each layer's best method: labelled as not measured, one edit, Undo restores the figure exactly", async () => {
    await expect(page.getByTestId('best-methods-estimate')).toContainText('No figure promised');
    await expect(page.getByTestId('best-methods-estimate')).toContainText('only max');
    await expect(page.getByTestId('best-methods-estimate')).toContainText("never against the model's method (kl)");
    const ranked = await store(page, (s) => s.searchResult!.ranking.length);
    await expect(page.getByTestId('search-use-best-methods')).toContainText(`Use max on the ${ranked} ranked layers`);
    await page.getByTestId('search-use-best-methods').click();
    await expect.poll(() => store(page, (s) => s.tensorOverrides.length), { timeout: 60_000 }).toBeGreaterThanOrEqual(ranked);
    await idle(page);
    // exactly what the ranking measured: max, on the ranked outputs, and one step on the undo list
    expect(await store(page, (s) => s.tensorOverrides.every(([, o]) => o.method === 'max'))).toBe(true);
    expect(await store(page, (s) => s.calibration!.overrides.length)).toBe(await store(page, (s) => s.tensorOverrides.length));
    expect(await store(page, (s) => s.past.length)).toBe(start.past + 1);
    expect(await qtableOf(page)).toEqual(start.qtable);
    const applied = await headerCos(page);
    expect(applied).not.toBe(start.cos);
    await expect(page.getByTestId('best-methods-estimate')).toBeVisible();
    await expect(page.getByTestId('search-use-best-methods')).toHaveText('Best methods in force');
    await page.screenshot({ path: 'test-results/best-methods.png' });

    await page.keyboard.press('Control+z');
    await expect.poll(() => store(page, (s) => s.calibration!.overrides.length), { timeout: 30_000 }).toBe(0);
    expect(await store(page, (s) => s.tensorOverrides)).toEqual([]);
    await expect.poll(() => headerCos(page), { timeout: 60_000 }).toBe(start.cos);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => headerCos(page), { timeout: 60_000 }).toBe(applied);
    await idle(page);
  });

  await test.step('reset every per-layer override: the count, one edit, Undo puts them back', async () => {
    const count = await store(page, (s) => s.tensorOverrides.length);
    const applied = await headerCos(page);
    await page.getByTestId('tab-data').click();
    await expect(page.getByTestId('override-count')).toHaveText(String(count));
    await page.getByTestId('reset-overrides').click();
    await expect(page.getByTestId('override-summary')).toHaveAttribute('data-count', '0');
    await expect.poll(() => headerCos(page), { timeout: 60_000 }).toBe(start.cos);
    await page.keyboard.press('Control+z');
    await expect(page.getByTestId('override-count')).toHaveText(String(count));
    await expect.poll(() => headerCos(page), { timeout: 60_000 }).toBe(applied);
    await idle(page);
  });

  await test.step('a row under the Pareto chart applies exactly its configuration, per-tensor methods included', async () => {
    await page.getByTestId('tab-search').click();
    const visited = await store(page, (s) => s.visited);
    await expect(page.getByTestId('pareto-row')).toHaveCount(visited.length);
    // scored before the best methods: applying it puts the overrides of its time back (none)
    const allInt8 = visited.find((c) => c.qtable.layers.length === 0)!;
    const row = page.locator(`[data-testid=pareto-row][data-id="${allInt8.id}"]`);
    await expect(row).toHaveAttribute('title', /Scored with other per-tensor methods: applying it puts them back/);
    await row.hover();
    await expect(page.locator(`[data-testid=pareto-point][data-id="${allInt8.id}"]`)).toHaveClass(/hovered/);
    await expect(page.getByTestId('pareto-tooltip')).toHaveAttribute('data-id', String(allInt8.id));
    await expect(page.getByTestId('pareto-tooltip')).toContainText(allInt8.outputCos.toFixed(6));
    await row.click();
    await expect.poll(() => store(page, (s) => s.tensorOverrides.length), { timeout: 30_000 }).toBe(0);
    expect(await qtableOf(page)).toEqual(sorted(allInt8));
    await idle(page);
    await expect.poll(async () => Number(await headerCos(page)).toFixed(6)).toBe(allInt8.outputCos.toFixed(6));
    await expect(row).toHaveClass(/current/);
  });

  await test.step('zooming the size axis, hovering and clicking points: what is highlighted is what a click applies', async () => {
    const visited = await store(page, (s) => s.visited);
    const chart = page.getByTestId('pareto-chart');
    const centers = () => page.$$eval('[data-testid=pareto-point]', (els) => els.map((e) => {
      const r = e.getBoundingClientRect();
      return { id: Number(e.getAttribute('data-id')), x: r.x + r.width / 2, y: r.y + r.height / 2 };
    }));
    const byId = (id: number) => visited.find((c) => c.id === id)!;
    const applies = async (c: Configuration) => {
      await expect.poll(() => qtableOf(page), { timeout: 30_000 }).toEqual(sorted(c));
      await idle(page);
      await expect.poll(async () => Number(await headerCos(page)).toFixed(6)).toBe(c.outputCos.toFixed(6));
    };

    // The largest configurations: on the demo, floating the second most sensitive unit (it has no
    // weights) changes neither the size nor the figure, so their points lie on one another, as the
    // issue's seven at 2.2 MB did.
    const largest = [...visited].sort((a, b) => b.weightBytes - a.weightBytes || a.id - b.id)[0];
    // zoomed in on them, the list holds the configurations in view only, and the cosine axis spans theirs
    const sameSize = visited.filter((c) => c.weightBytes === largest.weightBytes).length;
    // At least one turn: where every configuration of the search has the same size, the list already
    // holds them all before any zoom (once, under load, the search visited only such ones).
    for (let turn = 0; turn < 8 && (turn === 0 || (await page.getByTestId('pareto-row').count()) !== sameSize); turn++) {
      const at = (await centers()).find((c) => c.id === largest.id)!;
      const zoom = (await chart.getAttribute('data-zoom'))!;
      await page.mouse.move(at.x, at.y);
      await page.mouse.wheel(0, -600);
      await expect(chart).not.toHaveAttribute('data-zoom', zoom);
    }
    expect(Number(await chart.getAttribute('data-zoom'))).toBeGreaterThan(1);
    await expect(page.getByTestId('pareto-row')).toHaveCount(sameSize);

    // the pointer designates the point drawn on top (the last scored): the tooltip and its row say which, and a click applies that one
    const here = (await centers()).find((c) => c.id === largest.id)!;
    const near = (await centers()).filter((c) => Math.hypot(c.x - here.x, c.y - here.y) < 1).map((c) => c.id);
    const top = byId(Math.max(...near));
    await page.mouse.move(here.x, here.y);
    await expect(page.getByTestId('pareto-tooltip')).toHaveAttribute('data-id', String(top.id));
    await expect(page.getByTestId('pareto-tooltip')).toContainText(top.outputCos.toFixed(6));
    await expect(page.locator(`[data-testid=pareto-row][data-id="${top.id}"]`)).toHaveClass(/hovered/);
    await expect(page.locator(`[data-testid=pareto-point][data-id="${top.id}"]`)).toHaveClass(/hovered/);
    await page.mouse.click(here.x, here.y);
    await applies(top);
    // one under it is reached by its row
    for (const id of near.filter((id) => id !== top.id)) {
      await page.locator(`[data-testid=pareto-row][data-id="${id}"]`).click();
      await applies(byId(id));
    }

    // back to the whole view, where every point of this search sits in one spot (sizes a few hundred
    // bytes apart in 1.1 MB); zoomed in there, the cosine axis fits them and the one with another figure
    // comes apart: a click near it applies it
    await page.getByTestId('pareto-zoom-reset').click();
    await expect(chart).toHaveAttribute('data-zoom', '1.000');
    await expect(page.getByTestId('pareto-row')).toHaveCount(visited.length);
    const other = visited.find((c) => Math.abs(c.outputCos - largest.outputCos) > 1e-4)!;
    const apart = async () => {
      const all = await centers();
      const c = all.find((p) => p.id === other.id)!;
      return { c, apart: all.every((o) => o.id === c.id || Math.hypot(o.x - c.x, o.y - c.y) > 12) };
    };
    for (let turn = 0; turn < 8 && !(await apart()).apart; turn++) {
      const { c } = await apart();
      const zoom = (await chart.getAttribute('data-zoom'))!;
      await page.mouse.move(c.x, c.y);
      await page.mouse.wheel(0, -600);
      await expect(chart).not.toHaveAttribute('data-zoom', zoom);
    }
    const { c: alone, apart: separated } = await apart();
    expect(separated).toBe(true);
    const before = await qtableOf(page);
    await page.mouse.move(alone.x + 2, alone.y - 2); // near it is enough
    await expect(page.getByTestId('pareto-tooltip')).toHaveAttribute('data-id', String(alone.id));
    await page.mouse.click(alone.x + 2, alone.y - 2);
    await applies(byId(alone.id));
    // and one Undo goes back
    await page.keyboard.press('Control+z');
    await expect.poll(() => qtableOf(page)).toEqual(before);
  });
});
