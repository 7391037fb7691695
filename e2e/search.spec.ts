import { expect, test, type Page } from '@playwright/test';
import { expectAnEditEvaluated, openDemoOnSamples } from './support';

/**
 * Issue #4 in a real browser on the demo model (PP-OCRv4 det): searches run on the pool of Web
 * Workers, stream their ranking into the table and the graph, and give a QTable to compare, apply
 * and undo; the Pareto view applies a point; cancel leaves everything as it was; fp_forward from
 * the graph. Evaluations use 2 samples and one method so the test stays short.
 */

interface StoreView {
  qtable: { defaultPrecision: string; layers: Map<string, string> };
  searchRun: { sensitivities: unknown[] } | null;
  searchResult: { qtable: { layers: [string, string][] }; ranking: unknown[] } | null;
  visited: { id: number; qtable: { layers: [string, string][] } }[];
  jobs: Record<string, { label: string }>;
}

const store = <T>(page: Page, pick: (s: StoreView) => T) =>
  page.evaluate(`(${pick.toString()})(globalThis.qbenchState())`) as Promise<T>;
const qtableEntries = (page: Page) => page.evaluate(() => [...(globalThis as unknown as { qbenchState: () => StoreView }).qbenchState().qtable.layers].sort());
const idle = (page: Page) => page.waitForFunction(() => Object.keys((globalThis as unknown as { qbenchState: () => StoreView }).qbenchState().jobs).length === 0, undefined, { timeout: 120_000 });

async function openDemoWithTwoEvaluationSamples(page: Page) {
  await openDemoOnSamples(page, 2);
  await page.getByTestId('tab-search').click();
}

test('sensitive layers: the ranking streams into the table and the heatmap; the result is compared, applied, undone; a Pareto point applies', async ({ page }) => {
  await openDemoWithTwoEvaluationSamples(page);
  await page.getByTestId('search-kind').selectOption('sensitive');
  // one method, a target all INT8 does not reach, at most two float units
  for (const method of ['percentile9999', 'kl']) await page.getByTestId('search-methods').getByText(new RegExp(`^${method === 'kl' ? 'KL \\(TPU-MLIR\\)' : 'percentile9999'}`)).click();
  await page.getByTestId('search-expected').fill('0.9999');
  await page.getByTestId('search-expected').blur();
  await page.getByTestId('search-max-float').fill('2');
  await page.getByTestId('search-max-float').blur();
  const before = await qtableEntries(page);
  await page.getByTestId('search-run').click();

  // Partial results while it runs: rows in the ranking table and the Sensitivity heatmap.
  await expect(page.getByTestId('search-running')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('sensitivity-table').locator('tbody tr').first()).toBeVisible({ timeout: 120_000 });
  expect(await store(page, (s) => s.searchRun !== null)).toBe(true);
  await expect(page.getByTestId('metric-sensitivity')).toHaveAttribute('aria-checked', 'true');
  await expect(page.getByTestId('heat-legend')).toContainText('Sensitivity');
  await expect(page.getByTestId('job-progress').first()).toContainText('Search');

  await expect(page.getByTestId('search-result')).toBeVisible({ timeout: 300_000 });
  const result = await store(page, (s) => s.searchResult!);
  expect(result.ranking.length).toBeGreaterThan(100);
  expect(result.qtable.layers.length).toBeGreaterThan(0);
  await expect(page.getByTestId('search-diff').locator('tbody tr')).toHaveCount(result.qtable.layers.length);
  await page.screenshot({ path: 'test-results/search-result.png' });

  await page.getByTestId('search-apply').click();
  await expect.poll(() => qtableEntries(page)).toEqual([...result.qtable.layers].sort());
  await expect(page.getByTestId('search-apply')).toHaveText('Applied');
  await idle(page);
  // the applied QTable's output cosine is the one the search reported
  await expect.poll(async () => Number(await page.getByTestId('output-cos').getAttribute('data-value')).toFixed(5))
    .toBe(Number(await page.getByTestId('compare-result-cos').textContent()).toFixed(5));
  await page.keyboard.press('Control+z');
  await expect.poll(() => qtableEntries(page)).toEqual(before);

  // The Pareto view: every configuration scored; a click applies it.
  const points = page.getByTestId('pareto-point');
  await expect(points).toHaveCount(await store(page, (s) => s.visited.length));
  const last = await store(page, (s) => s.visited[s.visited.length - 1]);
  await page.locator(`[data-testid=pareto-point][data-id="${last.id}"]`).click({ force: true });
  await expect.poll(() => qtableEntries(page)).toEqual([...last.qtable.layers].sort());

  // run_sensitive_layer's new cali table: each ranked unit's output keeps its best method
  await page.getByTestId('search-use-best-methods').click();
  await expect.poll(() => store(page, (s) => (s as unknown as { calibration: { overrides: [string, { method: string }][] } }).calibration.overrides.filter(([, o]) => o.method === 'max').length))
    .toBeGreaterThanOrEqual(result.ranking.length);
});

test('cancel stops a search within a moment and leaves the QTable and the page as they were', async ({ page }) => {
  await openDemoWithTwoEvaluationSamples(page);
  await page.getByTestId('search-kind').selectOption('sensitive');
  const before = await qtableEntries(page);
  await page.getByTestId('search-run').click();
  await expect(page.getByTestId('sensitivity-table').locator('tbody tr').first()).toBeVisible({ timeout: 120_000 });
  await page.getByTestId('search-cancel').click();
  await expect.poll(() => store(page, (s) => Object.values(s.jobs).some((j) => j.label.startsWith('Search'))), { timeout: 10_000 }).toBe(false);
  expect(await qtableEntries(page)).toEqual(before);
  expect(await store(page, (s) => s.searchResult)).toBeNull();
  await expect(page.getByTestId('search-run')).toBeEnabled();
  await expect(page.getByTestId('search-stopped')).toBeVisible();
  // still usable: an edit is evaluated
  await expectAnEditEvaluated(page);
});

test('fp_forward from the graph: everything after the selected layer goes float', async ({ page }) => {
  await openDemoWithTwoEvaluationSamples(page);
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('table-filter').fill('p2o.Conv.58');
  await page.locator('[data-testid=table-row][data-layer="p2o.Conv.58"]').click();
  await page.getByTestId('float-after').click();
  await expect(page.getByTestId('search-result')).toBeVisible({ timeout: 120_000 });
  const layers = await store(page, (s) => s.searchResult!.qtable.layers);
  expect(layers.map(([l]) => l)).toContain('p2o.Conv.58');
  expect(layers.every(([, p]) => p === 'FP32')).toBe(true);
  await expect(page.getByTestId('search-diff').locator('tbody tr')).toHaveCount(layers.length);
});
