import type { StateCreator } from 'zustand';
import type { AppState } from '../store';
import type { SearchKind, SearchResult, VisitedConfiguration } from '../../core/search/SearchSession';
import type { QTable } from '../../core/model/QTable';
import type { SearchRequest } from '../../core/search/SearchRequest';
import type { UnitSensitivity } from '../../core/search/scoring/sensitivity';
import type { FigureBasis } from '../figureBasis';

/** A search being run: what it has found so far, streamed from the pool. */
export interface SearchRun {
  readonly jobId: string;
  readonly request: SearchRequest;
  readonly startedAt: number;
  /** Appended in place as results stream in; `revision` counts the additions. */
  readonly sensitivities: UnitSensitivity[];
  readonly log: string[];
  readonly revision: number;
  /** Set when the search was cancelled or failed: what it found stays on screen, but nothing runs. */
  readonly stopped?: boolean;
}

/** Whether a search is running now (a stopped one only keeps its partial results on screen). */
export const isSearching = (run: SearchRun | null): run is SearchRun => run !== null && !run.stopped;

export interface SearchSlice {
  searchKind: SearchKind;
  /** The form's request per search kind (parameters and metric), kept while switching kinds. */
  searchRequests: Partial<Record<SearchKind, SearchRequest>>;
  searchRun: SearchRun | null;
  searchResult: SearchResult | null;
  /** Every configuration the searches scored for this model and calibration: the Pareto view's points (appended in place). */
  visited: VisitedConfiguration[];
  /** Counts additions to `visited`, for the components that draw it. */
  visitedRevision: number;
  /**
   * What each configuration of `visited` was scored under, by id (filled in place as they arrive):
   * applying one puts its overrides back, and a figure whose settings changed since is marked.
   */
  visitedBasis: Map<number, FigureBasis>;
  /** The QTable before the last search result was applied, to compare with and to go back to. */
  beforeApply: QTable | null;
  setSearchKind: (kind: SearchKind) => void;
}

export const createSearchSlice: StateCreator<AppState, [], [], SearchSlice> = (set) => ({
  searchKind: 'sensitive',
  searchRequests: {},
  searchRun: null,
  searchResult: null,
  visited: [],
  visitedRevision: 0,
  visitedBasis: new Map(),
  beforeApply: null,
  setSearchKind: (searchKind) => set({ searchKind }),
});
