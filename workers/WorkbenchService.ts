import { CancelledError, QbenchError } from '../src/core/errors';
import type { Engine } from '../src/core/engine/Engine';
import type { ImageDecoder } from '../src/core/io/dataset/loadDataset';
import { CancelToken, jobContext, type JobContext } from '../src/core/jobs/Job';
import type { JobEvent } from '../src/core/jobs/JobEvent';
import type { Workbench } from '../src/core/Workbench';
import { throttled, type Capabilities, type EngineKind, type JobHost, type ProgressCallback, type SearchPools } from './jobSupport';
import { JOBS, type JobArgs, type JobName, type JobResult } from './jobs';

/** How long a cancelled job may take to stop by itself before its search workers are ended. */
const CANCEL_GRACE_MS = 1000;

export type { Capabilities, EngineKind, FileSource, ImportedTable, ModelSummary, OpenOptions, ProgressCallback } from './jobSupport';

/**
 * The worker side of the page: one typed entry point, `run(name, args)`, for every job of the
 * table in jobs.ts (progress, cancel by id, one engine job at a time), plus what the page needs
 * before a model exists (capabilities). Everything returned is plain data; exported model bytes are
 * transferred, not copied (qbench.worker.ts). Adding a job is one entry in jobs.ts and its UI.
 */
export class WorkbenchService implements JobHost {
  bench?: Workbench;
  private readonly jobs = new Map<string, CancelToken>();
  /** Engine work runs one job at a time (a session must not run twice at once); later calls queue. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    readonly engines: Record<EngineKind, () => Promise<Engine>>,
    readonly imageDecoder: ImageDecoder,
    private readonly probeWebGpu: () => Promise<boolean>,
    /** The pool workers searches run on (none: searches run on the compute worker's engine). */
    readonly searchPools?: SearchPools,
  ) {}

  async capabilities(): Promise<Capabilities> {
    return {
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      webgpu: await this.probeWebGpu(),
      threads: globalThis.navigator?.hardwareConcurrency ?? 1,
    };
  }

  /**
   * Runs one job of jobs.ts. `jobId` names it for cancel(); `onProgress` gets throttled progress;
   * `onEvent` streams a search's results (separate arguments: comlink proxies only top-level ones).
   */
  run<N extends JobName>(name: N, args: JobArgs<N>, jobId?: string, onProgress?: ProgressCallback, onEvent?: (event: JobEvent) => void): Promise<JobResult<N>> {
    const token = new CancelToken();
    if (jobId) this.jobs.set(jobId, token);
    const work = JOBS[name] as (host: JobHost, args: JobArgs<N>, job: JobContext, onEvent: (event: JobEvent) => void) => Promise<JobResult<N>>;
    return this.exclusive(async () => {
      this.jobStarted(name);
      const job = jobContext(throttled(onProgress ?? (() => {})), token);
      job.throwIfCancelled(); // cancelled while it waited in the queue
      const result = await work(this, args, job, onEvent ?? (() => {}));
      if (token.cancelled) throw new CancelledError();
      return result;
    }).finally(() => {
      if (jobId) this.jobs.delete(jobId);
    });
  }

  /**
   * Stops a job at its next check (between inferences); unknown ids are ignored. `stopNow` (the
   * user's Cancel): a job still waiting on the search pool a second later is inside a search
   * worker's inference, which nothing else interrupts, so the pool's workers are ended (the next
   * search starts new ones).
   */
  cancel(jobId: string, stopNow = false): void {
    const token = this.jobs.get(jobId);
    if (!token) return;
    token.cancel();
    if (!stopNow) return;
    setTimeout(() => {
      if (this.jobs.get(jobId) === token) this.searchPools?.close(true);
    }, CANCEL_GRACE_MS);
  }

  /** Called as each job starts (the page's compute worker arms a test's injected fault here). */
  protected jobStarted(_name: JobName): void {}

  requireBench(): Workbench {
    if (!this.bench) throw new QbenchError('no model is open');
    return this.bench;
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work, work);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
