import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { expect, test } from '@playwright/test';
import { formatNpy } from '../src/core/io/dataset/npy';
import { onnx } from '../src/core/io/onnx/protobuf';
import { GraphBuilder } from '../test/support/GraphBuilder';

/**
 * The whole core loop in a real browser, on the built-in demo (PP-OCRv4 det from npm, twelve text
 * images), with onnxruntime-web running in the compute worker: heatmap, a layer set to FP32, the
 * similarity rising, both exports, and the exported model run again in onnxruntime-node.
 */
test('demo: heatmap -> layer to FP32 -> similarity rises -> export qtable and a QDQ model that runs', async ({ page }) => {
  await page.goto('/');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

  const cos = page.getByTestId('output-cos');
  await expect(cos).toHaveAttribute('data-value', /^0\.\d+/, { timeout: 150_000 });
  await expect(page.getByTestId('heat-legend')).toBeVisible({ timeout: 150_000 });
  await expect(page.getByTestId('graph-node')).toHaveCount(330);
  const distinctFills = await page.$$eval('[data-testid=graph-node] rect', (rects) => new Set(rects.map((r) => (r as SVGElement).style.fill).filter(Boolean)).size);
  expect(distinctFills).toBeGreaterThan(10);
  const before = Number(await cos.getAttribute('data-value'));
  expect(before).toBeGreaterThan(0.5);
  expect(before).toBeLessThan(0.9999);

  // Select the layer in the table, then click it in the graph (the view brings it on screen).
  await page.getByTestId('table-filter').fill('p2o.Conv.17');
  await page.locator('[data-testid=table-row][data-layer="p2o.Conv.17"]').click();
  await expect(page.getByTestId('inspector-layer')).toHaveText('p2o.Conv.17');
  await page.getByTestId('graph-search').fill('');
  await page.locator('[data-testid=graph-node][data-layer="p2o.Conv.17"]').click();
  await expect(page.getByTestId('inspector-layer')).toHaveText('p2o.Conv.17');
  await expect(page.getByTestId('layer-cos')).toHaveText(/^0\.\d{6}$/);

  await page.getByTestId('precision-FP32').click();
  await expect(page.getByTestId('precision-FP32')).toHaveAttribute('aria-checked', 'true');
  await expect.poll(async () => Number(await cos.getAttribute('data-value')), { timeout: 60_000 }).toBeGreaterThan(before);
  await expect(page.locator('[data-testid=graph-badge][data-layer="p2o.Conv.17"]')).toHaveText('FP32');

  await page.getByTestId('tab-export').click();
  const qtableDownload = page.waitForEvent('download');
  await page.getByTestId('export-qtable').click();
  const qtableText = readFileSync(await (await qtableDownload).path(), 'utf8');
  expect(qtableText).toMatch(/^# genetated time: /);
  expect(qtableText.split('\n')).toContain('p2o.Conv.17 F32');

  const modelDownload = page.waitForEvent('download', { timeout: 120_000 });
  await page.getByTestId('export-qdq').click();
  const download = await modelDownload;
  expect(download.suggestedFilename()).toBe('ch_PP-OCRv4_det_infer.qdq.onnx');
  const bytes = readFileSync(await download.path());
  const graph = onnx.ModelProto.decode(bytes).graph!;
  const ops = graph.node.map((n) => n.opType);
  expect(ops.filter((op) => op === 'QuantizeLinear').length).toBeGreaterThan(100);
  expect(ops.filter((op) => op === 'DequantizeLinear').length).toBeGreaterThan(100);
  const conv4 = graph.node.find((n) => n.name === 'p2o.Conv.17')!;
  expect(graph.initializer.find((t) => t.name === conv4.input[1])!.dataType).toBe(onnx.TensorProto.DataType.FLOAT);
  await expect(page.getByTestId('export-verification')).toContainText('measured output cos');

  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const x = new ort.Tensor('float32', new Float32Array(3 * 320 * 320).fill(0.5), [1, 3, 320, 320]);
  const out = await session.run({ x });
  expect(out[session.outputNames[0]].dims).toEqual([1, 1, 320, 320]);
  await session.release();
});

test('a dropped file that is not a model gets a message naming it, and the page keeps working', async ({ page }) => {
  await page.goto('/?demo=0');
  await expect(page.getByTestId('empty-state')).toBeVisible();
  const dataTransfer = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['this is a text file, not a protobuf'], 'broken.onnx'));
    return dt;
  });
  await page.dispatchEvent('body', 'drop', { dataTransfer });
  await expect(page.getByTestId('message-error')).toContainText('broken.onnx: this is not an ONNX model');

  // Still usable: a valid model and its data, dropped together, open and calibrate.
  const b = new GraphBuilder({ seed: 2 });
  const x = b.input('x', [1, 3, 8, 8]);
  b.output(b.relu(b.conv(x, 4, 3)));
  const samples = formatNpy({ dtype: 'float32', dims: [4, 3, 8, 8], data: Float32Array.from({ length: 4 * 192 }, (_, i) => Math.sin(i)) });
  const drop = await page.evaluateHandle(([model, data]) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(model)], 'tiny.onnx'));
    dt.items.add(new File([new Uint8Array(data)], 'batch.npy'));
    return dt;
  }, [Array.from(b.toBytes()), Array.from(samples)]);
  await page.dispatchEvent('body', 'drop', { dataTransfer: drop });
  await expect(page.getByTestId('model-info')).toContainText('tiny.onnx');
  await expect(page.getByTestId('graph-node')).toHaveCount(2);
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.9\d+/);

  // Data of the wrong shape: the message names the file and the input; the model stays open.
  const npy = Buffer.from(formatNpy({ dtype: 'float32', dims: [1, 3, 4, 4], data: new Float32Array(48) }));
  await page.getByTestId('pick-data').setInputFiles({ name: 'wrong.npy', mimeType: 'application/octet-stream', buffer: npy });
  await expect(page.getByTestId('message-error').last()).toContainText('wrong.npy');
  await expect(page.getByTestId('message-error').last()).toContainText('[1, 3, 8, 8]');
  await expect(page.getByTestId('model-info')).toContainText('tiny.onnx');
  await expect(page.getByTestId('output-cos')).toHaveAttribute('data-value', /^0\.9\d+/);
});

test('precision edits of a model come back when the same model is opened again', async ({ page }) => {
  const b = new GraphBuilder({ seed: 6 });
  let x = b.input('x', [1, 3, 8, 8]);
  x = b.relu(b.conv(x, 4, 3, { name: 'first' }));
  b.output(b.conv(x, 4, 3, { name: 'second' }));
  const model = { name: 'keep.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(b.toBytes()) };
  await page.goto('/?demo=0');
  await page.getByTestId('pick-model-empty').setInputFiles(model);
  await page.locator('[data-testid=graph-node][data-layer="second"]').click();
  await page.getByTestId('precision-FP16').click();
  await expect(page.getByTestId('precision-FP16')).toHaveAttribute('aria-checked', 'true');

  // Without the saved session (?session=0: e2e/session.spec.ts tests that), opening the same model again offers its QTable.
  await page.goto('/?demo=0&session=0');
  await page.getByTestId('pick-model-empty').setInputFiles(model);
  await expect(page.getByTestId('message-info')).toContainText('Restored 1 precision setting from your last session on keep.onnx');
  await expect(page.locator('[data-testid=graph-badge][data-layer="second"]')).toHaveText('FP16');
  await page.getByTestId('undo').click();
  await expect(page.locator('[data-testid=graph-badge][data-layer="second"]')).toHaveCount(0);
});
