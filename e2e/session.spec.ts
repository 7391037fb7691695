import { expect, test, type Page } from '@playwright/test';
import { formatNpy } from '../src/core/io/dataset/npy';
import { GraphBuilder } from '../test/support/GraphBuilder';
import { slowModel } from '../test/support/slowModel';

/**
 * Issue #12 in a real browser: the session survives a reload (IndexedDB and the origin-private file
 * system), a Cancel stops an inference that is running by ending the compute worker and builds the
 * session again in a new one, and the per-inference time limit ends a run that takes too long.
 */

interface StoreView {
  jobs: Record<string, { label: string }>;
  past: unknown[];
  tensorOverrides: [string, { method?: string }][];
}
const store = <T>(page: Page, read: (s: StoreView) => T) => page.evaluate((fn) => new Function('s', `return (${fn})(s)`)((globalThis as unknown as { qbenchState: () => StoreView }).qbenchState()), read.toString()) as Promise<T>;
const idle = (page: Page) => page.waitForFunction(() => Object.keys((globalThis as unknown as { qbenchState: () => StoreView }).qbenchState().jobs).length === 0, undefined, { timeout: 120_000 });

function smallModel() {
  const b = new GraphBuilder({ seed: 6 });
  let x = b.input('x', [1, 3, 8, 8]);
  x = b.relu(b.conv(x, 4, 3, { name: 'first' }));
  b.output(b.conv(x, 4, 3, { name: 'second' }));
  return { name: 'keep.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(b.toBytes()) };
}

const samples = (dims: number[], count: number) => Array.from({ length: count }, (_, k) => ({
  name: `s${k}.npy`, mimeType: 'application/octet-stream',
  buffer: Buffer.from(formatNpy({ dtype: 'float32', dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37 + k)) })),
}));

test('reload mid-session: the model, its data, a precision, a per-tensor method and the undo history come back', async ({ page }) => {
  await page.goto('/?demo=0');
  await page.getByTestId('pick-model-empty').setInputFiles(smallModel());
  await page.getByTestId('pick-data').setInputFiles(samples([1, 3, 8, 8], 3));
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 60_000 });
  await page.locator('[data-testid=graph-node][data-layer="first"]').click();
  await page.getByTestId('precision-FP16').click();
  await expect(page.locator('[data-testid=graph-badge][data-layer="first"]')).toHaveText('FP16');
  await page.locator('[data-testid=graph-node][data-layer="second"]').click();
  await page.getByTestId('tensor-method').selectOption('mse');
  await expect.poll(() => store(page, (s) => s.tensorOverrides.length)).toBe(1);
  await idle(page);
  await page.waitForTimeout(1000); // the save follows a change after 400 ms

  await page.reload();
  await expect(page.getByTestId('message-info').first()).toContainText('Your last session on keep.onnx is back');
  await expect(page.getByTestId('model-info')).toContainText('keep.onnx');
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 60_000 });
  await expect(page.locator('[data-testid=graph-badge][data-layer="first"]')).toHaveText('FP16');
  await page.getByTestId('tab-data').click();
  await expect(page.getByTestId('dataset-summary')).toContainText('3');
  expect(await store(page, (s) => s.tensorOverrides.map(([, o]) => o.method))).toEqual(['mse']);
  expect(await store(page, (s) => s.past.length)).toBe(2);
  // Undo goes back through the history made before the reload: first the method, then the precision.
  await idle(page);
  await page.getByTestId('undo').click();
  await expect.poll(() => store(page, (s) => s.tensorOverrides.length)).toBe(0);
  await page.getByTestId('undo').click();
  await expect(page.locator('[data-testid=graph-badge][data-layer="first"]')).toHaveCount(0);
});

test('Cancel during one long inference ends the compute worker within seconds, builds the session again, and the time limit stops the next run', async ({ page }) => {
  await page.goto('/?demo=0');
  await page.getByTestId('pick-model-empty').setInputFiles({ name: 'slow.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(slowModel({ channels: 64, side: 512, convs: 8 })) });
  await expect(page.getByTestId('model-info')).toContainText('slow.onnx');
  await page.getByTestId('pick-data').setInputFiles(samples([1, 1, 1, 1], 2));
  const calibrating = page.getByTestId('job-progress').filter({ hasText: 'Calibrating' });
  await expect(calibrating).toBeVisible({ timeout: 30_000 });
  await page.waitForTimeout(1500); // inside the first inference
  const cancelled = Date.now();
  await calibrating.getByTestId('job-cancel').click();
  await expect(page.getByTestId('message-info').filter({ hasText: /^Cancelled \(cancel: "Calibrating/ }).first()).toBeVisible({ timeout: 10_000 });
  expect(Date.now() - cancelled).toBeLessThan(10_000);
  // Built again in a new worker without the cancelled step: the model and its data, not calibrated.
  await expect(page.getByTestId('model-info')).toContainText('slow.onnx', { timeout: 30_000 });
  await page.getByTestId('tab-data').click();
  await expect(page.getByTestId('calibrate-now')).toBeVisible({ timeout: 30_000 });

  // The per-inference limit at 1 s: the next calibration is stopped by it, with a message that says how to raise it.
  const openLimits = () => page.getByTestId('limits').evaluate((details) => ((details as HTMLDetailsElement).open = true));
  await openLimits();
  await page.getByTestId('limit-runSeconds').fill('1');
  await page.getByTestId('limits-apply').click();
  await page.getByTestId('calibrate-now').click();
  await expect(page.getByTestId('message-error').filter({ hasText: /limit of 1 s per inference.*Seconds per inference/ }).first()).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('model-info')).toContainText('slow.onnx', { timeout: 30_000 });

  // The page works on: another model opens and is evaluated.
  await idle(page);
  await page.getByTestId('tab-data').click();
  await openLimits();
  await page.getByTestId('limit-runSeconds').fill('300');
  await page.getByTestId('limits-apply').click();
  await page.getByTestId('pick-model').setInputFiles(smallModel());
  await page.getByTestId('pick-data').setInputFiles(samples([1, 3, 8, 8], 2));
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 60_000 });
});

test('a storage quota too small for the session: the page says the session will not survive a reload, and works on', async ({ page, context }) => {
  await page.goto('/?demo=0');
  // Chromium's own quota override (DevTools protocol): 1 kB for this origin, less than the model.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(page.url()).origin, quotaSize: 1024 });
  await page.getByTestId('pick-model-empty').setInputFiles(smallModel());
  await expect(page.getByTestId('message-error').filter({ hasText: /^Your session could not be saved: the browser's storage for this page is full/ })).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('pick-data').setInputFiles(samples([1, 3, 8, 8], 2));
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 60_000 });
});
