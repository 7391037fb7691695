import { expect, test, type Page } from '@playwright/test';
import { openDemoOnSamples } from './support';

/**
 * Issue 13, item 6: keyboard and accessibility. Tabs, progress and dialogs with their roles; a
 * layer selected and set to FP32 with the keyboard alone, in the table and in the graph; redo with
 * Ctrl+Y; `?` lists the shortcuts; the Demo asks before it replaces edits.
 */

const activeTestId = (page: Page) => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid ?? document.activeElement?.tagName ?? '');

test('tabs, progress and dialogs have their roles', async ({ page }) => {
  await page.goto('/?evaluation_samples=2');
  // The demo's first jobs: a progressbar with its value.
  await expect(page.getByRole('progressbar').first()).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 150_000 });

  const tablist = page.getByRole('tablist');
  await expect(tablist.getByRole('tab')).toHaveCount(5);
  await expect(page.getByRole('tab', { name: 'Layers' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('tabpanel')).toBeVisible();
  await page.getByRole('tab', { name: 'Layers' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Data & calibration' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('tab', { name: 'Data & calibration' })).toBeFocused();
  await page.getByTestId('tab-layers').click(); // the test ids stay

  await page.locator('body').press('?');
  const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('Ctrl+Y');
  await expect(dialog).toContainText('INT8, INT16, FP16, FP32');
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
});

test('keyboard only: Tab to a table row, Enter, 4 sets FP32; Ctrl+Z and Ctrl+Y; the graph by arrows; Demo asks first', async ({ page }) => {
  await openDemoOnSamples(page, 2);
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('table-filter').focus();
  // Tab from the filter until a row has the focus (past the filter's neighbours and the column heads).
  for (let i = 0; i < 30 && (await activeTestId(page)) !== 'table-row'; i++) await page.keyboard.press('Tab');
  expect(await activeTestId(page)).toBe('table-row');
  await page.keyboard.press('ArrowDown');
  const layer = await page.evaluate(() => (document.activeElement as HTMLElement).dataset.layer!);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('inspector-layer')).toHaveText(layer);

  const cos = Number(await page.getByTestId('output-cos').getAttribute('data-value'));
  await page.keyboard.press('4');
  await expect(page.getByTestId('precision-FP32')).toHaveAttribute('aria-checked', 'true');
  await expect(page.locator(`[data-testid=graph-badge][data-layer="${layer}"]`)).toHaveText('FP32');
  await expect.poll(async () => Number(await page.getByTestId('output-cos').getAttribute('data-value')), { timeout: 60_000 }).not.toBe(cos);

  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('precision-INT8')).toHaveAttribute('aria-checked', 'true');
  await page.keyboard.press('Control+y');
  await expect(page.getByTestId('precision-FP32')).toHaveAttribute('aria-checked', 'true');
  await page.keyboard.press('Control+z');
  await page.keyboard.press('Control+Shift+z');
  await expect(page.getByTestId('precision-FP32')).toHaveAttribute('aria-checked', 'true');

  // The graph: focus it, arrows move a cursor from the selected layer, Enter selects, 2 sets INT16.
  await page.getByTestId('graph-canvas').focus();
  await page.keyboard.press('ArrowDown');
  const cursor = await page.locator('.qg-node.is-cursor').getAttribute('data-layer');
  expect(cursor).toBeTruthy();
  expect(cursor).not.toBe(layer);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('inspector-layer')).toHaveText(cursor!);
  await page.keyboard.press('2');
  await expect(page.getByTestId('precision-INT16')).toHaveAttribute('aria-checked', 'true');

  // Edits made: the Demo asks before replacing them; Cancel keeps everything.
  await page.getByTestId('load-demo').click();
  const confirm = page.getByRole('dialog');
  await expect(confirm).toBeVisible();
  await expect(confirm).toContainText('Replace ch_PP-OCRv4_det_infer.onnx?');
  await page.getByTestId('confirm-cancel').click();
  await expect(confirm).toHaveCount(0);
  await expect(page.locator(`[data-testid=graph-badge][data-layer="${layer}"]`)).toHaveText('FP32');
});
