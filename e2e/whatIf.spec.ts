import { expect, test, type Page } from '@playwright/test';

/**
 * Issue #15 in the page: an edit first shows a figure from the first samples, marked as such, then
 * the full figure; the incremental what-if (only what the edit changed runs, on the pool) gives the
 * same figures as running the whole model for every edit (?what_if=whole, the old way).
 */

interface Figures {
  readonly cos: number;
  readonly firstFigureMs: number | null;
  readonly preliminarySeen: boolean;
  /** Each layer's accumulated cosine in the heatmap. */
  readonly layers: Record<string, number>;
}

async function demoReady(page: Page, query: string): Promise<void> {
  await page.goto(`/?session=0&evaluation_samples=6${query}`);
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 150_000 });
  await page.waitForFunction(() => Object.keys((globalThis as unknown as { qbenchState: () => { jobs: object } }).qbenchState().jobs).length === 0, undefined, { timeout: 180_000 });
}

/** Sets the layer's precision in the inspector and waits for the full figure and the heatmap. */
async function edit(page: Page, layer: string, precision: string): Promise<Figures> {
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('table-filter').fill(layer);
  await page.locator(`[data-testid=table-row][data-layer="${layer}"]`).click();
  return answered(page, () => page.getByTestId(`precision-${precision}`).click());
}

/** Does `act` (an edit, an undo) and waits for the full figure and the heatmap it brings, watching the header for the preliminary mark meanwhile. */
async function answered(page: Page, act: () => Promise<void>): Promise<Figures> {
  const before = await page.evaluate(() => (globalThis as unknown as { qbenchState: () => { lastEditToLayersMs: number | null } }).qbenchState().lastEditToLayersMs);
  await page.evaluate(() => {
    const w = globalThis as unknown as { preliminarySeen: boolean; qbenchState: () => { preliminaryEvaluation: unknown } };
    w.preliminarySeen = false;
    const watch = () => {
      if (document.querySelector('[data-testid=output-cos][data-preliminary]') && document.querySelector('[data-testid=output-status]')?.textContent?.includes('first 2 of 6')) w.preliminarySeen = true;
      if (!w.preliminarySeen) requestAnimationFrame(watch);
    };
    requestAnimationFrame(watch);
  });
  await act();
  await page.waitForFunction((previous) => {
    const s = (globalThis as unknown as { qbenchState: () => { lastEditToLayersMs: number | null; editStartedAt: number | null; jobs: object } }).qbenchState();
    return s.lastEditToLayersMs !== previous && s.editStartedAt === null && Object.keys(s.jobs).length === 0;
  }, before, { timeout: 180_000 });
  return page.evaluate(() => {
    const w = globalThis as unknown as { preliminarySeen: boolean; qbenchState: () => { outputEvaluation: { output: { cos: number } }; layerEvaluation: { layers: { layer: string; cos: number }[] }; lastEditToFirstFigureMs: number | null; preliminaryEvaluation: unknown } };
    const s = w.qbenchState();
    return { cos: s.outputEvaluation.output.cos, firstFigureMs: s.lastEditToFirstFigureMs, preliminarySeen: w.preliminarySeen, layers: Object.fromEntries(s.layerEvaluation.layers.map((l) => [l.layer, l.cos])) };
  });
}

test('an edit answers with a first figure from 2 samples, then the full one; figures and heatmap equal running the whole model; an undo answers from memory', async ({ page, browser }) => {
  test.setTimeout(420_000);
  const steps: [string, string][] = [['p2o.Conv.17', 'FP32'], ['p2o.Conv.17', 'FP16']];
  await demoReady(page, '');
  // Once the figures are in, the tensors calibration left out are observed in the background, ahead of the edit that un-fuses one.
  expect(await page.evaluate(() => { const s = (globalThis as unknown as { qbenchState: () => { calibration: unknown; leftOutObservedFor: unknown } }).qbenchState(); return s.calibration !== null && s.leftOutObservedFor === s.calibration; })).toBe(true);
  const incremental: Figures[] = [];
  for (const [layer, precision] of steps) incremental.push(await edit(page, layer, precision));
  for (const figures of incremental) {
    expect(figures.firstFigureMs).not.toBeNull();
    expect(figures.preliminarySeen).toBe(true);
  }
  // No stale figure after the last edit: the header shows the full one, unmarked.
  await expect(page.getByTestId('output-status')).toHaveCount(0);
  // Undo (back to FP32): a QTable evaluated before answers from memory, at once and whole (no
  // first figure), with the very figures and heatmap it had.
  const undone = await answered(page, () => page.keyboard.press('Control+z'));
  expect(undone.preliminarySeen).toBe(false);
  expect(undone.firstFigureMs).toBeNull();
  expect(undone.cos).toBe(incremental[0].cos);
  expect(undone.layers).toEqual(incremental[0].layers);

  const whole = await browser.newPage();
  try {
    await demoReady(whole, '&what_if=whole');
    for (const [k, [layer, precision]] of steps.entries()) {
      const reference = await edit(whole, layer, precision);
      expect(Math.abs(incremental[k].cos - reference.cos), `${layer} -> ${precision}`).toBeLessThanOrEqual(1e-6);
      // The heatmap, measured on the pool from the kept boundary, against the whole probe model.
      expect(Object.keys(incremental[k].layers).length).toBe(Object.keys(reference.layers).length);
      for (const [name, cos] of Object.entries(reference.layers)) expect(Math.abs(incremental[k].layers[name] - cos), `${layer} -> ${precision}: ${name}`).toBeLessThanOrEqual(1e-6);
    }
  } finally {
    await whole.close();
  }
});
