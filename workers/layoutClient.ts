import * as Comlink from 'comlink';
import type { GraphLayout } from '../src/core/layout/layoutGraph';
import type { ModelGraph } from '../src/core/model/ModelGraph';
import type { LayoutWorkerApi } from './layout.worker';

let remote: Comlink.Remote<LayoutWorkerApi> | undefined;

/**
 * Lays out a model graph in the layout worker (one per page, created on first use; calls queue in
 * order). The graph goes over by structured clone; the layout comes back the same way.
 */
export function layoutInWorker(graph: ModelGraph): Promise<GraphLayout> {
  if (!remote) {
    const worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module', name: 'qbench-layout' });
    remote = Comlink.wrap<LayoutWorkerApi>(worker);
  }
  return remote.layout(graph);
}
