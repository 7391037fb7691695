import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { formatNpy } from '../src/core/io/dataset/npy';
import { GraphBuilder, randomSamples } from '../test/support/GraphBuilder';

const SCRATCH = join(fileURLToPath(new URL('..', import.meta.url)), 'scratch');
const CLASSES = ['cat', 'dog', 'fish'];

/** x [1, 8] -> Gemm "fc" -> 3 logits: a classifier. */
function classifier(): Uint8Array {
  const b = new GraphBuilder({ seed: 4 });
  const x = b.input('x', [1, 8]);
  const logits = b.node('Gemm', [x, b.weight([3, 8], 1), b.weight([3], 0.1)], { transB: 1 }, 1, [1, 3], 'fc')[0];
  b.output(logits);
  return b.toBytes();
}

/**
 * Issue #11 on the page: a folder of class folders picked as data gives its folder names as the
 * labels and as class names in the outputs viewer; a class-names file names the classes instead;
 * a layer's measured float gain comes with the task figure (top-1 agreement) in the inspector and
 * the layer table.
 */
test('class folders as labels and class names; the float gain in top-1 agreement', async ({ page }) => {
  const root = join(SCRATCH, 'class-folders', 'pets');
  rmSync(join(SCRATCH, 'class-folders'), { recursive: true, force: true });
  const samples = randomSamples('x', [1, 8], 9, 11);
  CLASSES.forEach((name, c) => {
    mkdirSync(join(root, name), { recursive: true });
    for (let k = 0; k < 3; k++) writeFileSync(join(root, name, `s${k}.npy`), formatNpy(samples[3 * c + k].x));
  });

  await page.goto('/?demo=0');
  await page.getByTestId('pick-model-empty').setInputFiles({ name: 'classifier.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(classifier()) });
  await expect(page.getByTestId('output-similarity')).toBeVisible();
  await page.getByTestId('tab-data').click();
  await page.getByTestId('pick-data-folder').setInputFiles(root);
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /\d/, { timeout: 60_000 });
  await expect(page.getByTestId('dataset-summary')).toContainText('9');

  // the samples sit in class folders: their names become the labels, and the accuracy shows
  await expect(page.getByTestId('folder-labels-note')).toContainText('3 class folders');
  await page.getByTestId('folder-labels').click();
  await expect(page.getByTestId('folder-labels-note')).toContainText("the samples' 3 class folders are the labels");
  await expect(page.getByTestId('output-task-figures')).toContainText('accuracy', { timeout: 60_000 });

  // the viewer names the classes by their folders, beside the indices
  await page.getByTestId('tab-outputs').click();
  const floatTop = page.getByTestId('top-float').getByTestId('top-row');
  await expect(floatTop).toHaveCount(3, { timeout: 60_000 });
  const shown = await floatTop.locator('td:nth-child(2)').allTextContents();
  expect(shown.sort()).toEqual(['#0 cat', '#1 dog', '#2 fish']);
  await expect(page.getByTestId('sample-name')).toHaveText('pets/cat/s0.npy');

  // a class-names file names them instead
  await page.getByTestId('tab-data').click();
  await page.getByTestId('class-names-file').setInputFiles({ name: 'names.txt', mimeType: 'text/plain', buffer: Buffer.from('tabby\nbeagle\ngoldfish\n') });
  await expect(page.getByTestId('class-names-note')).toContainText('3 from names.txt');
  await page.getByTestId('tab-outputs').click();
  await expect.poll(async () => (await floatTop.locator('td:nth-child(2)').allTextContents()).sort(), { timeout: 60_000 }).toEqual(['#0 tabby', '#1 beagle', '#2 goldfish']);
  await page.screenshot({ path: join(SCRATCH, 'class-names.png') });

  // the float gain of the Gemm, measured: the task figure now and at FP32, in the inspector and the table
  await page.getByTestId('tab-layers').click();
  const row = page.locator('[data-testid=table-row][data-layer="fc"]');
  await row.click();
  await page.getByTestId('measure-float-gain').click();
  const taskGain = page.getByTestId('layer-task-gain');
  await expect(taskGain).toContainText(/top-1 agreement \d+\.\d % now, \d+\.\d % with this layer alone at FP32/, { timeout: 60_000 });
  await expect(row.getByTestId('row-task-gain')).toHaveText(/^\d+\.\d % \([+±−]\d+\.\d\)$/);
  await page.screenshot({ path: join(SCRATCH, 'float-gain-task.png') });
});
