import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import * as flatbuffers from 'flatbuffers';
import * as circle from '../src/core/io/circle/generated/circle';
import { formatNpy } from '../src/core/io/dataset/npy';
import { readFlatModel } from '../src/core/io/tflite/flatModel';
import { seededRandom } from '../test/support/GraphBuilder';
import { writeOneH5 } from '../test/support/oneH5';
import { tfliteToCircle, to16x8 } from '../test/tflite/flatbufferFixtures';

/**
 * Issue #14 in a real browser: a .tflite dropped in the page opens converted, its graph and its
 * QTable under the file's operator names, calibrates on NHWC .npy samples, gives an output
 * similarity (and, for a quantized file, the figure of its own quantization), and exports the AI
 * Edge Quantizer recipe and ONE's configuration naming only operators of the file (read back from it).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CORPUS = join(ROOT, '..', 'shared', 'corpus', 'tflite');

interface LayerView { readonly name: string; readonly quantizable: boolean; readonly operator?: string }

/** The names the file's operators go by in LiteRT and ONE: the tensors they write. */
function operatorNames(path: string): Set<string> {
  const model = readFlatModel(new Uint8Array(readFileSync(path)), path);
  return new Set(model.operators.flatMap((op) => op.outputs.map((t) => model.tensors[t].name)));
}

/** `count` samples of `dims` (NHWC for an image model), uniform in [low, high), as one batch .npy. */
function batchNpy(count: number, dims: readonly number[], low: number, high: number, seed: number) {
  const random = seededRandom(seed);
  const size = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: count * size }, () => low + random() * (high - low));
  return { name: 'samples.npy', mimeType: 'application/octet-stream', buffer: Buffer.from(formatNpy({ dtype: 'float32', dims: [count, ...dims], data })) };
}

async function settled(page: Page): Promise<void> {
  await expect.poll(() => page.evaluate(() => (window as unknown as { qbenchState: () => { calibration: unknown } }).qbenchState().calibration !== null), { timeout: 120_000 }).toBe(true);
  await expect(page.getByTestId('job-progress')).toHaveCount(0, { timeout: 120_000 });
}

/** The layers the page lists (its QTable's), read from its state. */
async function layers(page: Page): Promise<LayerView[]> {
  return page.evaluate(() => (window as unknown as { qbenchState: () => { model: { layers: LayerView[] } } }).qbenchState().model.layers);
}

async function download(page: Page, testId: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return readFileSync((await file.path())!, 'utf8');
}

async function downloadBytes(page: Page, testId: string): Promise<{ name: string; bytes: Uint8Array }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return { name: file.suggestedFilename(), bytes: new Uint8Array(readFileSync((await file.path())!)) };
}

/** ONE's configuration and the recipe, downloaded from the Export tab, name only operators of the file. */
async function exportsNameTheFile(page: Page, names: ReadonlySet<string>): Promise<void> {
  await page.getByTestId('tab-export').click();
  const recipe = JSON.parse(await download(page, 'export-ai_edge_recipe')) as { regex: string; algorithm_key: string }[];
  expect(recipe[0].regex).toBe('.*');
  expect(recipe.length).toBeGreaterThan(1);
  for (const entry of recipe.slice(1)) expect([...names].filter((n) => new RegExp(entry.regex).test(n)), entry.regex).toHaveLength(1);
  const config = JSON.parse(await download(page, 'export-one_config')) as { layers: { name?: string; names?: string[] }[] };
  const configNames = config.layers.flatMap((l) => [...(l.name ? [l.name] : []), ...(l.names ?? [])]);
  expect(configNames.length).toBeGreaterThan(0);
  for (const name of configNames) expect(names.has(name), name).toBe(true);
  const qtable = await download(page, 'export-qtable');
  const rows = qtable.split('\n').filter((line) => line && !line.startsWith('#'));
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) expect(names.has(row.split(' ')[0]), row).toBe(true);
}

