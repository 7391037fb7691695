import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { formatNpy } from '../src/core/io/dataset/npy';
import { GraphBuilder } from '../test/support/GraphBuilder';

/**
 * Issue #13 item 5 in a real browser: a session saved as a `.qbench` file, the page cleared, the
 * model and data opened again, the file opened: the same QTable and the same output similarity.
 */

interface StoreView {
  jobs: Record<string, unknown>;
  qtable: { layers: Map<string, string> };
}
const store = <T>(page: Page, read: (s: StoreView) => T) => page.evaluate((fn) => new Function('s', `return (${fn})(s)`)((globalThis as unknown as { qbenchState: () => StoreView }).qbenchState()), read.toString()) as Promise<T>;
const idle = (page: Page) => page.waitForFunction(() => Object.keys((globalThis as unknown as { qbenchState: () => StoreView }).qbenchState().jobs).length === 0, undefined, { timeout: 120_000 });
const precisions = (page: Page) => store(page, (s) => [...s.qtable.layers].map(([layer, p]) => `${layer}:${p}`).sort());

function smallModel(seed = 6, name = 'net.onnx') {
  const b = new GraphBuilder({ seed });
  let x = b.input('x', [1, 3, 8, 8]);
  x = b.relu(b.conv(x, 4, 3, { name: 'first' }));
  b.output(b.conv(x, 4, 3, { name: 'second' }));
  return { name, mimeType: 'application/octet-stream', buffer: Buffer.from(b.toBytes()) };
}

const samples = Array.from({ length: 3 }, (_, k) => ({
  name: `s${k}.npy`, mimeType: 'application/octet-stream',
  buffer: Buffer.from(formatNpy({ dtype: 'float32', dims: [1, 3, 8, 8], data: Float32Array.from({ length: 192 }, (_, i) => Math.sin(i * 0.37 + k)) })),
}));

test('a session saved as .qbench and opened on a cleared page gives the same QTable and output similarity; another model is refused by name', async ({ page }) => {
  await page.goto('/?demo=0&session=0');
  await page.getByTestId('pick-model-empty').setInputFiles(smallModel());
  await page.getByTestId('pick-data').setInputFiles(samples);
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 60_000 });
  await page.locator('[data-testid=graph-node][data-layer="first"]').click();
  await page.getByTestId('precision-FP16').click();
  await expect(page.locator('[data-testid=graph-badge][data-layer="first"]')).toHaveText('FP16');
  await idle(page);
  const cos = await page.getByTestId('output-cos').getAttribute('data-value');
  expect(await precisions(page)).toEqual(['first:FP16']);

  await page.getByTestId('tab-export').click();
  const downloading = page.waitForEvent('download');
  await page.getByTestId('save-session').click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('net.qbench');
  const path = await download.path();
  const saved = JSON.parse(readFileSync(path, 'utf8'));
  expect(saved.qbench_session).toBe(1);
  expect(saved.model).toMatchObject({ name: 'net.onnx', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  expect(saved.data).toEqual(['s0.npy', 's1.npy', 's2.npy']);
  // Undone before the reload, so that what comes back can only come from the file (the page also keeps a QTable per model).
  await page.getByTestId('undo').click();
  await expect(page.locator('[data-testid=graph-badge][data-layer="first"]')).toHaveCount(0);
  await idle(page);
  await page.waitForTimeout(1000); // the page's own save follows a change after 400 ms

  await page.goto('/?demo=0&session=0');
  await page.getByTestId('pick-model-empty').setInputFiles(smallModel());
  await page.getByTestId('pick-data').setInputFiles(samples);
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 60_000 });
  expect(await precisions(page)).toEqual([]);
  await page.getByTestId('tab-export').click();
  await page.getByTestId('open-session').setInputFiles({ name: 'net.qbench', mimeType: 'application/json', buffer: readFileSync(path) });
  await expect(page.getByTestId('message-info').filter({ hasText: 'net.qbench applied to net.onnx' })).toBeVisible({ timeout: 60_000 });
  await idle(page);
  expect(await precisions(page)).toEqual(['first:FP16']);
  await expect(page.locator('[data-testid=graph-badge][data-layer="first"]')).toHaveText('FP16');
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', cos!);

  // Another model (other weights, same name): the file asks for the model it was made on.
  await page.goto('/?demo=0&session=0');
  await page.getByTestId('pick-model-empty').setInputFiles(smallModel(7));
  await expect(page.getByTestId('model-info')).toContainText('net.onnx');
  await page.getByTestId('tab-export').click();
  await page.getByTestId('open-session').setInputFiles({ name: 'net.qbench', mimeType: 'application/json', buffer: readFileSync(path) });
  await expect(page.getByTestId('message-info').filter({ hasText: /net\.qbench was made on net\.onnx \(.*SHA-256 [0-9a-f]{12}…\), not on net\.onnx: open net\.onnx and its data \(s0\.npy, s1\.npy, s2\.npy\)/ })).toBeVisible();
  expect(await precisions(page)).toEqual([]);
});
