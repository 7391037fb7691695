#!/usr/bin/env node
// The `qbench` command. It runs in two processes: this launcher, and the TypeScript CLI in a child
// (from a bundle of its sources that bundleCache.js keeps current, or through tsx: the same core
// sources serve the page, the worker and the command line without a build step). The child can end
// in ways no handler inside it sees: its run watchdog ends it when an inference runs past
// --max_run_seconds (cli/runWatchdog.ts), onnxruntime can abort it, the system can kill it when
// memory runs out. The launcher turns each into one line naming the model, and exit 1 (issue #12):
// never a bare signal, a core dump or nothing at all.
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importCliEntry } from './bundleCache.js';

if (process.env.QBENCH_REPORT_FD === '3') await runCli();
else launch();

function launch() {
  const args = process.argv.slice(2);
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: { ...process.env, QBENCH_REPORT_FD: '3' },
  });
  let report = '';
  child.stdio[3].setEncoding('utf8').on('data', (text) => (report += text));
  let interrupted = null;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      interrupted = signal;
      child.kill(signal);
    });
  }
  child.on('error', (error) => {
    process.stderr.write(`qbench: could not start (${error.message})\n`);
    process.exit(1);
  });
  child.on('close', (code, signal) => {
    if (code !== null) process.exit(code);
    if (interrupted) process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 }[interrupted] ?? 0));
    const timeout = /^timeout (.*)$/m.exec(report);
    const modelAt = args.indexOf('--model');
    const model = modelAt >= 0 && args[modelAt + 1] ? `${basename(args[modelAt + 1])}: ` : '';
    const why = signal === 'SIGKILL'
      ? 'the process was killed (out of memory, or killed from outside)'
      : `the process stopped abnormally (${signal}: a native error in onnxruntime or a bug in qbench; please report it with the command line)`;
    process.stderr.write(`qbench: ${timeout ? timeout[1] : `${model}${why}; nothing more was written`}\n`);
    process.exit(1);
  });
}

async function runCli() {
  // What nothing caught (a library's asynchronous throw) is still one line, never a stack trace (issue #12).
  process.on('uncaughtException', (error) => {
    // oxlint-disable-next-line no-control-regex -- colour codes are what is removed
    const text = String(error instanceof Error ? `${error.name}: ${error.message}` : error).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\s+/g, ' ').trim();
    process.stderr.write(`qbench: unexpected error (${text}); this is a bug in qbench: please report it with the command line\n`);
    process.exit(1);
  });
  // A reader that stops early (`qbench eval ... | head`) is not an error of the model.
  process.stdout.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  const { main } = await importCliEntry('main');
  process.exitCode = await main(process.argv.slice(2));
}
