import * as Comlink from 'comlink';
import { CancelledError, QbenchError } from '../src/core/errors';
import { DEFAULT_LIMITS } from '../src/core/io/limits';
import { untilLost } from '../src/core/jobs/untilLost';
import { nameWithFault } from './faults';
import { connectLiveness } from './liveness';
import type { WorkerApi } from './qbench.worker';
import type { JobArgs, JobName, JobResult } from './jobs';
import type { JobProgress } from '../src/core/jobs/Job';
import type { JobEvent } from '../src/core/jobs/JobEvent';

export type WorkbenchClient = Comlink.Remote<WorkerApi>;
// The worker's data types, for the page's state layer (it reaches the worker through this module only).
export type { Capabilities, EngineKind, FileSource, ModelSummary, OpenOptions } from './WorkbenchService';
export type { JobArgs, JobName, JobResult } from './jobs';

/**
 * Runs a job of workers/jobs.ts on the compute worker: the page's one call into it. `jobId`,
 * `onProgress` and `onEvent` (comlink proxies) for jobs the job bar shows; none for quick questions.
 */
export function runOnWorker<N extends JobName>(name: N, args: JobArgs<N>, jobId?: string, onProgress?: (progress: JobProgress) => void, onEvent?: (event: JobEvent) => void): Promise<JobResult<N>> {
  // comlink's Remote type drops the generic of `run`: the call is typed here once.
  const run = workbenchClient().run as unknown as (...args: unknown[]) => Promise<JobResult<N>>;
  return run(name, args, jobId, onProgress, onEvent);
}

/** A job without the job bar: settings and quick questions. */
export function call<N extends JobName>(name: N, args: JobArgs<N>): Promise<JobResult<N>> {
  return runOnWorker(name, args);
}

/**
 * How long the compute worker may leave a ping unanswered while a call waits on it: the per-inference
 * time limit. Generous: opening a big model (parsing it, onnxruntime creating its session) also holds
 * this worker's thread in one piece, and a worker given up is a session built again.
 */
let computeWorkerSilenceMs = DEFAULT_LIMITS.runSeconds * 1000;

/**
 * The page's per-inference time limit (Limits → Seconds per inference): the compute worker's thread
 * is held by one inference at a time, so silence past it means a run over the limit (or a hang).
 */
export function setRunTimeLimit(seconds: number): void {
  computeWorkerSilenceMs = seconds * 1000;
}

/** Why the compute worker is gone: it failed or went silent, or the page ended it (a cancel that could not wait). */
export interface ComputeWorkerLoss {
  readonly reason: string;
  /** The page ended it to stop a cancelled job of this kind: the calls waiting on it are cancelled, not failed. */
  readonly cancelled?: { readonly jobKind: string };
}

/**
 * Says what the page does about a lost compute worker and returns the message every call that
 * waited on it fails with. Called once per lost worker, after it was ended and before those calls fail.
 */
export type LossHandler = (loss: ComputeWorkerLoss) => string;

let onLoss: LossHandler = ({ reason }) => `The compute worker stopped (${reason}): the open model and its calibration are lost; open the model again`;

/** Sets what the page does when the compute worker fails or goes silent (src/state/actions.ts). */
export function handleComputeWorkerLoss(handler: LossHandler): void {
  onLoss = handler;
}

let client: WorkbenchClient | undefined;
let started = 0;
/** Ends the current compute worker on purpose; unset while none runs. */
let endCurrent: ((loss: ComputeWorkerLoss) => void) | undefined;

/**
 * Ends the compute worker now (a cancelled job still inside one inference: nothing else stops it).
 * Its waiting calls are cancelled and the loss handler builds the session again in a new worker.
 */
export function endComputeWorker(reason: string, jobKind: string): void {
  endCurrent?.({ reason, cancelled: { jobKind } });
}

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
  // ?what_if=whole (the benchmark's "before" of issue #15) rides in the name too: the worker has no URL of the page.
  const whole = new URLSearchParams(globalThis.location?.search ?? '').get('what_if') === 'whole';
  const worker = new Worker(new URL('./qbench.worker.ts', import.meta.url), { type: 'module', name: nameWithFault(`qbench-compute${whole ? ' what_if=whole' : ''}`, fault) });
  const remote = Comlink.wrap<WorkerApi>(worker);
  let reject!: (error: Error) => void;
  const died = new Promise<never>((_, r) => {
    reject = r;
  });
  died.catch(() => {}); // lost while no call waits: the handler tells the user
  let lost = false;
  const end = (loss: ComputeWorkerLoss) => {
    if (lost) return;
    lost = true;
    liveness.stop();
    worker.terminate();
    if (client === guarded) client = undefined;
    if (endCurrent === end) endCurrent = undefined;
    const message = onLoss(loss);
    reject(loss.cancelled ? new CancelledError() : new QbenchError(message));
  };
  const lose = (reason: string) => end({ reason });
  endCurrent = end;
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    lose(event.message ? `an uncaught error: ${event.message}` : 'it could not start or crashed');
  });
  worker.addEventListener('messageerror', () => lose('a message from it could not be read'));
  const liveness = connectLiveness(
    worker,
    { get timeoutMs() { return computeWorkerSilenceMs; } },
    () => lose(`no answer for ${computeWorkerSilenceMs / 1000} s: a step held it past the limit of ${computeWorkerSilenceMs / 1000} s per inference, or it hangs; the limit is in Data & calibration → Limits → Seconds per inference`),
    () => lose('it ended: closed, killed or out of memory'),
  );
  // Every method of the remote, each call watched and failing when the worker is lost.
  const untilDied = untilLost(died);
  const guarded = new Proxy({} as WorkbenchClient, {
    get(_, key) {
      if (typeof key !== 'string' || key === 'then') return undefined; // not a thenable
      return (...args: unknown[]) => untilDied(liveness.watch((remote as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[key](...args)));
    },
  });
  return guarded;
}

export { Comlink };
