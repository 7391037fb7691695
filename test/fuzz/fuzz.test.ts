import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { QUICK_OPTIONS, replayCase, runFuzz } from './runFuzz';

/** The quick form for CI (docs/fuzzing.md): the long form is `npm run fuzz -- --cases N`. */
const QUICK_CASES = 1000;
const QUICK_SEED = 1;

const REGRESSIONS = fileURLToPath(new URL('./regressions/', import.meta.url));

describe('fuzz: mutated models, datasets and tables (issue #12, item 7)', () => {
  it(`${QUICK_CASES} cases of seed ${QUICK_SEED}: no abort, no hang, no uncaught error, every refusal a qbench error naming the file`, async () => {
    const summary = await runFuzz({ cases: QUICK_CASES, seed: QUICK_SEED, ...QUICK_OPTIONS });
    const failures = summary.failed.map((f) => `${f.fileName} [${f.stage}] (${f.what}): ${f.verdict.failure}: ${f.verdict.detail}`);
    expect(failures).toEqual([]);
    // The suite must reach past the first check of each loader, or it proves nothing: some cases of each family load.
    for (const format of ['onnx', 'npy', 'cali_table']) expect(summary.byFormat[format]?.loaded ?? 0, format).toBeGreaterThan(0);
    expect(summary.engineRuns).toBeGreaterThan(0);
  }, 120_000);

  // Each file below once crashed a loader or was refused with a raw or unnamed message; its .case.json says what was mutated.
  const records = readdirSync(REGRESSIONS).filter((f) => f.endsWith('.case.json')).sort();
  it.each(records)('regression %s is refused with a named message', async (record) => {
    const result = await replayCase(join(REGRESSIONS, record));
    expect(result.verdict, result.verdict.detail).toMatchObject({ pass: true });
    expect(result.outcome).toBe('refused');
  }, 180_000);
});
