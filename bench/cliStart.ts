/**
 * How long the `qbench` command takes to start: the whole command, launcher and child, refusing a
 * usage error (exit 2, nothing read). From the bundle that cli/bundleCache.js keeps current, from
 * the sources through tsx (QBENCH_FROM_SOURCE=1), alternating in one run; and the first start after
 * an install or an edit, which builds the bundle. `npm run bench -- --sections=cli --node-only`.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runQbench } from '../test/support/runQbench';
import { median, ratio, round } from './figures';

const ROUNDS = 7;
const STAMP = join(import.meta.dirname, '..', 'cli', 'bundle.stamp.json');

export async function benchCliStart() {
  const firstStart: number[] = [];
  const bundled: number[] = [];
  const fromSource: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Without its stamp the bundle counts as stale, as after an edit: this start builds it again.
    rmSync(STAMP, { force: true });
    firstStart.push((await runQbench(['eval'])).ms);
    bundled.push((await runQbench(['eval'])).ms);
    fromSource.push((await runQbench(['eval'], { env: { QBENCH_FROM_SOURCE: '1' } })).ms);
  }
  return {
    rounds: ROUNDS,
    startMs: { bundle: round(median(bundled)), fromSource: round(median(fromSource)), firstStartBuildingTheBundle: round(median(firstStart)) },
    fromSourceVsBundle: ratio(median(fromSource) / median(bundled)),
  };
}
