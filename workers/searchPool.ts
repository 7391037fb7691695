import * as Comlink from 'comlink';
import type { SearchContext } from '../src/core/search/SearchContext';
import { QbenchError } from '../src/core/errors';
import { guardedPort } from '../src/core/search/guardedPort';
import { SearchPool, type RunnerPort } from '../src/core/search/SearchPool';
import { searchContextToData } from '../src/core/search/serialize';
import type { PoolWorker } from '../src/core/search/PoolWorker';

/**
 * The page's search pool, made by the compute worker: one Web Worker per core, each with its own
 * onnxruntime-web, kept for the session and given a new context only when the workbench's changes.
 */
export class BrowserSearchPools {
  private workers: { worker: Worker; remote: Comlink.Remote<PoolWorker>; died: Promise<never> }[] = [];
  private loaded: SearchContext | null = null;
  private pool: SearchPool | null = null;

  constructor(private readonly size = Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1)) {}

  async poolFor(ctx: SearchContext): Promise<SearchPool> {
    if (this.workers.length === 0) {
      this.workers = Array.from({ length: this.size }, (_, k) => {
        const worker = new Worker(new URL('./search.worker.ts', import.meta.url), { type: 'module', name: `qbench-search-${k + 1}` });
        // A worker that fails (an uncaught error, out of memory) fails its calls instead of leaving them waiting.
        const died = new Promise<never>((_, reject) => {
          worker.addEventListener('error', (event) => reject(new QbenchError(`search worker ${k + 1} of ${this.size} failed: ${event.message || 'the worker stopped'}`, ctx.model.fileName)));
        });
        return { worker, remote: Comlink.wrap<PoolWorker>(worker), died };
      });
    }
    if (this.loaded !== ctx || !this.pool) {
      const data = searchContextToData(ctx);
      await Promise.all(this.workers.map((w) => Promise.race([w.remote.load(data), w.died])));
      this.loaded = ctx;
      this.pool = new SearchPool(this.workers.map(({ remote, died }): RunnerPort => guardedPort({
        rankChunk: (units, options, jobId, onResult) => remote.rankChunk(units, options, jobId, Comlink.proxy(onResult)),
        scoreQTables: (qtables, table, metric, indices, jobId) => remote.scoreQTables(qtables, table, metric, indices, jobId),
        localChunk: (units, jobId, onResult) => remote.localChunk(units, jobId, Comlink.proxy(onResult)),
        outputErrors: (qtable, indices, jobId) => remote.outputErrors(qtable, indices, jobId),
        cancel: (jobId) => void remote.cancel(jobId),
      }, died)));
    }
    return this.pool;
  }

  /** Ends the workers (a new model: their contexts are of the old one). */
  close(): void {
    for (const { worker } of this.workers) worker.terminate();
    this.workers = [];
    this.loaded = null;
    this.pool = null;
  }
}
