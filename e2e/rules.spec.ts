import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { openDemoOnSamples } from './support';

/**
 * Issue #13 item 2 in a real browser, on the demo (PP-OCRv4 det): the table filter takes `op:` and
 * patterns, rules by regex and by op type apply live, the QTable exports as onnxruntime's
 * nodes_to_exclude / TensorQuantOverrides with exactly those layers, and a multi-selection takes a
 * precision in one edit that one Undo takes back.
 */

interface StoreView {
  jobs: Record<string, unknown>;
  past: unknown[];
  rules: { kind: string; value: string; precision: string }[];
  qtable: { layers: Map<string, string> };
  selection: string[];
  model: { graph: { nodes: { name: string; opType: string; outputs: string[] }[] }; layers: { name: string; quantizable: boolean }[] };
}
const store = <T>(page: Page, read: (s: StoreView) => T) => page.evaluate((fn) => new Function('s', `return (${fn})(s)`)((globalThis as unknown as { qbenchState: () => StoreView }).qbenchState()), read.toString()) as Promise<T>;
const idle = (page: Page) => page.waitForFunction(() => Object.keys((globalThis as unknown as { qbenchState: () => StoreView }).qbenchState().jobs).length === 0, undefined, { timeout: 120_000 });
const qtableOf = (page: Page) => store(page, (s) => Object.fromEntries(s.qtable.layers));

const NAME_RULE = '^p2o\\.Conv\\.1\\d$';

