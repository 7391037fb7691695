import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlinkNodeAdapter';
import { LANE_SLOTS, WATCHDOG_SLOTS, type RunWatchdog } from './runWatchdog';
import { errorMessage, QbenchError } from '../src/core/errors';
import type { SearchContext } from '../src/core/search/SearchContext';
import type { PoolWorker } from '../src/core/search/pool/PoolWorker';
import { guardedPort } from '../src/core/search/pool/guardedPort';
import { SearchPool } from '../src/core/search/pool/SearchPool';
import { searchContextToData } from '../src/core/search/pool/serialize';

/** How long close() waits for a worker still inside the engine before ending it anyway. */
const CLOSE_WAIT_MS = 30_000;

/**
 * A search pool of Node worker threads, one onnxruntime-node session at a time each with one
 * intra-op thread: onnxruntime-node runs one inference at a time per process thread, so worker
 * threads are how a search uses every core. A worker that dies fails its calls with a message
 * naming the model; `close()` waits until no worker is inside onnxruntime (terminating a thread
 * during a native call aborts the process), then ends the threads.
 */
export async function nodeSearchPool(ctx: SearchContext, size = Math.max(1, availableParallelism()), watchdog?: Pick<RunWatchdog, 'buffer' | 'limitSeconds'>): Promise<SearchPool & { close(): Promise<void> }> {
  const data = searchContextToData(ctx);
  const model = ctx.model.fileName;
  let closing = false;
  // Each worker's inferences are watched in its own slot of the run watchdog (slot 0 is the main thread's).
  const workers = Array.from({ length: size }, (_, index) => new Worker(new URL('./searchWorker.js', import.meta.url), {
    workerData: { index, watchdog: watchdog && index + 1 < WATCHDOG_SLOTS - LANE_SLOTS ? { buffer: watchdog.buffer, slot: index + 1, limitSeconds: watchdog.limitSeconds } : undefined },
  }));
  const deaths = workers.map((worker, k) => new Promise<never>((_, reject) => {
    worker.once('error', (error) => reject(new QbenchError(`search worker ${k + 1} of ${size} failed: ${errorMessage(error)}`, model)));
    worker.once('exit', (code) => {
      if (!closing) reject(new QbenchError(`search worker ${k + 1} of ${size} stopped unexpectedly (exit code ${code}); the search cannot go on`, model));
    });
  }));
  const remotes = workers.map((w) => Comlink.wrap<PoolWorker>(nodeEndpoint(w)));
  const ports = remotes.map((remote, k) => guardedPort({
    rankChunk: (units, options, jobId, onResult) => remote.rankChunk(units, options, jobId, Comlink.proxy(onResult)),
    scoreQTables: (qtables, table, metric, indices, jobId) => remote.scoreQTables(qtables, table, metric, indices, jobId),
    localChunk: (units, jobId, onResult) => remote.localChunk(units, jobId, Comlink.proxy(onResult)),
    outputErrors: (qtable, indices, jobId, onSample) => remote.outputErrors(qtable, indices, jobId, onSample && Comlink.proxy(onSample)),
    layerSums: (qtable, indices, jobId) => remote.layerSums(qtable, indices, jobId),
    noteQTable: (qtable, depth) => remote.noteQTable(qtable, depth),
    localSums: (qtable, indices, jobId) => remote.localSums(qtable, indices, jobId),
    cancel: (jobId) => void remote.cancel(jobId).catch(() => {}),
  }, deaths[k]));
  const close = async () => {
    const idle = Promise.all(ports.map((p) => p.inFlight()));
    await Promise.race([idle, new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    closing = true;
    for (const remote of remotes) remote[Comlink.releaseProxy]();
    await Promise.all(workers.map((w) => w.terminate()));
  };
  try {
    await Promise.all(remotes.map((remote, k) => Promise.race([remote.load(data), deaths[k]])));
  } catch (error) {
    await close();
    throw error;
  }
  return Object.assign(new SearchPool(ports), { close });
}
