import type { Evaluation } from '../model/Evaluation';
import type { LayerName, ModelGraph } from '../model/ModelGraph';
import { partKey, type OutputPart } from './outputParts';

/** Something the figures say is broken, in the user's terms, with the layer to act on. */
export interface QuantWarning {
  readonly kind: 'collapsed-part' | 'collapsed-output';
  /** The layer the fix applies to (the Concat of a collapsed part), when there is one. */
  readonly layer: LayerName | null;
  readonly message: string;
}

/** A part (or output) below this cosine is lost; an output whole above HIDDEN_ABOVE hides it. */
const LOST_BELOW = 0.9;
const HIDDEN_ABOVE = 0.99;

const fixed = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));

/**
 * Collapse warnings (issue #11): a part of an output that quantization wrecked while the output as a
 * whole still scores well (one quantizer on a Concat of values of very different sizes rounds the
 * small ones to a constant: a detector whose class scores are all 0), and an output that collapsed
 * outright. Each names the layer to act on and the fix.
 */
export function collapseWarnings(evaluation: Pick<Evaluation, 'perOutput' | 'perPart'>, graph: ModelGraph, parts: readonly OutputPart[], ranges: Readonly<Record<string, readonly [number, number]>> = {}): QuantWarning[] {
  const warnings: QuantWarning[] = [];
  const producer = new Map(graph.nodes.filter((n) => !n.scope).flatMap((n) => n.outputs.map((o) => [o, n.name] as const)));
  const range = (key: string) => (ranges[key] ? ` (float values ${ranges[key].map((v) => v.toPrecision(3)).join(' to ')})` : '');
  for (const [output, whole] of Object.entries(evaluation.perOutput)) {
    if (whole.cos < LOST_BELOW) {
      warnings.push({ kind: 'collapsed-output', layer: null, message: `output ${output} collapsed: cos ${fixed(whole.cos)} against the float model${range(output)}` });
      continue;
    }
    for (const part of parts.filter((p) => p.output === output)) {
      const figures = evaluation.perPart?.[partKey(part)];
      if (!figures || figures.cos >= LOST_BELOW || whole.cos < HIDDEN_ABOVE) continue;
      const concat = producer.get(output) ?? null;
      warnings.push({
        kind: 'collapsed-part',
        layer: concat,
        message: `part ${part.name} of output ${output}${range(partKey(part))} is lost: cos ${fixed(figures.cos)}, while the output as a whole scores ${fixed(whole.cos)} and hides it. `
          + `One quantizer on ${concat ?? 'the Concat'} spans every part, and its step rounds this one to a constant; keep ${concat ?? 'the Concat'} in float (or INT16) so that each part keeps its own range.`,
      });
    }
  }
  return warnings;
}

/** `{ warnings }` to spread into an Evaluation when there are any. */
export function warningsOf(evaluation: Pick<Evaluation, 'perOutput' | 'perPart'>, graph: ModelGraph, parts: readonly OutputPart[], ranges: Readonly<Record<string, readonly [number, number]>>): { warnings?: QuantWarning[] } {
  const warnings = collapseWarnings(evaluation, graph, parts, ranges);
  return warnings.length ? { warnings } : {};
}
