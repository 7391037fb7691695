import { indexGraph } from '../../model/ModelGraph';
import { isIntegerPrecision, precisionOf, qtableToData, type Precision, type QTable } from '../../model/QTable';
import { Candidates, withUnits, type SearchResult, type SearchSession } from '../SearchSession';
import { unitEntries, type QuantUnit } from '../scoring/units';

/** TPU-MLIR run_qtable's parameters. */
export interface RunQtableOptions {
  /** A unit whose local cosine is below this goes float with its successors (default 0.99). */
  readonly minLayerCos: number;
  readonly expected: number;
  readonly fpType: Precision;
}

export const RUN_QTABLE_DEFAULTS: RunQtableOptions = { minLayerCos: 0.99, expected: 0.99, fpType: 'FP32' };

/**
 * run_qtable (docs/algorithms.md §5): the local cosine of every unit (only it quantized, float inputs),
 * then a walk in graph order: a unit below min_layer_cos goes float together with the units that
 * read its output, and the model is scored again; the walk stops when the score reaches `expected`
 * or more than a quarter of the units are float.
 */
export async function runQtable(session: SearchSession, base: QTable, options: RunQtableOptions): Promise<SearchResult> {
  const candidatesList = session.units.filter((u) => unitEntries(u).every((l) => isIntegerPrecision(precisionOf(base, l))));
  const start = await session.scoreOne('current QTable', base);
  const local = new Map((await session.pool.local(candidatesList, session.job)).map((s) => [s.head, s.cos]));
  const successors = unitSuccessors(session, candidatesList);
  const floats = new Set<QuantUnit>();
  const candidates = new Candidates(session, options.expected);
  candidates.add('current QTable', base, start);
  const limit = session.units.length / 4;
  for (const unit of candidatesList) {
    if (candidates.met || floats.size > limit) break;
    const cos = local.get(unit.head)!;
    if (!(cos < options.minLayerCos) || floats.has(unit)) continue;
    const added = [unit, ...(successors.get(unit) ?? [])].filter((u) => !floats.has(u));
    for (const u of added) floats.add(u);
    const qtable = withUnits(base, floats, options.fpType);
    const label = `${floats.size} float: + ${added.map((u) => u.head).join(', ')}`;
    const score = await session.scoreOne(label, qtable);
    session.log(`${unit.head}: local cos ${cos.toFixed(6)} < ${options.minLayerCos}; float with ${added.length - 1} successor(s); outputs score ${score}`);
    candidates.add(label, qtable, score);
  }
  const { qtable, score } = candidates.answer();
  return session.result({ qtable: qtableToData(qtable), score, baselines: { current: start }, target: options.expected, met: candidates.met });
}

/** The units that read each unit's outputs (its immediate successors). */
function unitSuccessors(session: SearchSession, units: readonly QuantUnit[]): Map<QuantUnit, QuantUnit[]> {
  const { consumers } = indexGraph(session.ctx.model.graph.nodes);
  const unitOf = new Map<string, QuantUnit>();
  for (const unit of units) for (const layer of unit.layers) unitOf.set(layer, unit);
  const result = new Map<QuantUnit, QuantUnit[]>();
  for (const unit of units) {
    const tail = session.ctx.model.graph.nodes.find((n) => n.name === unit.layers[unit.layers.length - 1])!;
    const next = new Set<QuantUnit>();
    for (const output of tail.outputs) for (const user of consumers.get(output) ?? []) {
      const u = unitOf.get(user.name);
      if (u && u !== unit) next.add(u);
    }
    result.set(unit, [...next]);
  }
  return result;
}
