// A Node worker thread of the search pool: registers tsx (as the `qbench` command does) and runs
// the TypeScript runner, which serves one SearchRunner over comlink.
import { register } from 'tsx/esm/api';

register();
await import('./searchWorkerMain.ts');
