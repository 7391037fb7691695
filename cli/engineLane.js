// A Node worker thread of the CLI's engine lanes (engineLanes.ts): loads the TypeScript lane (from
// the bundle the `qbench` command keeps current, or through tsx: bundleCache.js).
import { importCliEntry } from './bundleCache.js';

await importCliEntry('engineLaneMain');
