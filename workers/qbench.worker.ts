import * as Comlink from 'comlink';
import { browserImageDecoder } from './browserImageDecoder';
import { ortWebGpuEngine, hasWebGpuAdapter } from './ortWebGpuEngine';
import { ortWebWasmEngine } from './ortWebEngine';
import { BrowserSearchPools } from './searchPool';
import { WorkbenchService } from './WorkbenchService';

/** The page's compute worker: every model load, calibration, evaluation and export runs here. */
class WorkerApi extends WorkbenchService {
  override async exportQdq(...args: Parameters<WorkbenchService['exportQdq']>) {
    const result = await super.exportQdq(...args);
    return Comlink.transfer(result, [result.bytes.buffer as ArrayBuffer]);
  }
}

let wasm: ReturnType<typeof ortWebWasmEngine> | undefined;
let webgpu: Promise<Awaited<ReturnType<typeof ortWebGpuEngine>>> | undefined;

Comlink.expose(
  new WorkerApi(
    {
      wasm: async () => (wasm ??= ortWebWasmEngine()),
      webgpu: () => (webgpu ??= ortWebGpuEngine()),
    },
    browserImageDecoder,
    hasWebGpuAdapter,
    new BrowserSearchPools(),
  ),
);

export type { WorkerApi };
