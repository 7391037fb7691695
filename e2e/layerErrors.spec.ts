import { expect, test, type Page } from '@playwright/test';
import { openDemoOnSamples } from './support';

/**
 * Issue #11 item 5 in a real browser on the demo model (PP-OCRv4 det): the layer table shows each
 * layer's local error beside its accumulated one, the heatmap switches to the local cosine, the
 * legend's range stays the same across an edit (and a layer upstream of the edit keeps its colour),
 * Fit and Pin, and a float gain measured from the inspector. Evaluations use 2 samples.
 */

interface StoreView {
  jobs: Record<string, { kind: string }>;
  calibration: { evaluationSampleCount: number } | null;
  layerEvaluation: { qtable: { layers: [string, string][] }; local?: Record<string, { cos: number }> } | null;
}

const store = <T>(page: Page, pick: (s: StoreView) => T) =>
  page.evaluate(`(${pick.toString()})(globalThis.qbenchState())`) as Promise<T>;
const idle = (page: Page) => page.waitForFunction(() => Object.keys((globalThis as unknown as { qbenchState: () => StoreView }).qbenchState().jobs).length === 0, undefined, { timeout: 180_000 });
const fillOf = (page: Page, layer: string) => page.locator(`[data-testid=graph-node][data-layer="${layer}"] rect`).evaluate((r) => (r as SVGElement).style.fill);
const legend = (page: Page) => page.getByTestId('heat-legend');
/** The local errors of the QTable whose p2o.Conv.17 is at `conv17` (null: the default) have arrived (they follow the accumulated ones). */
const localErrorsArrived = (page: Page, conv17: string | null) =>
  expect.poll(() => store(page, (s) => (s.layerEvaluation?.local ? (s.layerEvaluation.qtable.layers.find(([l]) => l === 'p2o.Conv.17')?.[1] ?? null) : 'none')), { timeout: 180_000 }).toBe(conv17);