/** Sets the operator written by tensor `name` to `precision` from the layer table. */
async function setPrecision(page: Page, name: string, precision: string): Promise<void> {
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('table-filter').fill(name);
  // On the name, at the row's left: the row's other cells may hold controls of their own.
  await page.locator(`[data-testid=table-row][data-layer="${name}"]`).click({ position: { x: 12, y: 8 } });
  await page.getByTestId(`precision-${precision}`).click();
}

test.describe('TensorFlow Lite in the page', () => {
  test.skip(!existsSync(CORPUS), `${CORPUS} is absent (the shared corpus is not laid beside the repository)`);

  test('a float Keras MobileNetV2 .tflite: original names, NHWC samples, a similarity, the recipe and ONE config', async ({ page }) => {
    const path = join(CORPUS, 'keras_mobilenetv2_035_96_float.tflite');
    const names = operatorNames(path);
    await page.goto('/?demo=0');
    await page.getByTestId('pick-model-empty').setInputFiles(path);
    await expect(page.getByTestId('model-info')).toContainText('keras_mobilenetv2_035_96_float.tflite');
    await expect(page.getByTestId('model-note').filter({ hasText: /converted from TensorFlow Lite \(\d+ operators\)/i })).toHaveCount(1);
    // The graph's nodes carry the file's operator names; the table lists the file's operators only.
    const all = await layers(page);
    const listed = all.filter((l) => !l.operator);
    expect(listed.length).toBe(65);
    for (const layer of listed) expect(names.has(layer.name), layer.name).toBe(true);
    for (const layer of all.filter((l) => l.operator)) expect(names.has(layer.operator!), layer.operator).toBe(true);
    const conv = listed.find((l) => l.name.endsWith('Conv1_1/convolution'))!.name;
    await expect(page.locator(`[data-testid=graph-node][data-layer="${conv}"]`)).toHaveCount(1);

    await page.getByTestId('pick-data').setInputFiles(batchNpy(4, [96, 96, 3], -1, 1, 7));
    // Noise in gives a nearly flat softmax out: its similarity may print as 1.
    await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^(0\.\d+|1)$/, { timeout: 150_000 });
    await settled(page);
    // The fused Relu6 after the first convolution: selecting it shows its operator, and an edit there sets the operator.
    await setPrecision(page, conv, 'INT16');
    await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^(0\.\d+|1)$/);
    await settled(page);
    await exportsNameTheFile(page, names);
  });

  test('an int8 hello_world .tflite: opens as float with its own scales, measures its own quantized model, exports the recipe', async ({ page }) => {
    const path = join(CORPUS, 'hello_world_int8.tflite');
    const names = operatorNames(path);
    await page.goto('/?demo=0');
    await page.getByTestId('pick-model-empty').setInputFiles(path);
    await expect(page.getByTestId('model-note').filter({ hasText: /the file is quantized: it opens as the float model with its own quantization/i })).toHaveCount(1);
    for (const layer of (await layers(page)).filter((l) => !l.operator)) expect(names.has(layer.name), layer.name).toBe(true);

    await page.getByTestId('pick-data').setInputFiles(batchNpy(8, [1, 1], 0, 2 * Math.PI, 3));
    await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^-?\d/, { timeout: 150_000 });
    await expect(page.getByTestId('quantized-in-file')).toHaveAttribute('data-value', /^-?\d/, { timeout: 60_000 });
    await settled(page);
    const first = (await layers(page)).find((l) => !l.operator && l.quantizable)!.name;
    // INT16: ONE's configuration has no float types, so a float layer would not appear in it.
    await setPrecision(page, first, 'INT16');
    await settled(page);
    await exportsNameTheFile(page, names);
  });

  test('ONE\'s flow on a .circle and an .h5: bisection, ONE\'s configuration, record-minmax\'s .circle', async ({ page }) => {
    const bytes = tfliteToCircle(readFileSync(join(CORPUS, 'keras_mobilenetv2_035_96_float.tflite')));
    const model = readFlatModel(bytes, 'm.circle');
    const names = new Set(model.operators.flatMap((op) => op.outputs.map((t) => model.tensors[t].name)));
    const input = model.tensors[model.inputs[0]].name;
    const random = seededRandom(3);
    const samples = [0, 1, 2].map(() => ({ [input]: { dtype: 'float32' as const, dims: [1, 96, 96, 3], data: Float32Array.from({ length: 96 * 96 * 3 }, () => random() * 2 - 1) } }));
    const h5 = await writeOneH5(samples, [input]);
    await page.goto('/?demo=0');
    await page.getByTestId('pick-model-empty').setInputFiles({ name: 'mobilenetv2.circle', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await expect(page.getByTestId('model-note').filter({ hasText: /converted from Circle \(65 operators\)/i })).toHaveCount(1);
    await page.getByTestId('pick-data').setInputFiles({ name: 'calib.h5', mimeType: 'application/octet-stream', buffer: Buffer.from(h5) });
    await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^(0\.\d+|1)$/, { timeout: 150_000 });
    await settled(page);
    await page.getByTestId('scheme-select').selectOption('one');
    await settled(page);

    // ONE's mpqsolver bisection, the outputs' side INT16, scored by ONE's own qerror (MAE)
    await page.getByTestId('tab-search').click();
    await page.getByTestId('search-kind').selectOption('bisection');
    await page.getByTestId('search-bisection-mode').selectOption('false');
    await page.getByTestId('search-metric').selectOption('mae');
    await page.getByTestId('search-run').click();
    await expect(page.getByTestId('search-result')).toBeVisible({ timeout: 300_000 });
    await page.getByTestId('search-apply').click();
    await settled(page);

    await page.getByTestId('tab-export').click();
    const config = JSON.parse(await download(page, 'export-one_config')) as { layers: { name?: string; names?: string[]; dtype: string }[] };
    const configNames = config.layers.flatMap((l) => [...(l.name ? [l.name] : []), ...(l.names ?? [])]);
    expect(configNames.length).toBeGreaterThan(0);
    for (const name of configNames) expect(names.has(name), name).toBe(true);

    // record-minmax's .circle: every activation's min/max is the page's calibration
    const minmax = await downloadBytes(page, 'export-record_minmax');
    expect(minmax.name).toBe('mobilenetv2.minmax.circle');
    const cali = await page.evaluate(() => (window as unknown as { qbenchState: () => { calibration: { table: [string, { min: number; max: number }][] } } }).qbenchState().calibration.table);
    const byName = new Map(cali);
    const graph = circle.Model.getRootAsModel(new flatbuffers.ByteBuffer(minmax.bytes)).subgraphs(0)!;
    let recorded = 0;
    for (let i = 0; i < graph.tensorsLength(); i++) {
      const q = graph.tensors(i)!.quantization();
      if (!q || q.minLength() === 0) continue;
      const entry = byName.get(graph.tensors(i)!.name()!)!;
      expect(q.min(0)).toBe(Math.fround(entry.min));
      expect(q.max(0)).toBe(Math.fround(entry.max));
      recorded++;
    }
    expect(recorded).toBe(66);
  });

  test('a 16x8 .tflite opens with its own precisions as the QTable: its int16 operators INT16', async ({ page }) => {
    const bytes = to16x8(readFileSync(join(CORPUS, 'hello_world_int8.tflite')));
    await page.goto('/?demo=0');
    await page.getByTestId('pick-model-empty').setInputFiles({ name: 'hello_16x8.tflite', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await expect(page.getByTestId('model-note').filter({ hasText: /the file is quantized/i })).toHaveCount(1);
    const qtable = () => page.evaluate(() => [...(window as unknown as { qbenchState: () => { qtable: { layers: Map<string, string> } } }).qbenchState().qtable.layers.values()]);
    await expect.poll(qtable).toEqual(['INT16', 'INT16', 'INT16']);
  });
});
