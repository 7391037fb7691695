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
 * In the page: from picking the file to its graph in the state (the worker's open, parse and
 * conversion included), and the worker's own open time (ModelSummary.openMs).
 */
export async function benchTfliteOpenBrowser(page: Page, baseUrl: string) {
  const bytes = modelBytes();
  if (!bytes) return null;
  await page.goto(`${baseUrl}/?demo=0`);
  const started = Date.now();
  await page.getByTestId('pick-model-empty').setInputFiles({ name: FILE, mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
  await page.waitForFunction(() => (globalThis as unknown as { qbenchState: () => AppState }).qbenchState().model !== null, undefined, { timeout: 120_000 });
  const pickToModelMs = Date.now() - started;
  const openMs = await page.evaluate(() => (globalThis as unknown as { qbenchState: () => AppState }).qbenchState().model?.openMs ?? null);
  return { model: FILE, pickToModelMs, workerOpenMs: openMs === null ? null : round(openMs), targetMs: 2000 };
}
