import { Worker } from 'node:worker_threads';
import type { Engine } from '../src/core/engine/Engine';

/**
 * The CLI's per-inference time limit (issue #12, --max_run_seconds). onnxruntime-node runs an
 * inference on the calling thread and gives it back only when done: a Loop of 2^40 iterations holds
 * the main thread, and its timers, forever, and ending a thread inside onnxruntime aborts the
 * process. So a watchdog thread of its own watches the runs: before each run its thread writes the
 * run's deadline into a shared slot (two atomic stores per run: nothing measurable), and when a
 * deadline passes the watchdog says so on the launcher's report channel (fd 3, qbench.js) and
 * ends the process; the launcher prints the one-line message and exits 1.
 */

/** Slots per process: the main thread, each search worker thread and each engine thread (engineLanes.ts) has one. */
export const WATCHDOG_SLOTS = 65;
/** The last slots are the engine threads' (the calibration pass's): their runs are the main thread's work, told as such. */
export const LANE_SLOTS = 16;

export interface RunWatchdog {
  /** Shared with the search worker threads (workerData), so that their runs are watched too. */
  readonly buffer: SharedArrayBuffer;
  readonly limitSeconds: number;
  stop(): Promise<void>;
}

/** The watchdog for this process; the message names the model file and the step (the command). */
export function startRunWatchdog(limitSeconds: number, fileName: string, step: string): RunWatchdog {
  // Per slot: the deadline (ms since the epoch, 0 when idle), then what runs (WATCHED_WORK's index).
  const buffer = new SharedArrayBuffer(12 * WATCHDOG_SLOTS);
  const thread = new Worker(new URL('./watchdogThread.js', import.meta.url), { workerData: { buffer, limitSeconds, fileName, step, laneSlots: LANE_SLOTS } });
  thread.unref();
  return { buffer, limitSeconds, stop: async () => void (await thread.terminate()) };
}

/** What a slot can be running, as the message says it (the watchdog thread has the same list). */
export const WATCHED_WORK = ['an inference', 'reading the data'] as const;

/** `work` watched in `slot`: past the limit the watchdog ends the process (it may never come back by itself). */
export async function watchedCall<T>(buffer: SharedArrayBuffer, slot: number, limitSeconds: number, what: (typeof WATCHED_WORK)[number], work: () => Promise<T>): Promise<T> {
  const deadlines = new BigInt64Array(buffer, 0, WATCHDOG_SLOTS);
  const kinds = new Int32Array(buffer, 8 * WATCHDOG_SLOTS, WATCHDOG_SLOTS);
  Atomics.store(kinds, slot, WATCHED_WORK.indexOf(what));
  Atomics.store(deadlines, slot, BigInt(Date.now() + limitSeconds * 1000));
  try {
    return await work();
  } finally {
    Atomics.store(deadlines, slot, 0n);
  }
}

/** `engine` with each session creation and inference watched in `slot` of the watchdog's buffer. */
export function watchedEngine(engine: Engine, buffer: SharedArrayBuffer, slot: number, limitSeconds: number): Engine {
  const watched = <T>(work: () => Promise<T>): Promise<T> => watchedCall(buffer, slot, limitSeconds, 'an inference', work);
  return {
    name: engine.name,
    async createSession(model, options) {
      const session = await watched(() => engine.createSession(model, options));
      return {
        inputNames: session.inputNames, outputNames: session.outputNames, inputInfo: session.inputInfo, outputInfo: session.outputInfo,
        dispose: () => session.dispose(),
        run: (feeds, fetches) => watched(() => session.run(feeds, fetches)),
      };
    },
  };
}
