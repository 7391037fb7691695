import { expect, test } from '@playwright/test';
import { formatNpy } from '../src/core/io/dataset/npy';
import { GraphBuilder } from '../test/support/GraphBuilder';

// WebGPU exists here only through SwiftShader (no --disable-gpu, ANGLE on SwiftShader): correct but
// slow, so this runs a small model. It proves the engine choice reaches onnxruntime-web's WebGPU build.
test.use({
  launchOptions: {
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--use-angle=swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  },
});

test('WebGPU is selectable when an adapter exists, and calibrates and evaluates a model', async ({ page }) => {
  await page.goto('/?demo=0');
  const option = page.locator('[data-testid=engine-select] option[value=webgpu]');
  await expect(option).toBeEnabled();
  await page.getByTestId('engine-select').selectOption('webgpu');

  const b = new GraphBuilder({ seed: 2 });
  let x = b.input('x', [1, 3, 16, 16]);
  x = b.relu(b.conv(x, 8, 3));
  b.output(b.conv(x, 4, 3));
  const npy = formatNpy({ dtype: 'float32', dims: [4, 3, 16, 16], data: Float32Array.from({ length: 4 * 768 }, (_, i) => Math.sin(i * 0.37)) });
  await page.getByTestId('pick-model-empty').setInputFiles({ name: 'tiny.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(b.toBytes()) });
  await page.getByTestId('pick-data').setInputFiles({ name: 'batch.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(npy) });
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.99\d+/, { timeout: 120_000 });
  const engine = await page.evaluate(() => (globalThis as unknown as { qbenchState: () => { model: { engine: string } } }).qbenchState().model.engine);
  expect(engine).toBe('ort-web-webgpu');
});
