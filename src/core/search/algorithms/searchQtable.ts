import type { CalibrationMethod } from '../../model/CaliTable';
import { isIntegerPrecision, precisionOf, qtableToData, type Precision, type QTable } from '../../model/QTable';
import { twoMeans } from '../scoring/kmeans';
import { bySensitivity, Candidates, withUnits, type SearchResult, type SearchSession } from '../SearchSession';
import type { UnitSensitivity } from '../scoring/sensitivity';
import { unitEntries, type QuantUnit } from '../scoring/units';

/** TPU-MLIR search_qtable's parameters and defaults. */
export interface SearchQtableOptions {
  /** Methods tried per layer (quantize_method_list, default MSE). */
  readonly methods: readonly CalibrationMethod[];
  readonly expected: number;
  readonly maxFloatLayers: number;
  /** k-means (k = 2) on [loss, SQNR] per layer instead of the top-k walk (--cluster). */
  readonly cluster: boolean;
  readonly fpType: Precision;
}

export const SEARCH_QTABLE_DEFAULTS: SearchQtableOptions = { methods: ['mse'], expected: 0.99, maxFloatLayers: 5, cluster: false, fpType: 'FP32' };

/**
 * search_qtable (docs/algorithms.md §5), on top of the current QTable (units it already keeps in float are
 * skipped): an op-type prefilter finds the sensitive operator types (quantizing only that type
 * scores below max(0.999, expected)); only their units are ranked; then the most sensitive go float,
 * one at a time up to max_float_layers, and if that is not enough a binary search finds the smallest
 * count in [max_float_layers, n/5] that reaches `expected`. With `cluster`, the high-loss cluster of
 * a 2-means on [loss, SQNR] goes float instead.
 */
export async function searchQtable(session: SearchSession, base: QTable, options: SearchQtableOptions): Promise<SearchResult> {
  const integerUnits = session.units.filter((u) => unitEntries(u).every((l) => isIntegerPrecision(precisionOf(base, l))));
  const int8 = await session.scoreOne('current QTable', base);
  session.log(`current QTable outputs score: ${int8}`);
  const done = (qtable: QTable, score: number, ranking: readonly UnitSensitivity[] = []) =>
    session.result({ qtable: qtableToData(qtable), score, baselines: { current: int8 }, target: options.expected, met: session.meets(score, options.expected), ranking });
  if (session.meets(int8, options.expected)) {
    session.log('the current QTable already reaches the expected score');
    return done(base, int8);
  }

  const searched = await sensitiveTypes(session, integerUnits, options);
  const ranking = (await session.rank(searched, options.methods)).sort(bySensitivity);
  const units = new Map(searched.map((u) => [u.head, u]));
  const floatTop = (k: number) => withUnits(base, ranking.slice(0, k).map((r) => units.get(r.head)!), options.fpType);

  if (options.cluster) {
    const clusters = twoMeans(ranking.map((r) => [r.best.loss, -r.best.sqnr]));
    const sensitive = ranking.filter((_, i) => clusters[i] === 1).map((r) => units.get(r.head)!);
    session.log(`clustering: ${sensitive.length} of ${ranking.length} units in the high-loss cluster`);
    const qtable = withUnits(base, sensitive, options.fpType);
    return done(qtable, await session.scoreOne(`high-loss cluster (${sensitive.length}) ${options.fpType}`, qtable), ranking);
  }

  const candidates = new Candidates(session, options.expected);
  candidates.add('current QTable', base, int8);
  const scoreTop = async (k: number) => {
    const qtable = floatTop(k);
    const label = `top ${k} ${options.fpType}`;
    const score = await session.scoreOne(label, qtable);
    session.log(`${k} float unit(s): outputs score ${score}`);
    candidates.add(label, qtable, score);
    return session.meets(score, options.expected);
  };
  const answer = () => {
    const { qtable, score } = candidates.answer();
    return done(qtable, score, ranking);
  };
  for (let k = 1; k <= Math.min(options.maxFloatLayers, ranking.length); k++) if (await scoreTop(k)) return answer();
  // Not enough: the smallest count in [max_float_layers, n/5] that reaches the target.
  let lo = options.maxFloatLayers;
  let hi = Math.min(ranking.length, Math.max(lo, Math.floor(session.units.length / 5)));
  if (hi > lo && (await scoreTop(hi))) {
    let smallest = hi;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await scoreTop(mid)) hi = smallest = mid;
      else lo = mid;
    }
    const qtable = floatTop(smallest);
    return done(qtable, await session.scoreOne(`top ${smallest} ${options.fpType}`, qtable), ranking);
  }
  if (hi > lo) session.log(`even ${hi} float units do not reach the expected score`);
  return answer();
}

/**
 * The op-type prefilter: for each operator type among the candidates, the model with only that
 * type quantized; the types scoring below max(0.999, expected) are sensitive, and only their units
 * are searched (all candidates when no type is).
 */
async function sensitiveTypes(session: SearchSession, candidates: readonly QuantUnit[], options: SearchQtableOptions): Promise<QuantUnit[]> {
  const opOf = (u: QuantUnit) => session.ctx.layers.get(u.head)?.opType ?? '';
  const types = [...new Set(candidates.map(opOf))];
  const onlyType = (type: string) => withUnits({ defaultPrecision: 'FP32', layers: new Map() }, candidates.filter((u) => opOf(u) === type), 'INT8');
  const scores = await session.score(types.map((t) => ({ label: `only ${t} quantized`, qtable: onlyType(t) })), { method: options.methods[0] });
  // TPU-MLIR's bar is on a similarity scale; for MAE or SQNR the expected value alone is the bar.
  const similarity = session.metric.kind === 'cos' || session.metric.kind === 'rescaled_cos' || session.metric.kind === 'top1' || session.metric.kind === 'task';
  const bar = similarity ? Math.max(0.999, options.expected) : options.expected;
  const sensitive = new Set(types.filter((t, i) => {
    session.log(`op type ${t}: outputs score ${scores[i]} with only it quantized${session.meets(scores[i], bar) ? '' : ' (sensitive)'}`);
    return !session.meets(scores[i], bar);
  }));
  return sensitive.size ? candidates.filter((u) => sensitive.has(opOf(u))) : [...candidates];
}
