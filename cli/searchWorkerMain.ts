import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlinkNodeAdapter';
import { PoolWorker } from '../src/core/search/pool/PoolWorker';
import { ortNodeEngine } from './ortNodeEngine';
import { injectedFault } from './faultInjection';

// One runner per worker thread, on onnxruntime-node with one intra-op thread (the pool uses the other cores).
const index = (workerData as { index?: number } | undefined)?.index ?? 0;
Comlink.expose(new PoolWorker(injectedFault(ortNodeEngine(1), index, process.env.QBENCH_FAULT)), nodeEndpoint(parentPort!));
