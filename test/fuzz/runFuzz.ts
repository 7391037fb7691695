import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCase, type FuzzCase } from './cases';
import type { Outcome, Stage } from './loaders';
import { HostPool } from './pool';
import { buildSeeds } from './seeds';
import { judge, type FailureKind, type Verdict } from './verdict';

export interface FuzzOptions {
  readonly cases: number;
  readonly seed: number;
  /** Loader hosts (worker threads) running side by side. */
  readonly threads: number;
  /** At most this many model cases that loaded also open in onnxruntime and run once (a child process); Infinity for all. */
  readonly engineCases: number;
  readonly loadLimitMs: number;
  readonly engineLimitMs: number;
  /** Failing cases are written here for replay (the file and a .case.json beside it). */
  readonly failureDir?: string;
  readonly onResult?: (result: CaseResult) => void;
}

export const QUICK_OPTIONS = { threads: 2, engineCases: 40, loadLimitMs: 10_000, engineLimitMs: 20_000 } as const;

export interface CaseResult {
  readonly id: number;
  readonly seedName: string;
  readonly format: string;
  readonly fileName: string;
  readonly what: string;
  readonly stage: Stage;
  readonly outcome: Outcome['status'];
  readonly verdict: Verdict;
}

export interface FuzzSummary {
  readonly seed: number;
  readonly cases: number;
  readonly engineRuns: number;
  readonly seconds: number;
  readonly passed: boolean;
  /** Per format: how many cases loaded, were refused properly, failed. */
  readonly byFormat: Record<string, { loaded: number; refused: number; failed: number }>;
  readonly failures: Record<FailureKind, number>;
  readonly failed: readonly CaseResult[];
  readonly failureDir?: string;
}

/** What a replay needs besides the file: the case without its bytes, and where it failed. */
interface CaseRecord {
  readonly case: Omit<FuzzCase, 'bytes'>;
  readonly stage: Stage;
  readonly verdict: Verdict;
}

function writeFailure(dir: string, c: FuzzCase, stage: Stage, verdict: Verdict): void {
  mkdirSync(dir, { recursive: true });
  const { bytes, ...rest } = c;
  writeFileSync(join(dir, c.fileName), bytes);
  const record: CaseRecord = { case: rest, stage, verdict };
  writeFileSync(join(dir, `${c.fileName}.case.json`), `${JSON.stringify(record, null, 2)}\n`);
}

/** Runs `count` indices through `run`, `width` at a time, in index order of start. */
async function forEachParallel(count: number, width: number, run: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, width) }, async () => {
    while (next < count) await run(next++);
  }));
}

/**
 * Generates `cases` mutated files from the seeds with `seed`, runs each through its loader in a
 * worker thread (and, for up to `engineCases` models that loaded, through onnxruntime in a child
 * process), and judges every outcome. Deterministic in what it generates; only timings vary.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const started = Date.now();
  const seeds = await buildSeeds();
  const loaders = new HostPool('thread', options.threads, options.loadLimitMs);
  const engines = new HostPool('process', 1, options.engineLimitMs);
  const results: CaseResult[] = [];
  let engineRuns = 0;
  const record = (c: FuzzCase, stage: Stage, outcome: Outcome) => {
    const verdict = judge(outcome, c.fileName);
    const result: CaseResult = { id: c.id, seedName: c.seedName, format: c.format, fileName: c.fileName, what: c.what, stage, outcome: outcome.status, verdict };
    results.push(result);
    options.onResult?.(result);
    if (!verdict.pass && options.failureDir) writeFailure(options.failureDir, c, stage, verdict);
    return verdict;
  };
  const engineQueue: Promise<void>[] = [];
  try {
    await forEachParallel(options.cases, options.threads, async (index) => {
      const c = makeCase(options.seed, index, seeds);
      const outcome = await loaders.run(c, 'load');
      const verdict = record(c, 'load', outcome);
      if (c.format === 'onnx' && outcome.status === 'loaded' && verdict.pass && engineRuns < options.engineCases) {
        engineRuns++;
        engineQueue.push(engines.run(c, 'engine').then((o) => void record(c, 'engine', o)));
      }
    });
    await Promise.all(engineQueue);
  } finally {
    await Promise.all([loaders.close(), engines.close()]);
  }
  return summarize(options, results, engineRuns, started);
}

function summarize(options: FuzzOptions, results: readonly CaseResult[], engineRuns: number, started: number): FuzzSummary {
  const byFormat: FuzzSummary['byFormat'] = {};
  const failures = { hang: 0, abort: 0, uncaught: 0, 'raw-error': 0, unnamed: 0, 'bug-text': 0 } satisfies Record<FailureKind, number>;
  for (const r of results) {
    const key = r.stage === 'engine' ? `${r.format}+engine` : r.format;
    const row = (byFormat[key] ??= { loaded: 0, refused: 0, failed: 0 });
    if (!r.verdict.pass) {
      row.failed++;
      failures[r.verdict.failure!]++;
    } else if (r.outcome === 'loaded') row.loaded++;
    else row.refused++;
  }
  const failed = results.filter((r) => !r.verdict.pass).sort((a, b) => a.id - b.id);
  return {
    seed: options.seed,
    cases: options.cases,
    engineRuns,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    passed: failed.length === 0,
    byFormat,
    failures,
    failed,
    ...(options.failureDir && failed.length ? { failureDir: options.failureDir } : {}),
  };
}

/** Runs a failure written by runFuzz again (`<dir>/<file>.case.json` and the file beside it), at the stage it failed in. */
export async function replayCase(recordPath: string, limits: { loadLimitMs: number; engineLimitMs: number } = QUICK_OPTIONS): Promise<CaseResult> {
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as CaseRecord;
  const bytes = new Uint8Array(readFileSync(recordPath.replace(/\.case\.json$/, '')));
  const c: FuzzCase = { ...record.case, bytes };
  const pool = new HostPool(record.stage === 'engine' ? 'process' : 'thread', 1, record.stage === 'engine' ? limits.engineLimitMs : limits.loadLimitMs);
  try {
    const outcome = await pool.run(c, record.stage);
    return { id: c.id, seedName: c.seedName, format: c.format, fileName: c.fileName, what: c.what, stage: record.stage, outcome: outcome.status, verdict: judge(outcome, c.fileName) };
  } finally {
    await pool.close();
  }
}
