import { Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlinkNodeAdapter';
import type { EngineLane } from './engineLaneMain';
import { LANE_SLOTS, WATCHDOG_SLOTS, type RunWatchdog } from './runWatchdog';
import { errorMessage, QbenchError } from '../src/core/errors';
import { untilLost } from '../src/core/jobs/untilLost';
import type { Engine, Session } from '../src/core/engine/Engine';
import type { TensorMap } from '../src/core/model/tensor';

/** Feed buffers kept for reuse: a few samples' inputs in flight. */
const SPARE_BUFFERS = 16;

/** The distinct buffers under a map's tensors. */
const buffersOf = (tensors: TensorMap): ArrayBuffer[] => [...new Set(Object.values(tensors).map((t) => (t.data as ArrayBufferView).buffer as ArrayBuffer))];

/**
 * onnxruntime-node in `count` worker threads ("lanes"), one intra-op thread each, as one Engine
 * whose sessions run up to `count` inferences at once: each session is made in every lane, and a run
 * goes to the lane with the fewest runs in flight. The calibration pass keeps that many samples
 * running (statisticsPass.ts) while the main thread takes in their statistics; on 2 cores, two
 * one-thread runs and that bookkeeping beat one two-thread run followed by the bookkeeping (README,
 * "Calibration in one pass").
 *
 * The threads start with the first session. A lane that dies fails its runs with a message naming
 * the model, and every later call. The threads hold the process open only while a call is in flight.
 */
export function ortNodeLanes(count: number, modelName: string, watchdog?: Pick<RunWatchdog, 'buffer' | 'limitSeconds'>): Engine & { close(): Promise<void> } {
  interface Lane { readonly worker: Worker; readonly remote: Comlink.Remote<EngineLane>; readonly untilDied: <T>(call: Promise<T>) => Promise<T>; inFlight: number }
  let lanes: Lane[] | null = null;
  let closing = false;
  let nextSession = 0;
  const start = (): Lane[] => Array.from({ length: count }, (_, k) => {
    // The last slots of the watchdog's buffer (the search workers take theirs from slot 1 up).
    const slot = k < LANE_SLOTS ? WATCHDOG_SLOTS - 1 - k : 0;
    const worker = new Worker(new URL('./engineLane.js', import.meta.url), {
      workerData: { index: k, watchdog: watchdog && slot > 0 ? { buffer: watchdog.buffer, slot, limitSeconds: watchdog.limitSeconds } : undefined },
    });
    worker.unref();
    const death = new Promise<never>((_, reject) => {
      worker.once('error', (error) => reject(new QbenchError(`engine thread ${k + 1} of ${count} failed: ${errorMessage(error)}`, modelName)));
      worker.once('exit', (code) => {
        if (!closing) reject(new QbenchError(`engine thread ${k + 1} of ${count} stopped unexpectedly (exit code ${code})`, modelName));
      });
    });
    death.catch(() => {});
    // Not Promise.race with `death`: a reaction per call would keep every run's outputs (untilLost.ts).
    return { worker, remote: Comlink.wrap<EngineLane>(nodeEndpoint(worker)), untilDied: untilLost(death), inFlight: 0 };
  });
  /** `call` on `lane`, the thread holding the process open meanwhile; a dead lane fails it. */
  const onLane = async <T>(lane: Lane, call: () => Promise<T>): Promise<T> => {
    if (lane.inFlight++ === 0) lane.worker.ref();
    try {
      return await lane.untilDied(call());
    } finally {
      if (--lane.inFlight === 0) lane.worker.unref();
    }
  };
  // Buffers for the copies of the feeds that move to a lane: reused, so a lane never holds a copy of a
  // sample for its garbage collector to find later (65 MB less at the peak of the demo's 100 samples).
  const spare: ArrayBuffer[] = [];
  const movedCopy = (feeds: TensorMap): TensorMap => Object.fromEntries(Object.entries(feeds).map(([name, tensor]) => {
    const source = tensor.data as unknown as Uint8Array;
    const at = spare.findIndex((b) => b.byteLength === source.byteLength);
    const buffer = at >= 0 ? spare.splice(at, 1)[0] : new ArrayBuffer(source.byteLength);
    new Uint8Array(buffer).set(new Uint8Array(source.buffer, source.byteOffset, source.byteLength));
    const data = new (tensor.data.constructor as new (buffer: ArrayBuffer) => typeof tensor.data)(buffer);
    return [name, { ...tensor, data }];
  }));
  return {
    name: 'ort-node',
    lanes: count,
    async createSession(model, options = {}): Promise<Session> {
      lanes ??= start();
      const all = lanes;
      const id = nextSession++;
      const made = await Promise.allSettled(all.map((lane) => onLane(lane, () => lane.remote.create(id, model, options))));
      const failed = made.find((m): m is PromiseRejectedResult => m.status === 'rejected');
      if (failed) {
        await Promise.allSettled(all.map((lane) => onLane(lane, () => lane.remote.dispose(id))));
        throw failed.reason;
      }
      const info = (made[0] as PromiseFulfilledResult<Awaited<ReturnType<EngineLane['create']>>>).value;
      return {
        ...info,
        async run(feeds, fetches) {
          const lane = all.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
          const moved = movedCopy(feeds);
          const result = await onLane(lane, () => lane.remote.run(id, Comlink.transfer(moved, buffersOf(moved)), fetches));
          // The feeds' buffers come back with the outputs, for the next run's copies.
          const outputBuffers = new Set(buffersOf(result.outputs));
          for (const buffer of buffersOf(result.feeds)) if (!outputBuffers.has(buffer) && spare.length < SPARE_BUFFERS) spare.push(buffer);
          return result.outputs;
        },
        async dispose() {
          await Promise.allSettled(all.map((lane) => onLane(lane, () => lane.remote.dispose(id))));
        },
      };
    },
    async close() {
      if (!lanes) return;
      closing = true;
      for (const lane of lanes) lane.remote[Comlink.releaseProxy]();
      await Promise.all(lanes.map((lane) => lane.worker.terminate()));
      lanes = null;
    },
  };
}
