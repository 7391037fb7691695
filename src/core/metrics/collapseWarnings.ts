import type { Evaluation } from '../model/Evaluation';
import type { LayerName, ModelGraph } from '../model/ModelGraph';
import { partKey, type OutputPart } from './outputParts';
import { primaryValue, taskFiguresText } from './taskMetrics';

/** Something the figures say is broken, in the user's terms, with the layer to act on. */
export interface QuantWarning {
  readonly kind: 'collapsed-part' | 'collapsed-output' | 'rounds-to-constant' | 'task-cliff' | 'method-outlier' | 'clipped';
  /** The layer the fix applies to (the Concat of a collapsed part, an output's producer), when there is one. */
  readonly layer: LayerName | null;
  readonly message: string;
}

/** A part (or output) below this cosine is lost; an output whole above HIDDEN_ABOVE hides it. */
const LOST_BELOW = 0.9;
const HIDDEN_ABOVE = 0.99;
/** A task figure below this has fallen off a cliff: most answers (classes, detections, pixels, characters) differ from float. */
const TASK_CLIFF = 0.5;

const fixed = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : String(v));

/** The INT8 quantizer on a graph output: the layer that produces it and its step (scale). */
export interface OutputQuantizer {
  readonly layer: LayerName;
  readonly step: number;
}

export interface WarningInputs {
  readonly evaluation: Pick<Evaluation, 'perOutput' | 'perPart' | 'tasks'>;
  readonly graph: ModelGraph;
  readonly parts: readonly OutputPart[];
  /** Float value range of each output (by name) and part (by partKey). */
  readonly ranges?: Readonly<Record<string, readonly [number, number]>>;
  /** The quantizer each graph output goes through at 8 bits, by output name (absent: not quantized). */
  readonly quantizers?: Readonly<Record<string, OutputQuantizer>>;
}

/**
 * Collapse warnings (issue #11), each naming the layer to act on and the fix:
 * - collapsed-part: a part of an output that quantization wrecked while the output as a whole
 *   still scores well (one quantizer on a Concat of values of very different sizes);
 * - collapsed-output: an output below cos 0.9;
 * - rounds-to-constant: the step of an output's quantizer is larger than a part's largest value, so
 *   that part can only round to a constant (said even where a cosine still looks fine);
 * - task-cliff: a task figure under 0.5 (detections vanish, the arg-max changes on most samples).
 */
export function collapseWarnings(inputs: WarningInputs): QuantWarning[] {
  const { evaluation, graph, parts, ranges = {}, quantizers = {} } = inputs;
  const warnings: QuantWarning[] = [];
  const producer = new Map(graph.nodes.filter((n) => !n.scope).flatMap((n) => n.outputs.map((o) => [o, n.name] as const)));
  const range = (key: string) => (ranges[key] ? ` (float values ${ranges[key].map((v) => v.toPrecision(3)).join(' to ')})` : '');
  const magnitude = (key: string) => (ranges[key] ? Math.max(Math.abs(ranges[key][0]), Math.abs(ranges[key][1])) : NaN);
  for (const [output, whole] of Object.entries(evaluation.perOutput)) {
    const layer = producer.get(output) ?? null;
    const quantizer = quantizers[output];
    const own = parts.filter((p) => p.output === output);
    const warned = new Set<string>();
    if (whole.cos < LOST_BELOW) {
      warnings.push({ kind: 'collapsed-output', layer, message: `output ${output} collapsed: cos ${fixed(whole.cos)} against the float model${range(output)}` });
      warned.add(output);
    } else {
      for (const part of own) {
        const figures = evaluation.perPart?.[partKey(part)];
        if (!figures || figures.cos >= LOST_BELOW || whole.cos < HIDDEN_ABOVE) continue;
        warned.add(partKey(part));
        const step = quantizer ? ` (a step of ${quantizer.step.toPrecision(3)})` : '';
        warnings.push({
          kind: 'collapsed-part',
          layer,
          message: `part ${part.name} of output ${output}${range(partKey(part))} is lost: cos ${fixed(figures.cos)}, while the output as a whole scores ${fixed(whole.cos)} and hides it. `
            + `One quantizer on ${layer ?? 'the Concat'}${step} spans every part, and its step rounds this one to a constant; keep ${layer ?? 'the Concat'} in float (or INT16) so that each part keeps its own range.`,
        });
      }
    }
    // A step larger than everything a part holds: whatever its cosine says now, it can only be a constant.
    if (quantizer) {
      for (const key of own.length ? own.map(partKey) : [output]) {
        const largest = magnitude(key);
        if (warned.has(key) || warned.has(output) || !(largest > 0) || !(quantizer.step > largest)) continue;
        warnings.push({
          kind: 'rounds-to-constant',
          layer: quantizer.layer,
          message: `${key === output ? `output ${output}` : `part ${key}`}${range(key)} goes through the INT8 quantizer of ${quantizer.layer}, whose step ${quantizer.step.toPrecision(3)} is larger than its largest value ${largest.toPrecision(3)}: it rounds to a constant. Keep ${quantizer.layer} in float or INT16.`,
        });
      }
    }
    const task = evaluation.tasks?.[output];
    if (task && primaryValue(task) < TASK_CLIFF && !(task.task === 'detector' && task.values.floatDetections === 0)) {
      warnings.push({
        kind: 'task-cliff',
        layer,
        message: `output ${output} no longer does the float model's job: ${taskFiguresText(task)}. Run the pattern rules or a search, or keep the layers before it in float.`,
      });
    }
  }
  return warnings;
}

/** `{ warnings }` to spread into an Evaluation when there are any. */
export function warningsOf(inputs: WarningInputs): { warnings?: QuantWarning[] } {
  const warnings = collapseWarnings(inputs);
  return warnings.length ? { warnings } : {};
}
