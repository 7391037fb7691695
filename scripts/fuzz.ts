/**
 * The long form of the fuzz suite (docs/fuzzing.md):
 *   npm run fuzz -- --cases 10000 [--seed 1] [--out fuzz-failures] [--engine all|none|N] [--threads 2]
 *   npm run fuzz -- --replay fuzz-failures/fuzz517-x.npy.case.json [more.case.json ...]
 * Prints one JSON summary on stdout (progress on stderr) and exits 1 when any case failed.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { QUICK_OPTIONS, replayCase, runFuzz } from '../test/fuzz/runFuzz';

const { values, positionals } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: 'fuzz-failures' },
    engine: { type: 'string', default: 'all' },
    threads: { type: 'string', default: '2' },
    'load-limit-ms': { type: 'string', default: String(QUICK_OPTIONS.loadLimitMs) },
    'engine-limit-ms': { type: 'string', default: String(QUICK_OPTIONS.engineLimitMs) },
    replay: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

function count(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    process.stderr.write(`fuzz: --${flag} must be a whole number, not "${text}"\n`);
    process.exit(2);
  }
  return n;
}

const limits = { loadLimitMs: count('load-limit-ms', values['load-limit-ms']), engineLimitMs: count('engine-limit-ms', values['engine-limit-ms']) };

if (values.replay) {
  // A folder replays every case written into it.
  const records = positionals.flatMap((p) => statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.case.json')).map((f) => join(p, f)) : [p]);
  const results = [];
  for (const path of records) results.push({ record: path, ...(await replayCase(path, limits)) });
  process.stdout.write(`${JSON.stringify({ replayed: results.length, failed: results.filter((r) => !r.verdict.pass).length, results }, null, 2)}\n`);
  process.exit(results.every((r) => r.verdict.pass) ? 0 : 1);
}

const cases = count('cases', values.cases);
let done = 0;
const summary = await runFuzz({
  cases,
  seed: count('seed', values.seed),
  threads: Math.max(1, count('threads', values.threads)),
  engineCases: values.engine === 'all' ? Infinity : values.engine === 'none' ? 0 : count('engine', values.engine),
  ...limits,
  failureDir: values.out,
  onResult: (result) => {
    if (result.stage === 'load' && ++done % 100 === 0) process.stderr.write(`fuzz: ${done}/${cases} cases\n`);
    if (!result.verdict.pass) process.stderr.write(`fuzz: FAIL ${result.fileName} [${result.stage}] ${result.verdict.failure}: ${result.verdict.detail.slice(0, 300)}\n`);
  },
});
process.stdout.write(`${JSON.stringify(summary, (_, v) => (v === Infinity ? 'all' : v), 2)}\n`);
process.exit(summary.passed ? 0 : 1);
