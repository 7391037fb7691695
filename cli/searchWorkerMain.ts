import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlinkNodeAdapter';
import { PoolWorker } from '../src/core/search/pool/PoolWorker';
import { ortNodeEngine } from './ortNodeEngine';
import { injectedFault } from './faultInjection';
import { watchedEngine } from './runWatchdog';

// One runner per worker thread, on onnxruntime-node with one intra-op thread (the pool uses the other cores).
const data = workerData as { index?: number; watchdog?: { buffer: SharedArrayBuffer; slot: number; limitSeconds: number } } | undefined;
const index = data?.index ?? 0;
const watched = data?.watchdog ? watchedEngine(ortNodeEngine(1), data.watchdog.buffer, data.watchdog.slot, data.watchdog.limitSeconds) : ortNodeEngine(1);
Comlink.expose(new PoolWorker(injectedFault(watched, index, process.env.QBENCH_FAULT)), nodeEndpoint(parentPort!));
