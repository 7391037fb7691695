import { QbenchError } from '../../errors';
import type { LayerName } from '../../model/ModelGraph';
import { qtableToData, type Precision, type QTable } from '../../model/QTable';
import { nodeDepths } from '../scoring/depth';
import type { SearchResult, SearchSession } from '../SearchSession';

/** ONE circle-mpqsolver --bisection's parameters. */
export interface BisectionOptions {
  /** 0: as good as all-INT16; 1: as cheap as all-INT8 (default 0.5). */
  readonly qerrorRatio: number;
  /** 'true': the front (inputs' side) is INT16; 'false': the back; 'auto': the side with the larger summed layer errors. */
  readonly mode: 'auto' | 'true' | 'false';
}

export const BISECTION_DEFAULTS: BisectionOptions = { qerrorRatio: 0.5, mode: 'auto' };

/**
 * ONE's bisection (docs/algorithms.md §5, BisectionSolver.cpp): with q16 and q8 the losses of the
 * all-INT16 and all-INT8 models, target = q16 + r |q8 - q16|; then a binary search on the depth that
 * cuts the graph in a front and a back, one side INT16 and the other INT8, until the cut repeats;
 * the last configuration under the target is kept. `layerErrors` (per layer, of the all-INT8 model:
 * ONE reads them from a visq file) decide the side in 'auto' mode.
 */
export async function bisection(session: SearchSession, options: BisectionOptions, layerErrors: ReadonlyMap<LayerName, number>): Promise<SearchResult> {
  if (!(options.qerrorRatio >= 0 && options.qerrorRatio <= 1)) throw new QbenchError(`qerror_ratio must be in [0, 1], got ${options.qerrorRatio}`);
  const all = (precision: Precision): QTable => ({ defaultPrecision: precision, layers: new Map() });
  const [score16, score8] = await session.score([{ label: 'all INT16', qtable: all('INT16') }, { label: 'all INT8', qtable: all('INT8') }]);
  const q16 = session.loss(score16);
  const q8 = session.loss(score8);
  session.log(`Full int16 model qerror: ${q16}`);
  session.log(`Full uint8 model qerror: ${q8}`);
  if (q16 > q8) throw new QbenchError(`the all-INT16 model's error (${q16}) is larger than the all-INT8 model's (${q8}); bisection needs INT16 to be the more accurate`);
  const target = q16 + options.qerrorRatio * Math.abs(q8 - q16);
  session.log(`Target qerror: ${target}`);
  const baselines = { int16: score16, int8: score8 };
  const done = (qtable: QTable, score: number) => session.result({ qtable: qtableToData(qtable), score, baselines, target: null, met: session.loss(score) <= target });
  if (q16 >= target) return done(all('INT16'), score16);
  if (q8 <= target) return done(all('INT8'), score8);

  const depths = new Map([...nodeDepths(session.ctx.model.graph)].filter(([layer]) => session.ctx.layers.get(layer)?.quantizable));
  let minDepth = 0;
  let maxDepth = Math.max(...depths.values());
  const int16Front = options.mode === 'true' || (options.mode === 'auto' && frontHasHigherError(depths, layerErrors, 0.5 * (minDepth + maxDepth)));
  session.log(int16Front ? 'Front part will be Q16, while the rear will be Q8' : 'Front part will be Q8, while the rear will be Q16');
  let best: { qtable: QTable; score: number } | null = null;
  let lastDepth = -1;
  for (;;) {
    const cut = Math.floor(0.5 * (minDepth + maxDepth));
    if (cut === lastDepth) break;
    lastDepth = cut;
    const layers = new Map<LayerName, Precision>();
    for (const [layer, depth] of depths) if (int16Front ? depth <= cut : depth >= cut) layers.set(layer, 'INT16');
    const qtable: QTable = { defaultPrecision: 'INT8', layers };
    const score = await session.scoreOne(`depth ${int16Front ? '<=' : '>='} ${cut} INT16`, qtable);
    const error = session.loss(score);
    if (error < target) {
      session.log(`Qerror at depth ${cut} is ${error} < target qerror (${target})`);
      if (int16Front) maxDepth = cut;
      else minDepth = cut;
      best = { qtable, score };
    } else {
      session.log(`Qerror at depth ${cut} is ${error} >= target qerror (${target})`);
      if (int16Front) minDepth = cut;
      else maxDepth = cut;
    }
  }
  if (!best) {
    session.log('no cut reached the target: the all-INT16 model is the answer');
    return done(all('INT16'), score16);
  }
  return done(best.qtable, best.score);
}

/** ONE's auto mode: whether layers shallower than the cut carry more of the summed layer errors. */
function frontHasHigherError(depths: ReadonlyMap<LayerName, number>, errors: ReadonlyMap<LayerName, number>, cut: number): boolean {
  let front = 0;
  let back = 0;
  for (const [layer, depth] of depths) {
    const e = errors.get(layer) ?? 0;
    if (depth < cut) front += e;
    else back += e;
  }
  return front > back;
}
