import { qtableToData, type QTable } from '../../model/QTable';
import { applyPlan, fpForward, patternMatch, patternResolver, type PrecisionPlan } from '../rules';
import type { SearchRequest } from '../SearchRequest';
import type { SearchResult, SearchSession } from '../SearchSession';

/**
 * The graph-rule searches (fp_forward, TPU-MLIR's pattern-match, ONE's pattern resolver): the rule's
 * plan applied to the current QTable, scored next to the QTable as it was. No ranking runs.
 */
export async function ruleSearch(session: SearchSession, base: QTable, request: SearchRequest): Promise<SearchResult> {
  const { graph } = session.ctx.model;
  let plan: PrecisionPlan;
  switch (request.kind) {
    case 'fp_forward':
      plan = fpForward(graph, { inputs: request.options.inputs, outputs: request.options.outputs, blocks: request.options.blocks, fpType: request.options.fpType });
      break;
    case 'pattern': {
      const matched = patternMatch(graph, { fpType: request.options.fpType });
      session.log(matched.kind ? `model kind: ${matched.kind}` : 'no YOLO or transformer pattern in this model');
      for (const firing of matched.firings) session.log(`${firing.rule}: ${firing.detail}`);
      plan = matched;
      break;
    }
    case 'pattern_resolver': {
      const resolved = patternResolver(graph, request.options);
      for (const p of resolved.patterns) session.log(`${p.pattern} at ${p.terminal}: INT16 ${p.int16.join(', ')}`);
      if (resolved.patterns.length === 0) session.log('no decomposed LayerNorm or Softmax in this model');
      plan = resolved;
      break;
    }
    default:
      throw new Error(`${request.kind} is not a rule search`);
  }
  const qtable = applyPlan(base, plan, session.ctx.layers);
  for (const a of plan.assignments) if (session.ctx.layers.get(a.layer)?.quantizable) session.log(`${a.layer} (${a.opType}) -> ${a.precision}: ${a.reason}`);
  const [before, score] = await session.score([{ label: 'current QTable', qtable: base }, { label: `${request.kind} applied`, qtable }]);
  return session.result({ qtable: qtableToData(qtable), score, baselines: { current: before }, target: null, met: true });
}
