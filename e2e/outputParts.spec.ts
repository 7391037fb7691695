import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { formatNpy } from '../src/core/io/dataset/npy';
import { randomSamples } from '../test/support/GraphBuilder';
import { yoloHead } from '../test/support/yoloHead';

const SCRATCH = join(fileURLToPath(new URL('..', import.meta.url)), 'scratch');

/**
 * Issue #11: a detector whose one output joins box coordinates and class probabilities by a Concat.
 * All-INT8, the whole output scores 0.9999 while every probability rounds to 0: the header shows the
 * worst part, named, a red warning names the Concat, and its one-click fix brings the part back.
 */
test('a Concat of boxes and probabilities: the header shows the lost part, a warning names the Concat, one click fixes it', async ({ page }) => {
  await page.goto('/?demo=0');
  await page.getByTestId('pick-model-empty').setInputFiles({ name: 'yolo_head.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(yoloHead()) });
  await expect(page.getByTestId('output-similarity')).toBeVisible();
  const samples = randomSamples('x', [1, 16, 64], 4, 3).map((s) => ({ ...s.x, data: s.x.data.map((v) => Math.abs(v) * 4) }));
  await page.getByTestId('pick-data').setInputFiles(samples.map((t, i) => ({ name: `s${i}.npy`, mimeType: 'application/octet-stream', buffer: Buffer.from(formatNpy(t)) })));

  const cos = page.getByTestId('output-cos');
  await expect(cos).toHaveAttribute('data-value', /^(0(\.\d+)?|\d\.\d+e-\d+)$/, { timeout: 60_000 });
  expect(Number(await cos.getAttribute('data-value'))).toBeLessThan(0.5); // the probabilities, not the 0.9999 of the whole
  await expect(page.getByTestId('output-worst')).toContainText('part');
  // the lost part, and the detector's task figure off a cliff: both name the Concat
  const warning = page.getByTestId('evaluation-warning');
  await expect(warning).toHaveCount(2);
  await expect(warning.first()).toHaveAttribute('data-kind', 'collapsed-part');
  await expect(warning.nth(1)).toHaveAttribute('data-kind', 'task-cliff');
  await expect(warning.nth(1)).toHaveAttribute('data-layer', 'detections');
  // the header says it in the task's terms: a detector that finds (almost) nothing
  const task = page.getByTestId('output-task');
  await expect(task).toHaveAttribute('data-task', 'detector');
  expect(Number(await task.getAttribute('data-value'))).toBeLessThan(0.1);
  await expect(task).toHaveClass(/failing/);
  // the warning is on the layer too: the graph's badge and the table's row
  await expect(page.locator('g.qg-badge.is-warning[data-layer="detections"]')).toHaveCount(1);
  await expect(page.locator('[data-testid="table-row"][data-layer="detections"] [data-testid="row-warning"]')).toHaveCount(1);
  mkdirSync(SCRATCH, { recursive: true });
  await page.screenshot({ path: join(SCRATCH, 'output-parts.png') });

  await page.getByTestId('fix-keep-float').first().click();
  await expect.poll(async () => Number(await cos.getAttribute('data-value')), { timeout: 60_000 }).toBeGreaterThan(0.99);
  await expect(page.getByTestId('evaluation-warning')).toHaveCount(0);
  await expect.poll(async () => Number(await task.getAttribute('data-value')), { timeout: 60_000 }).toBeGreaterThan(0.9);

  // the task menu: scored as 'other', the header drops the task figure; back to detector, it returns
  await page.getByTestId('tab-data').click();
  const select = page.getByTestId('output-task-select');
  await expect(select).toHaveValue('detector');
  await select.selectOption('other');
  await expect(page.getByTestId('output-task')).toHaveCount(0, { timeout: 60_000 });
  await select.selectOption('detector');
  await expect(page.getByTestId('output-task')).toHaveAttribute('data-task', 'detector', { timeout: 60_000 });
  await expect(page.getByTestId('output-task-figures')).toContainText('detection F1');
});
