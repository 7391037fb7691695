import type { CalibrationMethod } from '../../model/CaliTable';
import { ALL_INT8, qtableToData, type Precision } from '../../model/QTable';
import { bySensitivity, Candidates, withUnits, type SearchResult, type SearchSession } from '../SearchSession';

/** TPU-MLIR run_sensitive_layer's parameters and defaults. */
export interface SensitiveLayerOptions {
  /** Calibration methods tried per layer (TPU-MLIR: MAX, Percentile9999, KL). */
  readonly methods: readonly CalibrationMethod[];
  /** At most this many units set float (max_float_layers, default 5). */
  readonly maxFloatLayers: number;
  /** Stop adding float units once the score reaches this (expected_cos, default 0.99 on the metric's scale). */
  readonly expected: number;
  /** The float precision (fp_type: FP32, or FP16). */
  readonly fpType: Precision;
}

export const SENSITIVE_LAYER_DEFAULTS: SensitiveLayerOptions = { methods: ['max', 'percentile9999', 'kl'], maxFloatLayers: 5, expected: 0.99, fpType: 'FP32' };

/**
 * run_sensitive_layer (docs/algorithms.md §5): rank every unit by the loss of the model with only that
 * unit quantized, the least loss over the methods; then set the most sensitive units float, one more
 * at a time, until the output score reaches `expected` or `maxFloatLayers` are float.
 */
export async function sensitiveLayerSearch(session: SearchSession, options: SensitiveLayerOptions): Promise<SearchResult> {
  const ranking = (await session.rank(session.units, options.methods)).sort(bySensitivity);
  ranking.forEach((r, i) => {
    const op = session.ctx.layers.get(r.head)?.opType ?? '';
    session.log(`the layer ${r.head} is ${i} sensitive layer, loss is ${r.best.loss}, type is ${op} (best method ${r.best.method})`);
  });
  const int8 = await session.scoreOne('all INT8', ALL_INT8);
  session.log(`int8 outputs score: ${int8}`);
  const candidates = new Candidates(session, options.expected);
  candidates.add('all INT8', ALL_INT8, int8);
  const units = new Map(session.units.map((u) => [u.head, u]));
  for (let k = 1; k <= options.maxFloatLayers && k <= ranking.length && !candidates.met; k++) {
    const qtable = withUnits(ALL_INT8, ranking.slice(0, k).map((r) => units.get(r.head)!), options.fpType);
    const label = `top ${k} sensitive unit${k === 1 ? '' : 's'} ${options.fpType}`;
    const score = await session.scoreOne(label, qtable);
    session.log(`${k} float unit(s), mix model outputs score: ${score}`);
    candidates.add(label, qtable, score);
  }
  const { qtable, score } = candidates.answer();
  return session.result({ qtable: qtableToData(qtable), score, baselines: { int8 }, target: options.expected, met: candidates.met, ranking });
}
