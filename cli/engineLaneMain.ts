import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlinkNodeAdapter';
import type { Session, SessionOptions } from '../src/core/engine/Engine';
import type { TensorMap } from '../src/core/model/tensor';
import { ortNodeEngine } from './ortNodeEngine';
import { watchedEngine } from './runWatchdog';
import { injectedFault } from './faultInjection';

/** What a lane tells of a session it made: everything of a Session but its calls. */
export type LaneSessionInfo = Omit<Session, 'run' | 'dispose'>;

/**
 * One lane of engineLanes.ts: onnxruntime-node with one intra-op thread in this worker thread,
 * holding the sessions the main thread asks for by id; its runs watched in its own slot.
 */
const data = workerData as { index?: number; watchdog?: { buffer: SharedArrayBuffer; slot: number; limitSeconds: number } } | undefined;
const watched = data?.watchdog ? watchedEngine(ortNodeEngine(1), data.watchdog.buffer, data.watchdog.slot, data.watchdog.limitSeconds) : ortNodeEngine(1);
// QBENCH_LANE_FAULT: the tests' failures, as QBENCH_FAULT for the search workers (faultInjection.ts).
const engine = injectedFault(watched, data?.index ?? 0, process.env.QBENCH_LANE_FAULT);
const sessions = new Map<number, Session>();

const lane = {
  async create(id: number, model: Uint8Array, options: SessionOptions): Promise<LaneSessionInfo> {
    const session = await engine.createSession(model, options);
    sessions.set(id, session);
    return { inputNames: session.inputNames, outputNames: session.outputNames, inputInfo: session.inputInfo, outputInfo: session.outputInfo };
  },
  /**
   * Runs session `id` on `feeds`, whose buffers were moved here and go back with the outputs
   * (engineLanes.ts reuses them): a lane keeps no copy of a sample to be collected later.
   */
  async run(id: number, feeds: TensorMap, fetches?: readonly string[]): Promise<{ readonly outputs: TensorMap; readonly feeds: TensorMap }> {
    const session = sessions.get(id);
    if (!session) throw new Error(`no session ${id} in this lane`);
    const outputs = await session.run(feeds, fetches);
    // The outputs' buffers move to the main thread instead of being copied, and the feeds' go back.
    const buffers = [...new Set([...Object.values(outputs), ...Object.values(feeds)].map((t) => (t.data as ArrayBufferView).buffer as ArrayBuffer))];
    return Comlink.transfer({ outputs, feeds }, buffers);
  },
  async dispose(id: number): Promise<void> {
    const session = sessions.get(id);
    sessions.delete(id);
    await session?.dispose();
  },
};
export type EngineLane = typeof lane;

Comlink.expose(lane, nodeEndpoint(parentPort!));
