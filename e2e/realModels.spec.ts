import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { expect, test, type Page } from '@playwright/test';
import { formatNpy } from '../src/core/io/dataset/npy';
import { ortNodeEngine } from '../cli/ortNodeEngine';
import { onnx } from '../src/core/io/onnx/protobuf';
import { GraphBuilder, randomSamples, seededRandom } from '../test/support/GraphBuilder';
import { tensorRanges, toQOperator } from '../test/support/integerForms';

/**
 * Issue #9 in a real browser: what the page says about a model before any figure (an old opset
 * upgraded on load, a network inside control flow with nothing to quantize, a file already
 * quantized), and the figures it then gives or refuses to give.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SQUEEZENET = join(ROOT, '..', 'shared', 'corpus', 'onnx-opset9', 'light_squeezenet.onnx');
const SILERO = join(ROOT, 'node_modules', '@ricky0123', 'vad-web', 'dist', 'silero_vad_v5.onnx');
const IMAGES = ['book_columns.jpg', 'document.jpg'].map((name) => join(ROOT, 'demo', 'images', name));
const SCRATCH = join(ROOT, 'scratch');

/** Records whether `text` ever appears in the page, from now on (every DOM change is checked). */
async function watchFor(page: Page, text: string): Promise<() => Promise<boolean>> {
  await page.evaluate((needle) => {
    const w = window as unknown as { seen: boolean };
    w.seen = document.body.innerText.includes(needle);
    new MutationObserver(() => {
      if (document.body.innerText.includes(needle)) w.seen = true;
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  }, text);
  return () => page.evaluate(() => (window as unknown as { seen: boolean }).seen);
}

/** Waits until the data given is read, calibrated and every job it started has ended. */
async function settled(page: Page): Promise<void> {
  await expect.poll(() => page.evaluate(() => (window as unknown as { qbenchState: () => { calibration: unknown } }).qbenchState().calibration !== null)).toBe(true);
  await expect(page.getByTestId('job-progress')).toHaveCount(0);
}

test('an opset-9 model says it was upgraded, in a note and in the header, and calibrates on images', async ({ page }) => {
  test.skip(!existsSync(SQUEEZENET), `${SQUEEZENET} is absent (the shared corpus is not laid beside the repository)`);
  await page.goto('/?demo=0');
  await page.getByTestId('pick-model-empty').setInputFiles(SQUEEZENET);
  await expect(page.getByTestId('model-info')).toContainText('light_squeezenet.onnx');
  await expect(page.getByTestId('model-info')).toContainText('opset 13 (from 9)');
  await expect(page.getByTestId('model-notes').getByTestId('model-note').filter({ hasText: /upgraded from opset 9 to 13/i })).toHaveCount(1);

  await page.getByTestId('pick-data').setInputFiles(IMAGES);
  // Images wait for their preprocessing (told from the model) to be confirmed (issue #13).
  await page.getByTestId('preprocess-confirm').click();
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^-?\d+(\.\d+)?(e-?\d+)?$/);
  await expect(page.getByTestId('nothing-to-quantize')).toHaveCount(0);
  await settled(page);
  mkdirSync(SCRATCH, { recursive: true });
  await page.screenshot({ path: join(SCRATCH, 'squeezenet-notes.png') });
});

test('Silero VAD (its network inside an If): the layers of the branch the data takes are quantized, the If itself says why it takes no precision', async ({ page }) => {
  await page.goto('/?demo=0');
  await page.getByTestId('pick-model-empty').setInputFiles(SILERO);
  await expect(page.getByTestId('model-note').filter({ hasText: /layers sit inside If branches: they are calibrated on the branches your samples take/ })).toHaveCount(1);

  const npz = (seed: number) => Buffer.from(zipSync({
    'input.npy': formatNpy({ dtype: 'float32', dims: [1, 512], data: Float32Array.from({ length: 512 }, (_, i) => 0.3 * Math.sin((i + 37 * seed) / 5)) }),
    'state.npy': formatNpy({ dtype: 'float32', dims: [2, 1, 128], data: new Float32Array(256) }),
    'sr.npy': formatNpy({ dtype: 'int64', dims: [], data: new BigInt64Array([16000n]) }),
  }));
  await page.getByTestId('pick-data').setInputFiles([1, 2].map((seed) => ({ name: `chunk${seed}.npz`, mimeType: 'application/octet-stream', buffer: npz(seed) })));
  await settled(page);
  const cos = page.getByTestId('output-cos');
  await expect(cos).toHaveAttribute('data-value', /^0\.9\d+/, { timeout: 60_000 });
  await expect(page.getByTestId('nothing-to-quantize')).toHaveCount(0);
  await expect(page.getByTestId('message-error')).toHaveCount(0);

  // A Conv inside the 16 kHz branch is a layer like any other.
  const conv = 'If_0_then_branch__Inline_0__/encoder/0/reparam_conv/Conv';
  await page.getByTestId('table-filter').fill('encoder/0/reparam_conv/Conv');
  await page.locator(`[data-testid=table-row][data-layer="${conv}"]`).first().click();
  await expect(page.getByTestId('inspector-layer')).toHaveText(conv);
  await expect(page.getByTestId('precision-INT8')).toBeEnabled();
  // Its own accumulated error colours it in the heatmap, measured by running its branch on its own.
  await expect(page.locator(`[data-testid=graph-node][data-layer="${conv}"]`)).toHaveClass(/is-heat/, { timeout: 60_000 });

  // The If itself holds the branches: it takes no precision, and says so.
  // Every layer of its branches has "If_0" in its name, and now an error too: sorted by name, the If comes first.
  await page.getByTestId('sort-name').click();
  await page.getByTestId('table-filter').fill('If_0');
  await page.locator('[data-testid=table-row][data-layer="If_0"]').click();
  // A layer of the 8 kHz branch, which no sample ran: it runs FP32 (no ranges), and the table says so.
  await expect(page.locator('[data-testid=table-row][data-layer="If_0_else_branch__Inline_0__/decoder/Concat"] .precision')).toHaveText('—');
  await expect(page.getByTestId('not-quantizable')).toContainText('Not quantizable:');
  await expect(page.getByTestId('precision-INT8')).toBeDisabled();
  mkdirSync(SCRATCH, { recursive: true });
  await page.screenshot({ path: join(SCRATCH, 'silero-branches.png') });
});

test('a model with nothing to quantize says so where the similarity would be, never "1.000000"', async ({ page }) => {
  await page.goto('/?demo=0');
  const sawOne = await watchFor(page, '1.000000');
  const b = new GraphBuilder({ seed: 1 });
  const x = b.input('x', [1, 4]);
  b.output(b.node('Identity', [b.node('Identity', [x], {}, 1, [1, 4], 'first')[0]], {}, 1, [1, 4], 'second')[0]);
  await page.getByTestId('pick-model-empty').setInputFiles({ name: 'identity.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(b.toBytes()) });
  const nothing = page.getByTestId('nothing-to-quantize');
  await expect(nothing).toContainText('Nothing to quantize');
  await expect(nothing).toHaveAttribute('title', /no layer can be quantized: 2 layers \(Identity\): Identity is never quantized/);
  await page.getByTestId('pick-data').setInputFiles([1, 2].map((seed) => ({ name: `s${seed}.npy`, mimeType: 'application/octet-stream', buffer: Buffer.from(formatNpy({ dtype: 'float32', dims: [1, 4], data: Float32Array.from({ length: 4 }, (_, i) => i * seed) })) })));
  await settled(page);
  await expect(nothing).toBeVisible();
  await expect(page.getByTestId('output-cos')).toHaveCount(0);
  expect(await sawOne()).toBe(false);
});

test.describe('a QDQ model', () => {
  let files: { model: string; data: string[] };

  test.beforeAll(async () => {
    // A small float model quantized by qbench's own CLI (the package's bin), and its samples.
    const dir = mkdtempSync(join(tmpdir(), 'qbench-e2e-qdq-'));
    const b = new GraphBuilder({ seed: 4 });
    let x = b.input('x', [1, 3, 10, 10]);
    x = b.relu(b.conv(x, 6, 3, { name: 'conv_a' }));
    b.output(b.conv(x, 4, 3, { name: 'conv_b' }));
    writeFileSync(join(dir, 'model.onnx'), b.toBytes());
    const random = seededRandom(3);
    const data = [0, 1, 2].map((i) => {
      const path = join(dir, `s${i}.npy`);
      writeFileSync(path, formatNpy({ dtype: 'float32', dims: [1, 3, 10, 10], data: Float32Array.from({ length: 300 }, () => random() * 2 - 1) }));
      return path;
    });
    const model = join(dir, 'small.qdq.onnx');
    await promisify(execFile)(process.execPath, [join(ROOT, 'cli', 'qbench.js'), 'export', '--model', join(dir, 'model.onnx'), '--data', data.join(','), '--out', model]);
    files = { model, data };
  });

  test('says it is already quantized, opens as float, and shows the figure of the quantization in the file', async ({ page }) => {
    await page.goto('/?demo=0');
    await page.getByTestId('pick-model-empty').setInputFiles(files.model);
    await expect(page.getByTestId('model-note').filter({ hasText: /already quantized: QDQ/ })).toHaveCount(1);
    await page.getByTestId('open-dequantized').click();
    await expect(page.getByTestId('model-note').filter({ hasText: /opened de-quantized: 3 QuantizeLinear\/DequantizeLinear pairs removed/i })).toHaveCount(1);
    await expect(page.getByTestId('model-note').filter({ hasText: /already quantized/ })).toHaveCount(0);
    await expect(page.getByTestId('open-dequantized')).toHaveCount(0);
    // conv_a, its Relu, conv_b, and the Identity that keeps the graph output's name where its DequantizeLinear was.
    await expect(page.getByTestId('graph-node')).toHaveCount(4);
    await expect(page.locator('[data-testid=graph-node][data-layer="conv_b"]')).toBeVisible();

    await page.getByTestId('pick-data').setInputFiles(files.data);
    await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.9\d+/);
    const inFile = page.getByTestId('quantized-in-file');
    await expect(inFile).toHaveAttribute('data-value', /^0\.9\d+/);
    await expect(inFile).toContainText(/in the file\s*cos 0\.9\d{5}/);
    await settled(page);
    mkdirSync(SCRATCH, { recursive: true });
    await page.screenshot({ path: join(SCRATCH, 'qdq-in-file.png') });
  });
});

test.describe('a QOperator model', () => {
  let files: { model: string; data: string[] };

  test.beforeAll(async () => {
    // A small float model written in QOperator form as onnxruntime's quantize_static does, and its samples.
    const dir = mkdtempSync(join(tmpdir(), 'qbench-e2e-qop-'));
    const b = new GraphBuilder({ seed: 4 });
    let x = b.input('x', [1, 3, 10, 10]);
    x = b.relu(b.conv(x, 6, 3, { name: 'conv_a' }));
    b.output(b.node('Sigmoid', [b.add(x, b.conv(x, 6, 3, { name: 'conv_b' }))])[0]);
    const float = b.toModel();
    const ranges = await tensorRanges(ortNodeEngine(1), float, randomSamples('x', [1, 3, 10, 10], 4, 3));
    const model = join(dir, 'small.qop.onnx');
    writeFileSync(model, onnx.ModelProto.encode(toQOperator(float, ranges)).finish());
    const random = seededRandom(3);
    const data = [0, 1, 2].map((i) => {
      const path = join(dir, `s${i}.npy`);
      writeFileSync(path, formatNpy({ dtype: 'float32', dims: [1, 3, 10, 10], data: Float32Array.from({ length: 300 }, () => random() * 2 - 1) }));
      return path;
    });
    files = { model, data };
  });

  test('says it is QOperator, opens as float with its integer operators turned back, and shows the figure of the quantization in the file', async ({ page }) => {
    await page.goto('/?demo=0');
    await page.getByTestId('pick-model-empty').setInputFiles(files.model);
    await expect(page.getByTestId('model-note').filter({ hasText: /already quantized: QOperator \(integer operators\), QLinearConv x2, QLinearAdd x1, QLinearSigmoid x1/ })).toHaveCount(1);
    await expect(page.getByTestId('open-dequantized')).toHaveAttribute('title', /QLinearConv, QLinearMatMul, QGemm/);
    await page.getByTestId('open-dequantized').click();
    await expect(page.getByTestId('model-note').filter({ hasText: /opened de-quantized from QOperator form: 4 integer operators turned back into float ones \(QLinearConv x2 → Conv, QLinearAdd x1 → Add, QLinearSigmoid x1 → Sigmoid\)/i })).toHaveCount(1);
    await expect(page.getByTestId('model-note').filter({ hasText: /already quantized/ })).toHaveCount(0);
    // conv_a, its Relu put back, conv_b, the Add and the Sigmoid
    await expect(page.getByTestId('graph-node')).toHaveCount(5);
    await expect(page.locator('[data-testid=graph-node][data-layer="conv_b"]')).toBeVisible();

    await page.getByTestId('pick-data').setInputFiles(files.data);
    await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.9\d+/);
    const inFile = page.getByTestId('quantized-in-file');
    await expect(inFile).toHaveAttribute('data-value', /^0\.9\d+/);
    await settled(page);
  });
});
