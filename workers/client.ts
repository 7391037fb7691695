import * as Comlink from 'comlink';
import { QbenchError } from '../src/core/errors';
import { nameWithFault } from './faults';
import { connectLiveness } from './liveness';
import type { WorkerApi } from './qbench.worker';
import type { JobArgs, JobName, JobResult } from './jobs';
import type { JobProgress } from '../src/core/jobs/Job';
import type { SearchEvent } from '../src/core/search/SearchSession';

export type WorkbenchClient = Comlink.Remote<WorkerApi>;
// The worker's data types, for the page's state layer (it reaches the worker through this module only).
export type { Capabilities, EngineKind, FileSource, ModelSummary, OpenOptions } from './WorkbenchService';
export type { JobArgs, JobName, JobResult } from './jobs';

/**
 * Runs a job of workers/jobs.ts on the compute worker: the page's one call into it. `jobId`,
 * `onProgress` and `onEvent` (comlink proxies) for jobs the job bar shows; none for quick questions.
 */
export function runOnWorker<N extends JobName>(name: N, args: JobArgs<N>, jobId?: string, onProgress?: (progress: JobProgress) => void, onEvent?: (event: SearchEvent) => void): Promise<JobResult<N>> {
  // comlink's Remote type drops the generic of `run`: the call is typed here once.
  const run = workbenchClient().run as unknown as (...args: unknown[]) => Promise<JobResult<N>>;
  return run(name, args, jobId, onProgress, onEvent);
}

/** A job without the job bar: settings and quick questions. */
export function call<N extends JobName>(name: N, args: JobArgs<N>): Promise<JobResult<N>> {
  return runOnWorker(name, args);
}

/**
 * How long the compute worker may leave a ping unanswered while a call waits on it. More than the
 * search workers get (searchPool.ts): opening a big model (parsing it, onnxruntime creating its
 * session) holds this worker's thread in one piece, and a worker wrongly given up takes the user's
 * session with it.
 */
const COMPUTE_WORKER_SILENCE_MS = 30_000;

/**
 * Says what the page does about a lost compute worker and returns the message every call that
 * waited on it fails with. Called once per lost worker, after it was ended and before those calls fail.
 */
export type LossHandler = (reason: string) => string;

let onLoss: LossHandler = (reason) => `The compute worker stopped (${reason}): the open model and its calibration are lost; open the model again`;

/** Sets what the page does when the compute worker fails or goes silent (src/state/actions.ts). */
export function handleComputeWorkerLoss(handler: LossHandler): void {
  onLoss = handler;
}

let client: WorkbenchClient | undefined;
let started = 0;

/**
 * The one compute worker of the page, created on first use, and again on the first use after it
 * was lost: when it fails (an uncaught error, a message that cannot be read) or stops answering (it
 * was closed or crashed: no event tells that, see liveness.ts), it is ended and every call waiting on
 * it fails with the message of `handleComputeWorkerLoss`, so no job stays on screen forever.
 */
export function workbenchClient(): WorkbenchClient {
  client ??= startComputeWorker();
  return client;
}

function startComputeWorker(): WorkbenchClient {
  // A test's injected fault (?fault=, faults.ts) hits the first worker only: the one started after a loss runs clean.
  const fault = ++started === 1 ? new URLSearchParams(globalThis.location?.search ?? '').get('fault') : null;
  const worker = new Worker(new URL('./qbench.worker.ts', import.meta.url), { type: 'module', name: nameWithFault('qbench-compute', fault) });
  const remote = Comlink.wrap<WorkerApi>(worker);
  let reject!: (error: Error) => void;
  const died = new Promise<never>((_, r) => {
    reject = r;
  });
  died.catch(() => {}); // lost while no call waits: the handler tells the user
  let lost = false;
  const lose = (reason: string) => {
    if (lost) return;
    lost = true;
    liveness.stop();
    worker.terminate();
    if (client === guarded) client = undefined;
    reject(new QbenchError(onLoss(reason)));
  };
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    lose(event.message ? `an uncaught error: ${event.message}` : 'it could not start or crashed');
  });
  worker.addEventListener('messageerror', () => lose('a message from it could not be read'));
  const liveness = connectLiveness(worker, { timeoutMs: COMPUTE_WORKER_SILENCE_MS }, () => lose(`no answer for ${COMPUTE_WORKER_SILENCE_MS / 1000} s: it was closed or crashed`));
  // Every method of the remote, each call watched and failing when the worker is lost.
  const guarded = new Proxy({} as WorkbenchClient, {
    get(_, key) {
      if (typeof key !== 'string' || key === 'then') return undefined; // not a thenable
      return (...args: unknown[]) => Promise.race([liveness.watch((remote as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[key](...args)), died]);
    },
  });
  return guarded;
}

export { Comlink };
