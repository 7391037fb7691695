import * as Comlink from 'comlink';
import type { SearchContext } from '../src/core/search/SearchContext';
import { CancelledError, QbenchError } from '../src/core/errors';
import { DEFAULT_LIMITS } from '../src/core/io/limits';
import { untilLost } from '../src/core/jobs/untilLost';
import { guardedPort } from '../src/core/search/pool/guardedPort';
import { SearchPool, type RunnerPort } from '../src/core/search/pool/SearchPool';
import { searchContextToData } from '../src/core/search/pool/serialize';
import { PoolWorker } from '../src/core/search/pool/PoolWorker';
import type { Engine } from '../src/core/engine/Engine';
import { nameWithFault } from './faults';
import { connectLiveness, type Liveness } from './liveness';

/**
 * How long a search worker may leave a ping unanswered while a call waits on it, until the page's
 * limit is set: its longest hold of the thread is one session creation or inference of a cut of the model.
 */
const SEARCH_WORKER_SILENCE_MS = DEFAULT_LIMITS.runSeconds * 1000;

interface Member {
  readonly worker: Worker;
  readonly remote: Comlink.Remote<PoolWorker>;
  /** Rejects, with the message the user sees, when the worker fails or goes silent. */
  readonly died: Promise<never>;
  /** A call, or `died`'s error if the worker goes first (untilLost). */
  readonly untilDied: <T>(call: Promise<T>) => Promise<T>;
  readonly liveness: Liveness;
  /** Fails the calls waiting on it with `error` (once). */
  readonly fail: (error: Error) => void;
  dead: boolean;
}

/**
 * The page's search pool, made by the compute worker: one runner per core, each with its own
 * onnxruntime-web, kept for the session and given a new context only when the workbench's changes.
 * One runner is the compute worker itself (`inProcess`: its engine, the context without a copy);
 * the others are Web Workers. A worker costs its own copy of the samples and its own WebAssembly heap
 * (the demo: about 220 MB each), and the compute worker waits on the pool anyway.
 * A worker that fails or stops answering fails the calls waiting on it (the search ends with a
 * message naming the model and the worker) and takes its pool with it: the next search or
 * evaluation starts new workers.
 */
export class BrowserSearchPools {
  private members: Member[] = [];
  private loaded: SearchContext | null = null;
  private pool: SearchPool | null = null;
  private generation = 0;
  private silenceMs = SEARCH_WORKER_SILENCE_MS;
  /** The runner in the compute worker (kept across pools: its what-if values live as long as the samples). */
  private inProcessRunner?: Promise<PoolWorker>;

  constructor(
    private readonly size = Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1),
    /** The page's ?fault= (faults.ts), handed to the first workers only. */
    private readonly faultSpec: string | null = null,
    /** The compute worker's WASM engine: one runner of the pool runs on it, in that thread. */
    private readonly inProcess?: () => Promise<Engine>,
  ) {}

  async poolFor(ctx: SearchContext): Promise<SearchPool> {
    if (this.members.some((m) => m.dead)) this.close();
    if (this.members.length === 0) this.members = this.start(ctx.model.fileName);
    if (this.loaded !== ctx || !this.pool) {
      const local = this.inProcess ? await (this.inProcessRunner ??= this.inProcess().then((engine) => new PoolWorker(engine))) : null;
      local?.loadContext(ctx);
      await this.loadMembers(ctx);
      this.loaded = ctx;
      const inThisThread: RunnerPort[] = local ? [guardedPort(local, new Promise<never>(() => {}))] : [];
      this.pool = new SearchPool([...this.members.map(({ remote, died, liveness }): RunnerPort => guardedPort({
        rankChunk: (units, options, jobId, onResult) => liveness.watch(remote.rankChunk(units, options, jobId, Comlink.proxy(onResult))),
        scoreQTables: (qtables, table, metric, indices, jobId) => liveness.watch(remote.scoreQTables(qtables, table, metric, indices, jobId)),
        localChunk: (units, jobId, onResult) => liveness.watch(remote.localChunk(units, jobId, Comlink.proxy(onResult))),
        outputErrors: (qtable, indices, jobId, onSample) => liveness.watch(remote.outputErrors(qtable, indices, jobId, onSample && Comlink.proxy(onSample))),
        layerSums: (qtable, indices, jobId) => liveness.watch(remote.layerSums(qtable, indices, jobId)),
        noteQTable: (qtable, depth) => liveness.watch(remote.noteQTable(qtable, depth)),
        localSums: (qtable, indices, jobId) => liveness.watch(remote.localSums(qtable, indices, jobId)),
        cancel: (jobId) => void remote.cancel(jobId),
      }, died)), ...inThisThread]);
    }
    return this.pool;
  }

  /**
   * Sends the context to the workers. A method of its own so that the copy it sends (the model's
   * bytes) is not in the scope of the pool's closures below, which would keep it as long as the pool.
   */
  private async loadMembers(ctx: SearchContext): Promise<void> {
    const data = searchContextToData(ctx);
    await Promise.all(this.members.map((m) => m.untilDied(m.liveness.watch(m.remote.load(data)))));
  }

  /** The per-inference time limit (the page's Limits → Seconds per inference), for the workers to come. */
  setRunTimeLimit(seconds: number): void {
    this.silenceMs = seconds * 1000;
  }

  /**
   * Ends the workers (a new model: their contexts are of the old one; or one of them died; or a
   * cancelled search is still inside an inference). `cancelled`: the calls waiting on them end as
   * cancelled instead of waiting forever.
   */
  close(cancelled = false): void {
    for (const { worker, liveness, fail } of this.members) {
      liveness.stop();
      worker.terminate();
      if (cancelled) fail(new CancelledError());
    }
    this.members = [];
    this.loaded = null;
    this.pool = null;
  }

  private start(model: string): Member[] {
    // An injected fault hits the first workers only, so that the search after the failure runs clean.
    const fault = ++this.generation === 1 ? this.faultSpec : null;
    const count = this.inProcess ? this.size - 1 : this.size;
    return Array.from({ length: count }, (_, k) => {
      const worker = new Worker(new URL('./search.worker.ts', import.meta.url), { type: 'module', name: nameWithFault(`qbench-search-${k + 1}`, fault) });
      let reject!: (error: Error) => void;
      const died = new Promise<never>((_, r) => {
        reject = r;
      });
      died.catch(() => {}); // rejected while no call waits: nothing to report until one comes
      const lost = (what: string) => {
        if (member.dead) return;
        member.dead = true;
        member.liveness.stop();
        worker.terminate();
        reject(new QbenchError(`search worker ${k + 1} of ${count} ${what}; the next search starts new workers`, model));
      };
      worker.addEventListener('error', (event) => {
        // Handled here: unhandled, a nested worker's error is reported again in the compute
        // worker, whose own 'error' the page takes for the compute worker's failure (client.ts).
        event.preventDefault();
        lost(`failed: ${event.message || 'the worker stopped'}`);
      });
      worker.addEventListener('messageerror', () => lost('sent a message that could not be read'));
      const liveness = connectLiveness(
        worker,
        { timeoutMs: this.silenceMs },
        () => lost(`stopped answering (no answer for ${this.silenceMs / 1000} s: an inference ran past the limit of ${this.silenceMs / 1000} s per inference, or it hangs)`),
        () => lost('ended (closed, killed or out of memory)'),
      );
      const member: Member = { worker, remote: Comlink.wrap<PoolWorker>(worker), died, untilDied: untilLost(died), liveness, fail: (error) => reject(error), dead: false };
      return member;
    });
  }
}
