import { expect, test, type Page } from '@playwright/test';

/**
 * Issue #3 item 7 in a real browser on the demo model: correction toggles run in the worker, show
 * what they did and their measured effect on the output cosine; BN folding redraws the graph.
 */

/** BatchNormalization nodes in the graph the page holds (the worker's current model). */
const batchNorms = (page: Page) =>
  page.evaluate(() => (window as unknown as { qbenchState: () => { model: { graph: { nodes: { opType: string }[] } } } }).qbenchState().model.graph.nodes.filter((n) => n.opType === 'BatchNormalization').length);

test('fold BatchNorm and bias correction: the graph and the output cosine follow, and folding comes back off', async ({ page }) => {
  await page.goto('/');
  const cos = page.getByTestId('output-cos');
  await expect(cos).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 150_000 });
  expect(await batchNorms(page)).toBe(3);
  await expect(page.locator('[data-testid=graph-node][data-layer^="p2o.BatchNormalization"]')).toHaveCount(3, { timeout: 60_000 });

  await page.getByTestId('tab-data').click();
  await page.getByTestId('correction-foldBatchNorm').check();
  const foldEffect = page.getByTestId('correction-effect-foldBatchNorm');
  await expect(foldEffect).toContainText(/^2 folded · cos 0\.\d{4} → 0\.\d{4} [+−]0\.\d{4}$/, { timeout: 120_000 });
  expect(await batchNorms(page)).toBe(1);
  // The graph is laid out again: the folded BatchNorms are gone from the drawing.
  await expect(page.locator('[data-testid=graph-node][data-layer^="p2o.BatchNormalization"]')).toHaveCount(1, { timeout: 60_000 });
  const after = Number(/→ (0\.\d{4})/.exec((await foldEffect.textContent())!)![1]);
  await expect.poll(async () => Number(await cos.getAttribute('data-value')).toFixed(4), { timeout: 60_000 }).toBe(after.toFixed(4));
  await expect(page.getByTestId('corrections-skipped')).toContainText('1 left alone');

  await page.getByTestId('correction-biasCorrection').check();
  const biasEffect = page.getByTestId('correction-effect-biasCorrection');
  await expect(biasEffect).toContainText(/^(\d+ convs?, (kept|reverted \(would give 0\.\d{4}\))|no layer below 0\.99) · cos 0\.\d{4} → 0\.\d{4}/, { timeout: 180_000 });
  const text = (await biasEffect.textContent())!;
  // Reverted means the similarity did not move; kept means it did not drop.
  const [, before, afterBias] = /cos (0\.\d{4}) → (0\.\d{4})/.exec(text)!;
  if (text.includes('reverted')) expect(afterBias).toBe(before);
  else expect(Number(afterBias)).toBeGreaterThanOrEqual(Number(before));

  await page.getByTestId('correction-foldBatchNorm').uncheck();
  await expect(foldEffect).toContainText(/^switched off: cos 0\.\d{4} → 0\.\d{4}/, { timeout: 120_000 });
  expect(await batchNorms(page)).toBe(3);
  await expect(page.locator('[data-testid=graph-node][data-layer^="p2o.BatchNormalization"]')).toHaveCount(3, { timeout: 60_000 });
  await expect(page.getByTestId('correction-biasCorrection')).toBeChecked();
  await page.screenshot({ path: 'test-results/corrections.png' });
});
