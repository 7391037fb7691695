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
