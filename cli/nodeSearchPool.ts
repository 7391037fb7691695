import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlinkNodeAdapter';
import type { SearchContext } from '../src/core/search/SearchContext';
import type { PoolWorker } from '../src/core/search/PoolWorker';
import { SearchPool } from '../src/core/search/SearchPool';
import { searchContextToData } from '../src/core/search/serialize';

/**
 * A search pool of Node worker threads, one onnxruntime-node session at a time each with one
 * intra-op thread: onnxruntime-node runs one inference at a time per process thread, so worker
 * threads are how a search uses every core. `close()` ends the threads.
 */
export async function nodeSearchPool(ctx: SearchContext, size = Math.max(1, availableParallelism())): Promise<SearchPool & { close(): Promise<void> }> {
  const data = searchContextToData(ctx);
  const workers = Array.from({ length: size }, () => new Worker(new URL('./searchWorker.js', import.meta.url)));
  const ports = workers.map((w) => Comlink.wrap<PoolWorker>(nodeEndpoint(w)));
  await Promise.all(ports.map((p) => p.load(data)));
  const pool = new SearchPool(ports.map((port) => ({
    rankChunk: (units, options, jobId, onResult) => port.rankChunk(units, options, jobId, Comlink.proxy(onResult)),
    scoreQTables: (qtables, table, metric, indices, jobId) => port.scoreQTables(qtables, table, metric, indices, jobId),
    localChunk: (units, jobId, onResult) => port.localChunk(units, jobId, Comlink.proxy(onResult)),
    outputErrors: (qtable, indices, jobId) => port.outputErrors(qtable, indices, jobId),
    cancel: (jobId) => void port.cancel(jobId),
  })));
  return Object.assign(pool, {
    async close() {
      for (const port of ports) port[Comlink.releaseProxy]();
      await Promise.all(workers.map((w) => w.terminate()));
    },
  });
}
