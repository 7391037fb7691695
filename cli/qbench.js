#!/usr/bin/env node
// The `qbench` command: runs the TypeScript CLI through tsx, so the same core sources serve the
// page, the worker and the command line without a separate build step.
import { register } from 'tsx/esm/api';

register();
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
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
