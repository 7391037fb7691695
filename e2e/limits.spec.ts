import { expect, test } from '@playwright/test';
import { PNG } from 'pngjs';
import { GraphBuilder } from '../test/support/GraphBuilder';

/** The first 33 bytes of a PNG (signature and IHDR) declaring width x height: all the page reads before refusing it. */
function pngHeader(width: number, height: number): Buffer {
  const bytes = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(bytes);
  bytes.writeUInt32BE(13, 8);
  bytes.write('IHDR', 12, 'latin1');
  bytes.writeUInt32BE(width, 16);
  bytes.writeUInt32BE(height, 20);
  bytes.set([8, 6, 0, 0, 0], 24);
  return bytes;
}

/**
 * Issue #12 in the page: a file over a limit is refused with the setting that raises it, the
 * Limits setting raises or lowers it for the next file, and the page keeps what it had.
 */
test('limits: an image over the pixel limit is refused naming the setting; the Limits settings change what the next file may declare', async ({ page }) => {
  await page.goto('/?demo=0');
  const b = new GraphBuilder({ seed: 2 });
  b.output(b.relu(b.conv(b.input('x', [1, 3, 8, 8]), 4, 3)));
  const model = Buffer.from(b.toBytes());
  await page.getByTestId('pick-model').setInputFiles({ name: 'tiny.onnx', mimeType: 'application/octet-stream', buffer: model });
  await expect(page.getByTestId('model-info')).toContainText('tiny.onnx');

  // 20000 x 20000 declared in 33 bytes: refused before the browser decodes it.
  await page.getByTestId('pick-data').setInputFiles({ name: 'wide.png', mimeType: 'image/png', buffer: pngHeader(20000, 20000) });
  await expect(page.getByTestId('message-error').last()).toHaveText(/wide\.png: the PNG header declares 20000 x 20000 pixels \(400,000,000\), over the limit of 67,108,864 pixels per image; raise it with --max_image_pixels N \(CLI\) or Data & calibration → Limits → Pixels per image \(page\)/);

  // Lowered to 64 pixels, a real 16 x 16 PNG is refused; raised again, it reads.
  const png = new PNG({ width: 16, height: 16 });
  png.data.fill(200);
  const real = PNG.sync.write(png);
  await page.getByTestId('tab-data').click();
  await page.getByTestId('limits').locator('summary').click();
  await page.getByTestId('limit-imagePixels').fill('64');
  await page.getByTestId('limits-apply').click();
  await page.getByTestId('pick-data').setInputFiles({ name: 'real.png', mimeType: 'image/png', buffer: real });
  await expect(page.getByTestId('message-error').last()).toContainText('real.png: the PNG header declares 16 x 16 pixels (256), over the limit of 64 pixels per image');
  await page.getByTestId('limit-imagePixels').fill('1M');
  await page.getByTestId('limits-apply').click();
  await page.getByTestId('pick-data').setInputFiles({ name: 'real.png', mimeType: 'image/png', buffer: real });
  await expect(page.getByTestId('dataset-summary')).toHaveText('1 samples from real.png');

  // A model over the model limit is refused from its size; the open model stays.
  await page.getByTestId('limit-modelBytes').fill('100');
  await page.getByTestId('limits-apply').click();
  await page.getByTestId('pick-model').setInputFiles({ name: 'again.onnx', mimeType: 'application/octet-stream', buffer: model });
  await expect(page.getByTestId('message-error').last()).toContainText(/again\.onnx: the model file's size \([\d,]+\), over the limit of 100 bytes per model; raise it with --max_model_bytes N \(CLI\) or Data & calibration → Limits → Model bytes \(page\)/);
  await expect(page.getByTestId('model-info')).toContainText('tiny.onnx');
});
