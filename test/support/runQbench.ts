import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', '..', 'cli', 'qbench.js');

/** What one `qbench` command did: its exit code (or the signal that ended it), its output, its wall time. */
export interface QbenchRun {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs the real `qbench` command (the package's bin, launcher and all) as a user would, from
 * `cwd`, with `env` added to the environment; never throws for a non-zero exit.
 */
export async function runQbench(args: readonly string[], { cwd, env, timeoutMs }: { readonly cwd?: string; readonly env?: Readonly<Record<string, string>>; readonly timeoutMs?: number } = {}): Promise<QbenchRun> {
  const started = performance.now();
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { cwd, maxBuffer: 64 << 20, ...(env ? { env: { ...process.env, ...env } } : {}), ...(timeoutMs ? { timeout: timeoutMs } : {}) });
    return { code: 0, stdout, stderr, ms: performance.now() - started };
  } catch (error) {
    const e = error as { code?: number | string; signal?: string; stdout?: string; stderr?: string };
    return { code: e.code ?? e.signal ?? 'unknown', stdout: e.stdout ?? '', stderr: e.stderr ?? '', ms: performance.now() - started };
  }
}
