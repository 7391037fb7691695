// A Node worker thread of the search pool: loads the TypeScript runner (from the bundle the `qbench`
// command keeps current, or through tsx: bundleCache.js), which serves one SearchRunner over comlink.
import { importCliEntry } from './bundleCache.js';

await importCliEntry('searchWorkerMain');
