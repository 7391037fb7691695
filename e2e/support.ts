import { expect, type Page } from '@playwright/test';

/** The page still works: setting the demo's p2o.Conv.17 to FP32 in the layer table gets evaluated (the output cos moves). */
export async function expectAnEditEvaluated(page: Page): Promise<void> {
  const cos = Number(await page.getByTestId('output-cos').getAttribute('data-value'));
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('table-filter').fill('p2o.Conv.17');
  await page.locator('[data-testid=table-row][data-layer="p2o.Conv.17"]').click();
  await page.getByTestId('precision-FP32').click();
  await expect.poll(async () => Number(await page.getByTestId('output-cos').getAttribute('data-value')), { timeout: 60_000 }).not.toBe(cos);
}

/**
 * The demo (with `query`, e.g. `?fault=...`) evaluated on `samples` samples only (fast edits:
 * `?evaluation_samples=N` sets it before the demo's data arrives), calibrated, and the page idle.
 */
export async function openDemoOnSamples(page: Page, samples: number, query = ''): Promise<void> {
  await page.goto(`/${query ? `${query}&` : '?'}evaluation_samples=${samples}`);
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 150_000 });
  await expect.poll(() => page.evaluate('globalThis.qbenchState().calibration?.evaluationSampleCount'), { timeout: 60_000 }).toBe(samples);
  await page.waitForFunction(() => Object.keys((globalThis as unknown as { qbenchState: () => { jobs: object } }).qbenchState().jobs).length === 0, undefined, { timeout: 180_000 });
}
