import * as Comlink from 'comlink';
import { PoolWorker } from '../src/core/search/pool/PoolWorker';
import { FaultInjector, faultSpecOf, parseFault } from './faults';
import { answerPings } from './liveness';
import { ortWebWasmEngine } from './ortWebEngine';

// A pool worker of the page: one SearchRunner on its own onnxruntime-web (WASM, one thread), fed
// its context once per search session by the compute worker (workers/searchPool.ts), which pings
// it while it waits on a call (liveness.ts).
answerPings();

// "qbench-search-<k>" (k from 1), with the page's ?fault= when the test set one (faults.ts).
const index = Number(/^qbench-search-(\d+)/.exec(self.name)?.[1] ?? 1) - 1;
const faults = new FaultInjector(parseFault(faultSpecOf(self.name), index));

/** The runner, with an injected fault armed by the first search call (not by the page's output evaluations). */
class SearchWorker extends PoolWorker {
  override rankChunk(...args: Parameters<PoolWorker['rankChunk']>) {
    faults.jobStarted();
    return super.rankChunk(...args);
  }

  override scoreQTables(...args: Parameters<PoolWorker['scoreQTables']>) {
    faults.jobStarted();
    return super.scoreQTables(...args);
  }

  override localChunk(...args: Parameters<PoolWorker['localChunk']>) {
    faults.jobStarted();
    return super.localChunk(...args);
  }
}

Comlink.expose(new SearchWorker(faults.engine(ortWebWasmEngine(1))));
