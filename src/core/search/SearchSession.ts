import type { CalibrationMethod } from '../model/CaliTable';
import type { JobContext } from '../jobs/Job';
import { weightBytes } from '../quant/modelSize';
import { qtableToData, type QTable, type QTableData } from '../model/QTable';
import type { SearchContext } from './SearchContext';
import type { SearchPool } from './pool/SearchPool';
import type { TableChoice } from './pool/SearchRunner';
import { lossOf, meetsTarget, type SearchMetric } from './scoring/searchMetric';
import { unitCosts, type UnitSensitivity } from './scoring/sensitivity';
import { quantUnits, unitEntries, type QuantUnit } from './scoring/units';

export type SearchKind = 'sensitive' | 'qtable' | 'run_qtable' | 'bisection' | 'fp_forward' | 'pattern' | 'pattern_resolver';

/** A configuration a search scored: a point of the Pareto view (score against weight bytes). */
export interface VisitedConfiguration {
  readonly id: number;
  readonly search: SearchKind;
  /** What it is, in the search's terms ("top 3 units float", "depth <= 12 INT16"). */
  readonly label: string;
  readonly qtable: QTableData;
  readonly score: number;
  /** Plain output cosine, whatever the search's metric: the Pareto view's common y axis. */
  readonly outputCos: number;
  readonly weightBytes: number;
  /**
   * Set when the configuration was scored with this method's thresholds on every tensor instead of
   * the table in use (search_qtable's op-type prefilter): applying it exactly means that table too.
   */
  readonly method?: CalibrationMethod;
}

/** What a running search reports as it goes (the page streams these into the graph and the panel). */
export type SearchEvent =
  | { readonly type: 'sensitivity'; readonly result: UnitSensitivity }
  | { readonly type: 'visited'; readonly configuration: VisitedConfiguration }
  | { readonly type: 'log'; readonly line: string };

/** The answer of a search. */
export interface SearchResult {
  readonly kind: SearchKind;
  readonly metric: SearchMetric;
  readonly qtable: QTableData;
  readonly score: number;
  /** Score of the all-INT8 model (and of all-INT16 for bisection), for comparison. */
  readonly baselines: Readonly<Record<string, number>>;
  readonly target: number | null;
  readonly met: boolean;
  readonly ranking: readonly UnitSensitivity[];
  readonly visited: readonly VisitedConfiguration[];
  /** The steps, as the toolchains print them. */
  readonly log: readonly string[];
  readonly elapsedMs: number;
  /** Time the sensitivity ranking took (searches that rank), for the benchmark's ratio to the naive loop. */
  readonly rankingMs: number | null;
  readonly sampleCount: number;
  readonly runners: number;
}

let configurationIds = 0;

/**
 * One search run: the pool, the metric, the units, and the record of every configuration scored
 * (for the Pareto view) and every line logged. Searches are written against this, so each one reads
 * like its toolchain's pseudocode.
 */
export class SearchSession {
  readonly units: QuantUnit[];
  readonly visited: VisitedConfiguration[] = [];
  readonly lines: string[] = [];
  readonly started = performance.now();
  private readonly scored = new Map<string, number>();
  private rankingMs: number | null = null;

  constructor(
    readonly kind: SearchKind,
    readonly ctx: SearchContext,
    readonly pool: SearchPool,
    readonly metric: SearchMetric,
    readonly job: JobContext,
    private readonly emit: (event: SearchEvent) => void,
  ) {
    this.units = quantUnits(ctx.model.graph, ctx.layers);
  }

  log(line: string): void {
    this.lines.push(line);
    this.emit({ type: 'log', line });
  }

  loss(score: number): number {
    return lossOf(this.metric.kind, score);
  }

  meets(score: number, target: number): boolean {
    return meetsTarget(this.metric.kind, score, target);
  }

