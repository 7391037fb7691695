import { expect, test, type Page } from '@playwright/test';
import { expectAnEditEvaluated, openDemoOnSamples } from './support';

/**
 * Issues #9 and #12 in a real browser on the demo model (PP-OCRv4 det): a worker that fails or
 * stops answering ends its job with a message, never a job left on screen forever, and the page
 * works on. The failures are the page's test hook (?fault=, workers/faults.ts): a search worker's
 * inference throwing as onnxruntime does, a search worker closing itself mid-search (no error event:
 * only its released exit lock tells), the compute worker closing itself mid-calibration. Searches use
 * 2 evaluation samples and one method so the test stays short.
 */

const MODEL = 'ch_PP-OCRv4_det_infer.onnx';

interface StoreView {
  jobs: Record<string, { label: string }>;
}

/** The text of the error messages (without their dismiss button). */
const errorMessage = (page: Page) => page.getByTestId('message-error').getByTestId('message-text');
const idle = (page: Page) => page.waitForFunction(() => Object.keys((globalThis as unknown as { qbenchState: () => StoreView }).qbenchState().jobs).length === 0, undefined, { timeout: 120_000 });

/** The demo with an injected fault, evaluated on 2 samples, the Search tab open. */
async function openDemoWithFault(page: Page, fault: string) {
  await openDemoOnSamples(page, 2, `?fault=${fault}`);
  await page.getByTestId('tab-search').click();
}

/** Starts run_sensitive_layer's ranking with one method (no calibration of the others first). */
async function startRanking(page: Page) {
  await page.getByTestId('search-kind').selectOption('sensitive');
  for (const method of ['percentile9999', 'KL \\(TPU-MLIR\\)']) await page.getByTestId('search-methods').getByText(new RegExp(`^${method}`)).click();
  await page.getByTestId('search-run').click();
}

/** The search stopped, nothing runs, Run is back. */
async function searchEnded(page: Page) {
  await expect(page.getByTestId('search-stopped')).toBeVisible();
  await expect(page.getByTestId('job-progress')).toHaveCount(0);
  await expect(page.getByTestId('search-run')).toBeEnabled();
}

test('a search worker whose inference fails mid-search: a message names the model and the step, the search ends, edits are evaluated again', async ({ page }) => {
  // The 6th inference of search worker 1 (index 0) from its first search call: past the float
  // activations of its first chunk, inside the ranking of a layer.
  await openDemoWithFault(page, 'search:0:throw:6');
  await startRanking(page);
  await expect(errorMessage(page)).toHaveText(
    new RegExp(`^${MODEL.replace(/\./g, '\\.')}: ranking layer "[^"]+" \\(\\d+ layers?\\): onnxruntime failed running node "injected" \\(Conv\\): injected failure$`),
    { timeout: 120_000 },
  );
  await searchEnded(page);

  // Still usable: an edit is evaluated, on the same pool of search workers.
  await expectAnEditEvaluated(page);
});

test('a search worker that closes itself mid-search (no error event): its released exit lock ends the search at once with a message naming the model and the worker; the next search runs on new workers', async ({ page }) => {
  await openDemoWithFault(page, 'search:0:close:300');
  await startRanking(page);
  await expect(errorMessage(page)).toHaveText(
    new RegExp(`^${MODEL.replace(/\./g, '\\.')}: search worker 1 of \\d+ ended \\(closed, killed or out of memory\\); the next search starts new workers$`),
    { timeout: 30_000 },
  );
  await searchEnded(page);

  // fp_forward from the graph: a search that scores a QTable on every worker of the new pool.
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('table-filter').fill('p2o.Conv.58');
  await page.locator('[data-testid=table-row][data-layer="p2o.Conv.58"]').click();
  await page.getByTestId('float-after').click();
  await expect(page.getByTestId('search-result')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('job-progress')).toHaveCount(0);
});

test('the compute worker closes itself mid-calibration: a message says so, no job stays, the page builds the session again in a new worker without the step that was running, and the next calibration runs', async ({ page }) => {
  await page.goto('/?fault=compute:close:300');
  await expect(errorMessage(page)).toHaveText(
    `The compute worker stopped (it ended: closed, killed or out of memory): the open model and its calibration are lost; opening ${MODEL} again in a new worker (your session is kept: data, settings, edits and undo history)`,
    { timeout: 30_000 },
  );
  // Opened again in the new worker with its data, not calibrated: the calibration was what was running when
  // the worker went, and running it again at once could take the new worker down the same way.
  await expect(page.getByTestId('model-info')).toContainText(MODEL, { timeout: 60_000 });
  await page.getByTestId('tab-data').click();
  await expect(page.getByTestId('calibrate-now')).toBeVisible({ timeout: 60_000 });
  await idle(page);
  await expect(page.getByTestId('job-progress')).toHaveCount(0);
  // The user calibrates when ready: the new worker calibrates and evaluates.
  await page.getByTestId('calibrate-now').click();
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 150_000 });
});

test('the compute worker closes itself mid-evaluation: the session comes back calibrated without that evaluation, and the next edit is evaluated', async ({ page }) => {
  await page.goto('/?fault=compute:close:150@evaluate&evaluation_samples=2');
  await expect(errorMessage(page)).toHaveText(/^The compute worker stopped \(it ended: closed, killed or out of memory\)/, { timeout: 120_000 });
  await expect(page.getByTestId('model-info')).toContainText(MODEL, { timeout: 60_000 });
  await page.waitForFunction(() => { const s = (globalThis as unknown as { qbenchState: () => { reopening: boolean; calibration: unknown } }).qbenchState(); return !s.reopening && s.calibration !== null; }, undefined, { timeout: 120_000 });
  await idle(page);
  await expect(page.getByTestId('job-progress')).toHaveCount(0);
  // Calibrated again (the calibration was not what was running), and an edit is measured in the new worker.
  await page.getByTestId('tab-data').click();
  await expect(page.getByTestId('calibrate-now')).toHaveCount(0);
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('table-filter').fill('p2o.Conv.17');
  await page.locator('[data-testid=table-row][data-layer="p2o.Conv.17"]').click();
  await page.getByTestId('precision-FP32').click();
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 120_000 });
});