test('local errors beside accumulated ones, heatmap modes, a legend that holds across an edit, Fit and Pin, a measured float gain', async ({ page }) => {
  await openDemoOnSamples(page, 2);
  await page.getByTestId('tab-layers').click();

  // The table: a local cosine beside the accumulated one, for every quantized layer.
  await localErrorsArrived(page, null);
  await page.getByTestId('table-filter').fill('p2o.Conv.3');
  const row = page.locator('[data-testid=table-row][data-layer="p2o.Conv.3"]');
  await expect(row.getByTestId('row-local')).toHaveText(/^0\.\d{6}$/);
  const local = await store(page, (s) => s.layerEvaluation!.local!['p2o.Conv.3'].cos);
  await expect(row.getByTestId('row-local')).toHaveText(local.toFixed(6));
  await row.click();
  await expect(page.getByTestId('layer-cos')).toHaveText(/^0\.\d{6}$/);
  await expect(page.getByTestId('layer-local-cos')).toHaveText(local.toFixed(6));

  // The heatmap's modes: accumulated cosine (a fixed range), then the local cosine.
  await expect(page.getByTestId('metric-cos')).toHaveAttribute('aria-checked', 'true');
  await expect(legend(page)).toHaveAttribute('data-range', 'fixed');
  await expect(legend(page)).toContainText('accumulated');
  const cosDomain = await legend(page).getAttribute('data-domain');
  const upstream = await fillOf(page, 'p2o.Conv.0');
  await page.getByTestId('metric-local').click();
  await expect(legend(page)).toContainText('Local cosine');
  await expect(legend(page)).toHaveAttribute('data-domain', cosDomain!); // the same cosine range, local or accumulated
  await page.screenshot({ path: 'test-results/layer-errors-local.png' });
  const localFills = await page.$$eval('[data-testid=graph-node] rect', (rects) => new Set(rects.map((r) => (r as SVGElement).style.fill).filter(Boolean)).size);
  expect(localFills).toBeGreaterThan(5);
  for (const metric of ['sqnr', 'mse']) {
    await page.getByTestId(`metric-${metric}`).click();
    await expect(legend(page)).toHaveAttribute('data-range', 'fixed');
  }
  await page.getByTestId('metric-cos').click();

  // An edit downstream: the legend keeps its range and a layer upstream keeps its colour.
  await page.getByTestId('table-filter').fill('p2o.Conv.17');
  await page.locator('[data-testid=table-row][data-layer="p2o.Conv.17"]').click();
  await page.getByTestId('precision-FP32').click();
  await localErrorsArrived(page, 'FP32');
  await expect(legend(page)).toHaveAttribute('data-domain', cosDomain!);
  expect(await fillOf(page, 'p2o.Conv.0')).toBe(upstream);
  // A float layer has nothing of its own quantized: no local error.
  await expect(page.locator('[data-testid=table-row][data-layer="p2o.Conv.17"] [data-testid=row-local]')).toHaveText('—');

  // Fit to the layers on screen, then pin: the pinned range holds across the next edit (Undo).
  await page.getByTestId('heat-fit').click();
  await expect(legend(page)).toHaveAttribute('data-range', 'fitted');
  const fitted = await legend(page).getAttribute('data-domain');
  expect(fitted).not.toBe(cosDomain);
  await page.getByTestId('heat-pin').click();
  await expect(legend(page)).toHaveAttribute('data-range', 'pinned');
  await page.keyboard.press('Control+z');
  await localErrorsArrived(page, null);
  await expect(legend(page)).toHaveAttribute('data-domain', fitted!);
  await page.getByTestId('heat-pin').click();
  await page.getByTestId('heat-fit').click();
  await expect(legend(page)).toHaveAttribute('data-domain', cosDomain!);

  // The float gain of the layer with the worst local error, measured in the worker from the inspector.
  await idle(page);
  await page.getByTestId('table-filter').fill('p2o.Conv.3');
  await page.locator('[data-testid=table-row][data-layer="p2o.Conv.3"]').click();
  await expect(page.getByTestId('layer-float-gain')).toHaveText('—');
  await page.getByTestId('measure-float-gain').click();
  await expect(page.getByTestId('layer-float-gain')).toHaveText(/^[+-]?\d\.\d{2}e[+-]\d+$/, { timeout: 120_000 });
  await expect(page.locator('[data-testid=table-row][data-layer="p2o.Conv.3"] [data-testid=row-gain]')).toHaveText(await page.getByTestId('layer-float-gain').textContent() ?? '');
  await page.getByTestId('metric-sensitivity').click();
  await expect(legend(page)).toContainText('Float gain');
  await expect(legend(page)).toHaveAttribute('data-range', 'fixed');
  await page.screenshot({ path: 'test-results/layer-errors.png' });
});

test('a layer output fused into its activation says that its range, method or threshold changes no figure, until the two run at different precisions', async ({ page }) => {
  await openDemoOnSamples(page, 2);
  await page.getByTestId('tab-layers').click();
  // The demo's first Conv feeds only its BatchNormalization: fused, no quantizer between them.
  await page.getByTestId('table-filter').fill('p2o.Conv.0');
  await page.locator('[data-testid=table-row][data-layer="p2o.Conv.0"]').click();
  const note = page.getByTestId('unquantized-note');
  await expect(note).toBeVisible({ timeout: 60_000 });
  await expect(note).toContainText('p2o.BatchNormalization.0');
  await note.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/unquantized-note.png' });
  // A layer whose output is quantized has no such note.
  await page.getByTestId('table-filter').fill('p2o.Conv.17');
  await page.locator('[data-testid=table-row][data-layer="p2o.Conv.17"]').click();
  await expect(page.getByTestId('layer-calibration')).toBeVisible({ timeout: 60_000 });
  await expect(note).toHaveCount(0);
  // The BatchNormalization at FP32: the Conv's output gets its own quantizer, and the note goes.
  await page.getByTestId('table-filter').fill('p2o.BatchNormalization.0');
  await page.locator('[data-testid=table-row][data-layer="p2o.BatchNormalization.0"]').click();
  await page.getByTestId('precision-FP32').click();
  await idle(page);
  await page.getByTestId('table-filter').fill('p2o.Conv.0');
  await page.locator('[data-testid=table-row][data-layer="p2o.Conv.0"]').click();
  await expect(page.getByTestId('layer-calibration')).toBeVisible({ timeout: 60_000 });
  await expect(note).toHaveCount(0);
  // The Conv at FP32 too: its output is made and read by float layers only.
  await page.getByTestId('precision-FP32').click();
  await expect(note).toContainText('float layers only', { timeout: 60_000 });
});