test('rules by regex and by op type, exported as TensorQuantOverrides; multi-select, bulk precision and one Undo', async ({ page }) => {
  await openDemoOnSamples(page, 2);
  await page.getByTestId('tab-layers').click();

  // the filter: op:Conv lists Conv layers only; a glob finds p2o.Conv.1x
  await page.getByTestId('table-filter').fill('op:Conv');
  const ops = await page.locator('[data-testid=table-row] .td.op').allTextContents();
  expect(ops.length).toBeGreaterThan(5);
  expect(new Set(ops)).toEqual(new Set(['Conv']));
  await page.getByTestId('table-filter').fill('p2o.Conv.1*');
  await expect(page.locator('[data-testid=table-row][data-layer="p2o.Conv.17"]')).toBeVisible();
  await page.getByTestId('table-filter').fill('');

  // what the rules should set, from the model itself
  const { conv1x, sigmoids } = await store(page, (s) => {
    const quantizable = new Set(s.model.layers.filter((l) => l.quantizable).map((l) => l.name));
    const nodes = s.model.graph.nodes.filter((n) => quantizable.has(n.name));
    return {
      conv1x: nodes.filter((n) => /^p2o\.Conv\.1\d$/.test(n.name)).map((n) => n.name),
      sigmoids: nodes.filter((n) => n.opType === 'Sigmoid').map((n) => ({ name: n.name, outputs: n.outputs })),
    };
  });
  expect(conv1x.length).toBeGreaterThan(3);
  expect(sigmoids.length).toBeGreaterThan(0);

  // rule 1: a name regex -> FP32; rule 2: an op type -> INT16; each applies at once
  await page.getByTestId('rules-toggle').click();
  await page.getByTestId('rule-add').click();
  const first = page.getByTestId('rule').nth(0);
  await first.getByTestId('rule-kind').selectOption('name');
  await first.getByTestId('rule-value').fill(NAME_RULE);
  await expect(page.getByTestId('rule').nth(0).getByTestId('rule-matches')).toHaveAttribute('data-count', String(conv1x.length));
  await page.getByTestId('rule').nth(0).getByTestId('rule-value').press('Enter');
  await page.getByTestId('rule-add').click();
  const second = page.getByTestId('rule').nth(1);
  await second.getByTestId('rule-value').fill('Sigmoid');
  await second.getByTestId('rule-value').press('Enter');
  await page.getByTestId('rule').nth(1).getByTestId('rule-precision').selectOption('INT16');
  await expect.poll(() => store(page, (s) => s.rules.map((r) => `${r.kind}:${r.value}:${r.precision}`))).toEqual([`name:${NAME_RULE}:FP32`, 'op:Sigmoid:INT16']);
  const expected = Object.fromEntries([...conv1x.map((n) => [n, 'FP32']), ...sigmoids.map((n) => [n.name, 'INT16'])]);
  await expect.poll(() => qtableOf(page)).toEqual(expected);
  await idle(page);

  // exported as onnxruntime's configuration: the same layers excluded, the Sigmoids' tensors 16-bit
  await page.getByTestId('tab-export').click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-ort').click()]);
  const config = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { nodes_to_exclude: string[]; extra_options: { TensorQuantOverrides: Record<string, { quant_type: string }[]> } };
  expect(new Set(config.nodes_to_exclude)).toEqual(new Set(conv1x));
  // natural order: p2o.Conv.9 would come before p2o.Conv.10
  expect(config.nodes_to_exclude).toEqual([...conv1x].sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop())));
  const overridden = config.extra_options.TensorQuantOverrides;
  for (const s of sigmoids) for (const t of s.outputs) expect(overridden[t]?.[0].quant_type).toBe('QInt16');
  // every overridden tensor is a Sigmoid's output or input (nothing else is INT16)
  const sigmoidTensors = await store(page, (s) => {
    const names = new Set(s.model.graph.nodes.filter((n) => n.opType === 'Sigmoid').map((n) => n.name));
    return s.model.graph.nodes.filter((n) => names.has(n.name)).flatMap((n) => [...n.outputs, ...(n as unknown as { inputs: string[] }).inputs]);
  });
  for (const tensor of Object.keys(overridden)) expect(sigmoidTensors).toContain(tensor);

  // multi-select: click, Shift-click a range of three Add layers, then Ctrl-click one more
  await page.getByTestId('tab-layers').click();
  await page.getByTestId('table-filter').fill('op:Add');
  await page.getByTestId('sort-name').click();
  const rows = page.locator('[data-testid=table-row]');
  const names = await rows.evaluateAll((els) => els.slice(0, 5).map((el) => el.getAttribute('data-layer')!));
  // on the name: the precision cell holds the row's own control
  const nameOf = (k: number) => rows.nth(k).locator('.td.name');
  await nameOf(0).click();
  await nameOf(2).click({ modifiers: ['Shift'] });
  await nameOf(4).click({ modifiers: ['ControlOrMeta'] });
  await expect(page.getByTestId('selection-count')).toHaveText('4');
  expect(await store(page, (s) => [...s.selection].sort())).toEqual([names[0], names[1], names[2], names[4]].sort());

  const before = await qtableOf(page);
  const steps = await store(page, (s) => s.past.length);
  await page.getByTestId('bulk-FP16').click();
  await expect.poll(() => qtableOf(page)).toEqual({ ...before, [names[0]]: 'FP16', [names[1]]: 'FP16', [names[2]]: 'FP16', [names[4]]: 'FP16' });
  expect(await store(page, (s) => s.past.length)).toBe(steps + 1);
  await expect(rows.nth(1).getByTestId('row-precision')).toHaveValue('FP16');

  // one Undo takes the whole bulk edit back, and the rules stay
  await page.getByTestId('undo').click();
  await expect.poll(() => qtableOf(page)).toEqual(before);
  expect(await store(page, (s) => s.rules.length)).toBe(2);

  // a precision from a row's own control; Reset every override then leaves what the rules give
  await page.getByTestId('clear-selection').click();
  await rows.nth(3).getByTestId('row-precision').selectOption('FP32');
  await expect.poll(async () => (await qtableOf(page))[names[3]]).toBe('FP32');
  await page.getByTestId('reset-precisions').click();
  await expect.poll(() => qtableOf(page)).toEqual(expected);
  await idle(page);
});
