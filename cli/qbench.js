#!/usr/bin/env node
// The `qbench` command: runs the TypeScript CLI through tsx, so the same core sources serve the
// page, the worker and the command line without a separate build step.
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`qbench eval ... | head`) is not an error of the model.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
