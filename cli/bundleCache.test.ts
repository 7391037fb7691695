import { mkdirSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runQbench } from '../test/support/runQbench';
// @ts-expect-error -- a plain ES module of the launcher (no types): it runs before any TypeScript loader
import { bundlePath, ensureBundles, importCliEntry, isFresh } from './bundleCache.js';

/** Writes a source dated `secondsAgo`: a file saved during a build (newer than its start) leaves no stamp, by design. */
function writeSource(path: string, text: string, secondsAgo: number): void {
  writeFileSync(path, text);
  const at = (Date.now() - secondsAgo * 1000) / 1000;
  utimesSync(path, at, at);
}

/** A folder with one entry point, main.ts, importing dep.ts. */
function sources(value: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'qbench-bundle-'));
  writeSource(join(dir, 'main.ts'), "import { value } from './dep.ts';\nexport const answer: string = value;\n", 20);
  writeSource(join(dir, 'dep.ts'), `export const value: string = '${value}';\n`, 20);
  return dir;
}

/** Imports a bundle afresh (a new URL each time: Node keeps the modules it has imported). */
const load = async (dir: string) => ((await import(`${bundlePath(dir, 'main')}?${Math.random()}`)) as { answer: string }).answer;

describe('the CLI bundle cache (bundleCache.js)', () => {
  it('builds a bundle of the sources once, reuses it while they are unchanged, and builds again after an edit', async () => {
    const dir = sources('first');
    expect(isFresh(dir, ['main'])).toBe(false);
    expect(await ensureBundles(dir, ['main'])).toBe(true);
    expect(await load(dir)).toBe('first');
    const built = statSync(bundlePath(dir, 'main')).mtimeMs;
    expect(isFresh(dir, ['main'])).toBe(true);
    expect(await ensureBundles(dir, ['main'])).toBe(true);
    expect(statSync(bundlePath(dir, 'main')).mtimeMs).toBe(built);

    // An imported file (not the entry) edited: the stamp lists it, so the bundle is stale.
    writeSource(join(dir, 'dep.ts'), "export const value: string = 'second, longer';\n", 10);
    expect(isFresh(dir, ['main'])).toBe(false);
    expect(await ensureBundles(dir, ['main'])).toBe(true);
    expect(await load(dir)).toBe('second, longer');
    // No temporary file is left beside the bundle.
    expect(readdirSync(dir).sort()).toEqual(['bundle.stamp.json', 'dep.ts', 'main.bundle.mjs', 'main.ts']);
  });

  it('a source saved while the bundle was built leaves it unstamped, so the next start builds again', async () => {
    const dir = sources('saved meanwhile');
    writeSource(join(dir, 'dep.ts'), "export const value: string = 'saved meanwhile';\n", -5);
    expect(await ensureBundles(dir, ['main'])).toBe(true);
    expect(await load(dir)).toBe('saved meanwhile');
    expect(isFresh(dir, ['main'])).toBe(false);
  });

  it('where no bundle can be written, the entry runs from its sources through tsx', async () => {
    const dir = sources('from source');
    // A folder where the bundle would go: the rename fails, as in a read-only install.
    mkdirSync(join(bundlePath(dir, 'main'), 'blocked'), { recursive: true });
    expect(await ensureBundles(dir, ['main'])).toBe(false);
    const entry = (await importCliEntry('main', dir, ['main'])) as { answer: string };
    expect(entry.answer).toBe('from source');
    expect(readdirSync(dir).filter((f: string) => f.startsWith('.'))).toEqual([]);
  });

  it('the qbench command leaves its bundle current for the next start', async () => {
    const run = await runQbench(['eval']);
    expect(run.code).toBe(2);
    expect(isFresh(import.meta.dirname)).toBe(true);
  });
});
