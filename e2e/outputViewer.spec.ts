import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { formatNpy } from '../src/core/io/dataset/npy';
import { randomSamples } from '../test/support/GraphBuilder';
import { yoloHead } from '../test/support/yoloHead';
import { expectAnEditEvaluated } from './support';

const SCRATCH = join(fileURLToPath(new URL('..', import.meta.url)), 'scratch');

/**
 * Issue #11, "see the outputs": the Outputs tab shows one evaluation sample through the float and
 * the quantized model side by side, computed in the worker and drawn by the page.
 */
test('demo: the text map in float and quantized with their difference, sample by sample, following an edit', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 150_000 });
  await page.getByTestId('tab-outputs').click();

  const view = page.getByTestId('output-view');
  await expect(view).toHaveCount(1, { timeout: 60_000 });
  await expect(view).toHaveAttribute('data-task', 'dense');
  await expect(page.getByTestId('input-thumbnail').locator('canvas')).toBeVisible();
  for (const side of ['float', 'quantized', 'difference']) await expect(view.getByTestId(`pane-${side}`).locator('canvas')).toBeVisible();
  const number = async (testId: string) => Number(await page.getByTestId(testId).getAttribute('data-value'));
  expect(await number('dense-float-on')).toBeGreaterThan(0); // text pixels above 0.5
  expect(await number('dense-quantized-on')).toBeGreaterThan(0);
  expect(await number('dense-max-difference')).toBeGreaterThan(0);
  const iou = await number('dense-iou');
  expect(iou).toBeGreaterThan(0);
  expect(iou).toBeLessThanOrEqual(1);
  const cos = await number('sample-cos');
  expect(cos).toBeGreaterThan(0.5);
  expect(cos).toBeLessThan(1);
  // the canvases hold pictures, not blanks
  const colours = await view.getByTestId('pane-float').locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < data.length; i += 4 * 97) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    return seen.size;
  });
  expect(colours).toBeGreaterThan(10);
  await expect(page.getByTestId('sample-index')).toHaveText('/ 12');
  await expect(page.getByTestId('sample-input')).toHaveValue('1');
  await expect(page.getByTestId('output-viewer')).toHaveAttribute('aria-busy', 'false');
  mkdirSync(SCRATCH, { recursive: true });
  await page.screenshot({ path: join(SCRATCH, 'output-viewer-demo.png') });

  // the next sample: another image, other figures
  const name = await page.getByTestId('sample-name').textContent();
  await page.getByTestId('sample-next').click();
  await expect(page.getByTestId('sample-input')).toHaveValue('2');
  await expect(page.getByTestId('sample-name')).not.toHaveText(name!);
  await expect(page.getByTestId('output-viewer')).toHaveAttribute('aria-busy', 'false');
  expect(await number('sample-cos')).not.toBe(cos);
  await page.getByTestId('sample-prev').click();
  await expect(page.getByTestId('sample-input')).toHaveValue('1');
  await expect(page.getByTestId('output-viewer')).toHaveAttribute('aria-busy', 'false');
  expect(await number('sample-cos')).toBe(cos);
  // or typed: the last one
  await page.getByTestId('sample-input').fill('12');
  await expect(page.getByTestId('sample-index')).toHaveAttribute('data-value', '11');
  await expect(page.getByTestId('sample-next')).toBeDisabled();
  await expect(page.getByTestId('output-viewer')).toHaveAttribute('aria-busy', 'false');
  await page.getByTestId('sample-input').fill('1');
  await expect(page.getByTestId('output-viewer')).toHaveAttribute('aria-busy', 'false');

  // an edit of the QTable: the quantized side follows the new evaluation
  await expectAnEditEvaluated(page);
  await page.getByTestId('tab-outputs').click();
  await expect.poll(() => number('sample-cos'), { timeout: 60_000 }).not.toBe(cos);
});

test('a YOLO-style head: float boxes drawn, the quantized count shown (zero: its probabilities round away)', async ({ page }) => {
  await page.goto('/?demo=0');
  await page.getByTestId('pick-model-empty').setInputFiles({ name: 'yolo_head.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(yoloHead()) });
  await expect(page.getByTestId('output-similarity')).toBeVisible();
  const samples = randomSamples('x', [1, 16, 64], 4, 3).map((s) => ({ ...s.x, data: s.x.data.map((v) => Math.abs(v) * 4) }));
  await page.getByTestId('pick-data').setInputFiles(samples.map((t, i) => ({ name: `s${i}.npy`, mimeType: 'application/octet-stream', buffer: Buffer.from(formatNpy(t)) })));
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /\d/, { timeout: 60_000 });

  await page.getByTestId('tab-outputs').click();
  const view = page.getByTestId('output-view');
  await expect(view).toHaveAttribute('data-task', 'detector', { timeout: 60_000 });
  const floatCount = Number(await view.getByTestId('detections-float-count').getAttribute('data-value'));
  expect(floatCount).toBeGreaterThan(0);
  await expect(view.getByTestId('pane-float').getByTestId('box-float')).toHaveCount(Math.min(floatCount, 100));
  await expect(view.getByTestId('detections-quantized-count')).toHaveAttribute('data-value', '0');
  await expect(view.getByTestId('detections-quantized-count')).toContainText('0');
  await expect(view.getByTestId('pane-quantized').getByTestId('box-quantized')).toHaveCount(0);
  await expect(page.getByTestId('input-thumbnail')).toContainText('not a picture');
  await page.screenshot({ path: join(SCRATCH, 'output-viewer-yolo.png') });

  // keeping the Concat float brings the quantized boxes back
  await page.getByTestId('fix-keep-float').click();
  await expect.poll(async () => Number(await view.getByTestId('detections-quantized-count').getAttribute('data-value')), { timeout: 60_000 }).toBeGreaterThan(0);
  await expect(view.getByTestId('pane-quantized').getByTestId('box-quantized').first()).toBeVisible();
  await page.getByTestId('sample-next').click();
  await expect(page.getByTestId('sample-index')).toHaveAttribute('data-value', '1');
  await expect(page.getByTestId('sample-name')).toHaveText('s1.npy');
});
