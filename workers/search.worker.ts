import * as Comlink from 'comlink';
import { PoolWorker } from '../src/core/search/PoolWorker';
import { ortWebWasmEngine } from './ortWebEngine';

// A pool worker of the page: one SearchRunner on its own onnxruntime-web (WASM, one thread), fed
// its context once per search session by the compute worker (workers/searchPool.ts).
Comlink.expose(new PoolWorker(ortWebWasmEngine(1)));
