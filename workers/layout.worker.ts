import * as Comlink from 'comlink';
import { layoutGraph, type GraphLayout } from '../src/core/layout/layoutGraph';
import type { ModelGraph } from '../src/core/model/ModelGraph';

/** Graph layout off the main thread: a 2,000-node model takes about a second (layoutGraph.ts). */
const api = {
  layout(graph: ModelGraph): GraphLayout {
    return layoutGraph(graph);
  },
};

export type LayoutWorkerApi = typeof api;

Comlink.expose(api);
