import type { Evaluation } from '../model/Evaluation';
import type { SearchEvent } from '../search/SearchSession';

/**
 * What a job streams to the page before its result: a search's units, configurations and log lines,
 * or an evaluation's first figure (from its first samples, marked `preliminary`) while the rest run.
 */
export type JobEvent = SearchEvent | { readonly type: 'preliminary'; readonly evaluation: Evaluation };
