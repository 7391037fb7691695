// Loads the qbench command's TypeScript entry points (main.ts and its worker threads' searchWorkerMain.ts
// and engineLaneMain.ts) fast.
//
// Through tsx, every one of the ~600 modules the command imports is resolved and loaded by a hook on
// another thread: 0.6-0.8 s before the command does anything, in the command and again in each search
// worker thread. One esbuild bundle of the same sources loads in about 0.17 s. The bundle is a cache,
// never a build step: it is written beside these files (so `new URL('./x.js', import.meta.url)` still
// finds watchdogThread.js and searchWorker.js), with a stamp listing every source file it was built
// from and that file's size and mtime. A source edited, added to an import or removed makes the stamp
// stale and the next start builds again (0.4 s). Where the folder cannot be written (a read-only
// install) or esbuild fails, the entry points run through tsx as before.
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The entry points of the command, built together so that they always come from the same sources. */
export const CLI_ENTRIES = ['main', 'searchWorkerMain', 'engineLaneMain'];
const STAMP = 'bundle.stamp.json';

/** `<dir>/<name>.bundle.mjs`: where an entry's bundle lies. */
export const bundlePath = (dir, name) => join(dir, `${name}.bundle.mjs`);

/**
 * Imports entry `name` (`<dir>/<name>.ts`) from its bundle, building the bundles first when a source
 * changed since they were built; through tsx when no bundle can be had.
 */
export async function importCliEntry(name, dir = import.meta.dirname, entries = CLI_ENTRIES) {
  if (process.env.QBENCH_FROM_SOURCE !== '1' && await ensureBundles(dir, entries)) return import(pathToFileURL(bundlePath(dir, name)).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(join(dir, `${name}.ts`)).href);
}

/** True when every entry's bundle is current (built now if it was not); false when it cannot be. */
export async function ensureBundles(dir, entries = CLI_ENTRIES) {
  if (isFresh(dir, entries)) return true;
  try {
    await build(dir, entries);
    return true;
  } catch {
    return false;
  }
}

/** Every source the stamp lists has the size and mtime it had when the bundles were built, and every bundle is there. */
export function isFresh(dir, entries = CLI_ENTRIES) {
  try {
    const stamp = JSON.parse(readFileSync(join(dir, STAMP), 'utf8'));
    if (stamp.entries.join() !== entries.join()) return false;
    for (const name of entries) statSync(bundlePath(dir, name));
    return stamp.inputs.every(([path, size, mtimeMs]) => {
      const s = statSync(path);
      return s.size === size && s.mtimeMs === mtimeMs;
    });
  } catch {
    return false;
  }
}

async function build(dir, entries) {
  const { build: esbuild } = await import('esbuild');
  const startedMs = Date.now();
  // Each process builds into names of its own and renames them into place: two commands started at
  // once both build, and each import sees one whole bundle.
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temporary = entries.map((name) => join(dir, `.${name}.${tag}.mjs`));
  try {
    const result = await esbuild({
      entryPoints: Object.fromEntries(entries.map((name) => [`.${name}.${tag}`, join(dir, `${name}.ts`)])),
      outdir: dir,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // Packages stay imports of node_modules, as under tsx: onnxruntime-node's native binding, h5wasm's wasm.
      packages: 'external',
      metafile: true,
      write: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs).map((path) => {
      const absolute = resolve(path);
      const s = statSync(absolute);
      return [absolute, s.size, s.mtimeMs];
    });
    entries.forEach((name, i) => renameSync(temporary[i], bundlePath(dir, name)));
    // A source saved while esbuild read it would be newer than the bundle: no stamp, so the next start builds again.
    if (inputs.some(([, , mtimeMs]) => mtimeMs >= startedMs)) return;
    const stampTemporary = join(dir, `.${STAMP}.${tag}`);
    writeFileSync(stampTemporary, JSON.stringify({ entries, inputs }));
    renameSync(stampTemporary, join(dir, STAMP));
  } finally {
    for (const path of temporary) rmSync(path, { force: true });
  }
}
