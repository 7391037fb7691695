import * as Comlink from 'comlink';
import type { GraphLayout } from '../src/core/layout/layoutGraph';
import type { ModelGraph } from '../src/core/model/ModelGraph';
import type { LayoutWorkerApi } from './layout.worker';

const remotes = new Map<string, Comlink.Remote<LayoutWorkerApi>>();

function remoteFor(lane: string): Comlink.Remote<LayoutWorkerApi> {
  let remote = remotes.get(lane);
  if (!remote) {
    const worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module', name: `qbench-layout${lane === 'model' ? '' : `-${lane}`}` });
    remote = Comlink.wrap<LayoutWorkerApi>(worker);
    remotes.set(lane, remote);
  }
  return remote;
}

/**
 * Lays out a model graph in the layout worker (one per page, created on first use; calls queue in
 * order). The graph goes over by structured clone; the layout comes back the same way.
 */
export function layoutInWorker(graph: ModelGraph): Promise<GraphLayout> {
  return timed('model', graph, remoteFor('model').layout(graph));
}

/**
 * Lays out what the graph view draws when groups are collapsed, in a worker of its own: a
 * 10,000-node model's full layout (seconds) would otherwise hold up its collapsed view (a few
 * hundred boxes, well under a second) in the first worker's queue.
 */
export function layoutViewInWorker(graph: ModelGraph): Promise<GraphLayout> {
  return timed('view', graph, remoteFor('view').layout(graph));
}

/**
 * Each layout leaves a `qbench:layout-<lane>` performance measure (request to answer, the worker's
 * own time and the node count in `detail`): the benchmark reads them to split pick-to-graph time.
 */
function timed(lane: string, graph: ModelGraph, pending: Promise<GraphLayout>): Promise<GraphLayout> {
  const start = performance.now();
  return pending.then((layout) => {
    performance.measure(`qbench:layout-${lane}`, { start, detail: { workerMs: layout.elapsedMs, nodes: graph.nodes.length } });
    return layout;
  });
}
