import type { Engine } from '../src/core/engine/Engine';
import { failingEngine } from '../src/core/engine/failingEngine';

/**
 * Failures the end-to-end tests inject into the page's workers (the page's counterpart of the CLI's
 * QBENCH_FAULT, cli/faultInjection.ts), to prove that a worker that fails or goes silent ends its
 * job with a message instead of leaving it on screen forever. The page's `?fault=` is one of
 *
 * - `compute:close:<ms>`, `search:<i>:close:<ms>`: the worker closes itself (`self.close()`: no
 *   error event, it just stops answering, as a killed worker does) <ms> after its first job starts;
 *   `compute:close:<ms>@<job>`: after the first job of that name starts (`@evaluate`: mid-evaluation);
 * - `compute:throw:<n>`, `search:<i>:throw:<n>`: the n-th inference from its first job on throws,
 *   as onnxruntime does when a kernel fails.
 *
 * `i` is the search worker's index from 0 (as QBENCH_FAULT counts; the messages number them from 1).
 * A compute worker's job is one of WorkbenchService's jobs (calibrate, evaluate, search...); a search
 * worker's is a search call, not the output evaluations the page also runs on the pool, so that a
 * fault waits for the search the test starts. Only the first workers of a page get the fault (see
 * client.ts and searchPool.ts): the workers started after a loss run clean. Unset in normal use:
 * nothing changes.
 */
export interface WorkerFault {
  readonly kind: 'close' | 'throw';
  /** ms for 'close', the inference's rank (from 1) for 'throw'. */
  readonly argument: number;
  /** The job whose start arms it (a job name of jobs.ts); any engine job when absent. */
  readonly atJob?: string;
}

/** Which worker asks: the compute worker, or search worker `i` (from 0). */
export type FaultTarget = 'compute' | number;

/**
 * The fault `spec` sets for `target`, or null (no spec, another worker's, or not a fault spec).
 * @example parseFault('search:1:throw:2', 1) // { kind: 'throw', argument: 2 }
 * @example parseFault('search:1:throw:2', 0) // null
 */
export function parseFault(spec: string | null | undefined, target: FaultTarget): WorkerFault | null {
  const match = spec ? /^(?:compute|search:(\d+)):(close|throw):(\d+)(?:@(\w+))?$/.exec(spec.trim()) : null;
  if (!match) return null;
  const [, index, kind, argument, atJob] = match;
  const forTarget = index === undefined ? target === 'compute' : target === Number(index);
  return forTarget && Number(argument) > 0 ? { kind: kind as WorkerFault['kind'], argument: Number(argument), ...(atJob ? { atJob } : {}) } : null;
}

// A worker's name is the one thing it can read as its module starts (before any message), so the
// spec travels in it: "qbench-search-2" becomes "qbench-search-2 fault=search:1:close:300".
const MARK = ' fault=';

/** `name` carrying `spec` (unchanged without one). */
export function nameWithFault(name: string, spec: string | null | undefined): string {
  return spec ? `${name}${MARK}${spec}` : name;
}

/** The spec a worker's name carries, or null. */
export function faultSpecOf(name: string): string | null {
  const at = name.indexOf(MARK);
  return at < 0 ? null : name.slice(at + MARK.length);
}

/**
 * Carries out one worker's fault: `engine()` wraps its engine (for 'throw'), `jobStarted()` is
 * called as each job starts and arms the fault at the first. With no fault both do nothing.
 */
export class FaultInjector {
  private armed = false;
  private runs = 0;

  constructor(private readonly fault: WorkerFault | null, private readonly close: () => void = () => globalThis.close()) {}

  engine(engine: Engine): Engine {
    const fault = this.fault;
    if (fault?.kind !== 'throw') return engine;
    return failingEngine(engine, () => this.armed && ++this.runs === fault.argument);
  }

  jobStarted(job?: string): void {
    if (!this.fault || this.armed || (this.fault.atJob !== undefined && job !== this.fault.atJob)) return;
    this.armed = true;
    if (this.fault.kind === 'close') setTimeout(this.close, this.fault.argument);
  }
}
