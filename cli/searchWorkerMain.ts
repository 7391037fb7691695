import { parentPort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './comlinkNodeAdapter';
import { PoolWorker } from '../src/core/search/PoolWorker';
import { ortNodeEngine } from './ortNodeEngine';

// One runner per worker thread, on onnxruntime-node with one intra-op thread (the pool uses the other cores).
Comlink.expose(new PoolWorker(ortNodeEngine(1)), nodeEndpoint(parentPort!));
