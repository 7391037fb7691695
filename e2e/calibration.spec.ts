import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { nodeImageDecoder } from '../cli/nodeImageDecoder';
import { parseCaliTable } from '../src/core/io/caliTable';
import { loadDataset } from '../src/core/io/dataset/loadDataset';
import { readOnnx } from '../src/core/io/onnx/OnnxModel';
import { DEMO_PREPROCESS } from '../src/demo/preprocess';
import { REAL_MODELS, DEMO_IMAGE_DIR } from '../test/support/models';
import { writeOneH5 } from '../test/support/oneH5';

/**
 * Issue #3 in a real browser: an .h5 dataset in ONE's layout dropped on the demo model, KL
 * calibration, the histogram with every method's threshold, search_threshold, and the exports.
 */
test('h5 dataset -> KL -> histogram with thresholds -> search_threshold -> cali_table and ONE config', async ({ page }) => {
  const model = readOnnx(REAL_MODELS.ppocrDet(), 'det.onnx');
  const images = readdirSync(DEMO_IMAGE_DIR).slice(0, 6).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
  const dataset = await loadDataset(images, model.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder);
  const h5 = await writeOneH5(dataset.samples, ['x']);

  await page.goto('/');
  const cos = page.getByTestId('output-cos');
  await expect(cos).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 150_000 });
  await page.getByTestId('pick-data').setInputFiles({ name: 'demo_calibration.h5', mimeType: 'application/x-hdf5', buffer: Buffer.from(h5) });
  await page.getByTestId('tab-data').click();
  await expect(page.getByTestId('dataset-summary')).toHaveText('6 samples from demo_calibration.h5', { timeout: 60_000 });
  await expect(cos).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 60_000 });
  const withMax = Number(await cos.getAttribute('data-value'));

  await page.getByTestId('cali-method').selectOption('kl');
  await expect.poll(async () => Number(await cos.getAttribute('data-value')), { timeout: 60_000 }).not.toBe(withMax);

  await page.getByTestId('tab-layers').click();
  await page.getByTestId('table-filter').fill('p2o.Conv.2');
  await page.locator('[data-testid=table-row][data-layer="p2o.Conv.2"]').click();
  const histogram = page.getByTestId('activation-histogram');
  await expect(histogram).toBeVisible({ timeout: 60_000 });
  await expect(histogram.getByTestId('threshold-mark')).toHaveCount(9);
  await expect(histogram.locator('[data-testid=threshold-mark].chosen')).toHaveAttribute('data-method', 'kl');
  // Picking another method for this tensor alone, on the histogram.
  await page.locator('[data-testid=threshold-chip][data-method=percentile9999]').click();
  await expect(page.getByTestId('tensor-method')).toHaveValue('percentile9999');
  await expect(histogram.locator('[data-testid=threshold-mark].chosen')).toHaveAttribute('data-method', 'percentile9999');
  await page.screenshot({ path: 'test-results/histogram.png' });
  await page.getByTestId('precision-INT16').click();

  await page.getByTestId('tab-data').click();
  await page.getByTestId('search-threshold').click();
  const table = page.getByTestId('threshold-search-table');
  await expect(table.locator('tbody tr')).toHaveCount(9, { timeout: 120_000 });
  await expect(table.locator('tr.best')).toHaveCount(1);

  await page.getByTestId('tab-export').click();
  const caliDownload = page.waitForEvent('download');
  await page.getByTestId('export-cali_table').click();
  const caliText = readFileSync(await (await caliDownload).path(), 'utf8');
  expect(caliText).toContain('# histogram number: 2048');
  expect(caliText).toContain('# sample number: 6');
  const parsed = parseCaliTable(caliText, 'cali_table', model.graph.nodes);
  expect(parsed.unknownTensors).toEqual([]);
  expect(parsed.table.entries.size).toBe(293); // every tensor that gets a quantizer: 331 float activations less 38 fused into their activation
  expect(caliText).toMatch(/\n\S+_Conv \d+\.\d{7} -?\d+\.\d{7} -?\d+\.\d{7}\n/);

  const oneDownload = page.waitForEvent('download');
  await page.getByTestId('export-one_config').click();
  const one = JSON.parse(readFileSync(await (await oneDownload).path(), 'utf8'));
  expect(one.default_quantization_dtype).toBe('uint8');
  const conv2Output = model.graph.nodes.find((n) => n.name === 'p2o.Conv.2')!.outputs[0];
  expect(one.layers).toEqual([{ name: conv2Output, dtype: 'int16', granularity: 'channel' }]);
});
