import * as Comlink from 'comlink';
import type { WorkerApi } from './qbench.worker';

export type WorkbenchClient = Comlink.Remote<WorkerApi>;

let client: WorkbenchClient | undefined;

/** The one compute worker of the page, created on first use. */
export function workbenchClient(): WorkbenchClient {
  if (!client) {
    const worker = new Worker(new URL('./qbench.worker.ts', import.meta.url), { type: 'module', name: 'qbench-compute' });
    client = Comlink.wrap<WorkerApi>(worker);
  }
  return client;
}

export { Comlink };