  /**
   * Scores configurations (samples split across the pool) and records them. A configuration scored
   * before in this session is not run again (a bisection may come back to a cut it tried).
   */
  async score(configurations: readonly { label: string; qtable: QTable }[], table: TableChoice = 'active'): Promise<number[]> {
    const keys = configurations.map((c) => configurationKey(c.qtable, table));
    const fresh = configurations.filter((_, i) => !this.scored.has(keys[i]) && keys.indexOf(keys[i]) === i);
    const freshScores = fresh.length ? await this.pool.score(fresh.map((c) => c.qtable), table, this.metric, this.ctx.samples.samples.length, this.job) : [];
    fresh.forEach((c, i) => this.scored.set(configurationKey(c.qtable, table), freshScores[i].score));
    const scores = keys.map((k) => this.scored.get(k)!);
    fresh.forEach((c, i) => {
      const configuration: VisitedConfiguration = {
        id: ++configurationIds, search: this.kind, label: c.label, qtable: qtableToData(c.qtable), score: freshScores[i].score, outputCos: freshScores[i].cos,
        weightBytes: weightBytes(this.ctx.model, this.ctx.layers, c.qtable, this.ctx.scheme),
        ...(table === 'active' ? {} : { method: table.method }),
      };
      this.visited.push(configuration);
      this.emit({ type: 'visited', configuration });
    });
    return scores;
  }

  async scoreOne(label: string, qtable: QTable, table: TableChoice = 'active'): Promise<number> {
    return (await this.score([{ label, qtable }], table))[0];
  }

  /** run_sensitive_layer's ranking of `units`, streamed as each unit is known. */
  async rank(units: readonly QuantUnit[], methods: readonly CalibrationMethod[]): Promise<UnitSensitivity[]> {
    const started = performance.now();
    const ranking = await this.pool.rank(unitCosts(this.ctx, units), { methods, metric: this.metric }, this.job, (result) => this.emit({ type: 'sensitivity', result }));
    this.rankingMs = performance.now() - started;
    return ranking;
  }

  result(fields: Pick<SearchResult, 'qtable' | 'score' | 'baselines' | 'target' | 'met'> & { ranking?: readonly UnitSensitivity[] }): SearchResult {
    return {
      kind: this.kind, metric: this.metric, ranking: [], ...fields, visited: this.visited, log: this.lines,
      elapsedMs: performance.now() - this.started, rankingMs: this.rankingMs, sampleCount: this.ctx.samples.samples.length, runners: this.pool.size,
    };
  }
}

/** A QTable with every layer of some units set to one precision. */
export function withUnits(base: QTable, units: Iterable<QuantUnit>, precision: QTable['defaultPrecision']): QTable {
  const layers = new Map(base.layers);
  for (const unit of units) for (const layer of unitEntries(unit)) {
    if (precision === base.defaultPrecision) layers.delete(layer);
    else layers.set(layer, precision);
  }
  return { defaultPrecision: base.defaultPrecision, layers };
}

/** Ranking order: the most sensitive first (ties by graph order, so the order is reproducible). */
export function bySensitivity(a: UnitSensitivity, b: UnitSensitivity): number {
  return b.best.loss - a.best.loss || a.position - b.position;
}

function configurationKey(qtable: QTable, table: TableChoice): string {
  const layers = [...qtable.layers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([l, p]) => `${l}=${p}`).join(',');
  return `${typeof table === 'string' ? table : table.method}|${qtable.defaultPrecision}|${layers}`;
}

/**
 * The answer among the configurations a search walks through: the first that reaches the target;
 * when none does, the best scored (a walk that adds float layers is not guaranteed to improve).
 */
export class Candidates {
  private best: { qtable: QTable; score: number; label: string } | null = null;
  private firstMet: { qtable: QTable; score: number; label: string } | null = null;

  constructor(private readonly session: SearchSession, private readonly target: number) {}

  add(label: string, qtable: QTable, score: number): boolean {
    if (!this.best || this.session.loss(score) < this.session.loss(this.best.score)) this.best = { qtable, score, label };
    const met = this.session.meets(score, this.target);
    if (met && !this.firstMet) this.firstMet = { qtable, score, label };
    return met;
  }

  get met(): boolean {
    return this.firstMet !== null;
  }

  answer(): { qtable: QTable; score: number } {
    if (this.firstMet) return this.firstMet;
    if (!this.best) throw new Error('no configuration was scored');
    this.session.log(`the target was not reached: keeping the best configuration tried (${this.best.label}, ${this.best.score})`);
    return this.best;
  }
}
