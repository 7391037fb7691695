import type { JobContext } from '../jobs/Job';
import type { LayerName } from '../model/ModelGraph';
import { qtableFromData, qtableToData, type QTable } from '../model/QTable';
import { bisection } from './algorithms/bisection';
import { runQtable } from './algorithms/runQtable';
import { searchQtable } from './algorithms/searchQtable';
import { sensitiveLayerSearch } from './algorithms/sensitiveLayer';
import { ruleSearch } from './algorithms/ruleSearch';
import type { SearchContext } from './SearchContext';
import type { SearchPool } from './pool/SearchPool';
import { DEFAULT_METRIC_OF, type SearchRequest } from './SearchRequest';
import { resolveSearchMetric } from './scoring/searchMetric';
import { SearchSession, type SearchEvent, type SearchResult } from './SearchSession';

/** What a search needs from the workbench besides its context and pool. */
export interface SearchHost {
  /** Per-layer error of the all-INT8 model (bisection's auto mode; ONE reads it from a visq file). */
  layerErrors(job: JobContext): Promise<ReadonlyMap<LayerName, number>>;
}

/** Runs one search: the request's algorithm over a session on the pool. */
export async function runSearch(request: SearchRequest, ctx: SearchContext, pool: SearchPool, host: SearchHost, job: JobContext, emit: (event: SearchEvent) => void): Promise<SearchResult> {
  const metric = resolveSearchMetric(request.metric, DEFAULT_METRIC_OF[request.kind], ctx.scoring.specs, ctx.model.graph.outputs.map((o) => o.name));
  const session = new SearchSession(request.kind, ctx, pool, metric, job, emit);
  const base: QTable = qtableFromData(request.base);
  switch (request.kind) {
    case 'sensitive': return sensitiveLayerSearch(session, request.options);
    case 'qtable': return searchQtable(session, base, request.options);
    case 'run_qtable': return runQtable(session, base, request.options);
    case 'bisection': return bisection(session, request.options, request.options.mode === 'auto' ? await host.layerErrors(job) : new Map());
    case 'fp_forward':
    case 'pattern':
    case 'pattern_resolver':
      return ruleSearch(session, base, request);
  }
}

export { qtableToData };
