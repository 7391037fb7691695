/**
 * Issue #14's performance figure: opening the 4 MB MobileNetV2 .tflite (int8, 65 operators) parsed
 * and converted within 1 s in Node and 2 s in the page. `npm run bench -- --sections=tflite`.
 * Skipped (null) when the corpus is not beside the repository.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { ortNodeEngine } from '../cli/ortNodeEngine';
import { readFlatbufferModel } from '../src/core/io/tflite/readFlatbufferModel';
import type { AppState } from '../src/state/store';
import { Workbench } from '../src/core/Workbench';
import { median, round } from './figures';

const FILE = 'mobilenet_v2_quantized_1x3x224x224.tflite';
const PATH = new URL(`../../shared/corpus/tflite/${FILE}`, import.meta.url).pathname;
const ROUNDS = 5;

/** The model's bytes, or null without the corpus. */
function modelBytes(): Uint8Array | null {
  return existsSync(PATH) ? new Uint8Array(readFileSync(PATH)) : null;
}

/**
 * In Node: the parse and both conversions (the float model and the file's own quantized one), then
 * the whole Workbench.open (which adds onnxruntime's shape inference), each the median of 5 rounds.
 */
export async function benchTfliteOpenNode() {
  const bytes = modelBytes();
  if (!bytes) return null;
  const convert: number[] = [];
  const open: number[] = [];
  const engine = ortNodeEngine();
  for (let k = 0; k < ROUNDS; k++) {
    let started = performance.now();
    readFlatbufferModel(bytes, FILE);
    convert.push(performance.now() - started);
    started = performance.now();
    await Workbench.open(engine, bytes, FILE);
    open.push(performance.now() - started);
  }
  return { model: FILE, bytes: bytes.length, rounds: ROUNDS, parseAndConvertMs: round(median(convert)), workbenchOpenMs: round(median(open)), targetMs: 1000 };
}

/**
 * In the page: from picking the file, once the page and its compute worker are up, to the model in
 * the state (reading the file, the worker's open, parse, conversion and shape inference), the
 * worker's own open time (ModelSummary.openMs), and the time from navigating to the page to the
 * model (page load and worker start added). Each round loads the page afresh (`?session=0`: the
 * previous round's saved session is not restored); medians of 5, the first round given apart.
 */
export async function benchTfliteOpenBrowser(page: Page, baseUrl: string) {
  const bytes = modelBytes();
  if (!bytes) return null;
  const pick: number[] = [];
  const load: number[] = [];
  const worker: number[] = [];
  for (let k = 0; k < ROUNDS; k++) {
    const loading = Date.now();
    await page.goto(`${baseUrl}/?demo=0&session=0`);
    await page.getByTestId('pick-model-empty').waitFor({ state: 'attached' });
    // The compute worker is up (it answered the page's first call), as it is by the time a user has picked a file.
    await page.waitForFunction(() => (globalThis as unknown as { qbenchState: () => AppState }).qbenchState().capabilities !== null, undefined, { timeout: 120_000 });
    const started = Date.now();
    await page.getByTestId('pick-model-empty').setInputFiles({ name: FILE, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await page.waitForFunction(() => (globalThis as unknown as { qbenchState: () => AppState }).qbenchState().model !== null, undefined, { timeout: 120_000 });
    pick.push(Date.now() - started);
    load.push(Date.now() - loading);
    const openMs = await page.evaluate(() => (globalThis as unknown as { qbenchState: () => AppState }).qbenchState().model?.openMs ?? null);
    if (openMs !== null) worker.push(openMs);
  }
  return {
    model: FILE, rounds: ROUNDS,
    pickToModelMs: round(median(pick)), firstPickToModelMs: pick[0],
    // from navigating to the page (its load, the worker's start and onnxruntime-web's) to the model
    pageLoadToModelMs: round(median(load)),
    workerOpenMs: worker.length ? round(median(worker)) : null,
    targetMs: 2000,
  };
}
