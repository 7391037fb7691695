import * as Comlink from 'comlink';
import { browserImageDecoder } from './browserImageDecoder';
import { FaultInjector, faultSpecOf, parseFault } from './faults';
import { answerPings } from './liveness';
import { ortWebGpuEngine, hasWebGpuAdapter } from './ortWebGpuEngine';
import { ortWebWasmEngine } from './ortWebEngine';
import { BrowserSearchPools } from './searchPool';
import { WorkbenchService, type ProgressCallback } from './WorkbenchService';
import { ENGINE_JOBS, type JobArgs, type JobName, type JobResult } from './jobs';
import type { JobEvent } from '../src/core/jobs/JobEvent';

// The page pings this worker while it waits on a call, to tell a busy worker from a dead one (liveness.ts).
answerPings();

// The page's ?fault= when a test set one (faults.ts): this worker's own, and the search workers' to pass on.
const faultSpec = faultSpecOf(self.name);
const faults = new FaultInjector(parseFault(faultSpec, 'compute'));

/** The page's compute worker: every model load, calibration, evaluation and export runs here. */
class WorkerApi extends WorkbenchService {
  override async run<N extends JobName>(name: N, args: JobArgs<N>, jobId?: string, onProgress?: ProgressCallback, onEvent?: (event: JobEvent) => void): Promise<JobResult<N>> {
    const result = await super.run(name, args, jobId, onProgress, onEvent);
    // An exported model's bytes move to the page instead of being copied.
    const bytes = (result as { bytes?: unknown } | null)?.bytes;
    return bytes instanceof Uint8Array ? Comlink.transfer(result, [bytes.buffer as ArrayBuffer]) : result;
  }

  protected override jobStarted(name: JobName): void {
    // A test's fault counts from the first job that runs the engine over the data (the demo's calibration).
    if (ENGINE_JOBS.has(name)) faults.jobStarted(name);
  }
}

let wasm: ReturnType<typeof ortWebWasmEngine> | undefined;
let webgpu: ReturnType<typeof ortWebGpuEngine> | undefined;
const wasmEngine = async () => (wasm ??= faults.engine(ortWebWasmEngine()));

Comlink.expose(
  new WorkerApi(
    {
      wasm: wasmEngine,
      webgpu: () => (webgpu ??= ortWebGpuEngine().then((engine) => faults.engine(engine))),
    },
    browserImageDecoder,
    hasWebGpuAdapter,
    // One runner of the pool is this worker (on its WASM engine: quantized models run there).
    new BrowserSearchPools(undefined, faultSpec, wasmEngine),
  ),
);

export type { WorkerApi };
