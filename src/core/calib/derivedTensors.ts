import type { OnnxModel } from '../io/onnx/OnnxModel';
import type { GraphNode } from '../model/ModelGraph';

/**
 * A tensor whose every element follows from the element at the same flat position of an observed
 * tensor (its root) through `steps`, float32 functions whose composition `map` is monotone:
 * non-decreasing, or non-increasing when `decreasing`. Then, exactly:
 *   min = map(root min), max = map(root max)   (swapped when decreasing),
 *   the value at flat position p = map(root value at p),
 * so the statistics pass observes the root only and still returns, for the derived tensor, its exact
 * extremes and its values at the root's sampled positions (the positions a derivable tensor is
 * sampled at whether it is derived or observed): bit for bit what observing the tensor itself
 * returns (test/pipeline/derivedTensors.test.ts checks it on the demo).
 */
export interface DerivedTensor {
  /** Index of the root in the observed tensor list. */
  readonly root: number;
  /** The steps from the root's values to this tensor's, first to last. */
  readonly steps: readonly MapStep[];
  readonly decreasing: boolean;
}

/** One elementwise step in float32: a copy, x + c, x - c, c - x, x * c, x / c, or a clip to [low, high]. */
export type MapStep =
  | { readonly op: 'copy' }
  | { readonly op: 'add' | 'sub' | 'rsub' | 'mul' | 'div'; readonly c: number }
  | { readonly op: 'clip'; readonly low: number; readonly high: number };

/** One step in float32 (Math.fround of the float64 result: the float32 result). */
function applyStep(step: MapStep, v: number): number {
  switch (step.op) {
    case 'copy': return v;
    case 'add': return Math.fround(v + step.c);
    case 'sub': return Math.fround(v - step.c);
    case 'rsub': return Math.fround(step.c - v);
    case 'mul': return Math.fround(v * step.c);
    case 'div': return Math.fround(v / step.c);
    // min(max(x, low), high), as onnxruntime clips (all values become `high` when low > high)
    case 'clip': { const y = v < step.low ? step.low : v; return y > step.high ? step.high : y; }
  }
}

/** The derived tensor's value where its root's is `v`. */
export function mapValue(derived: DerivedTensor, v: number): number {
  for (const step of derived.steps) v = applyStep(step, v);
  return v;
}

/**
 * The derived tensor's values where its root's are `values`, written into `out` (as long as
 * `values`) or a new array. A Float32Array store rounds to float32: `out[i] += c` is the float32 sum.
 */
export function mapValues(derived: DerivedTensor, values: Float32Array, out = new Float32Array(values.length)): Float32Array {
  out.set(values);
  const n = out.length;
  for (const step of derived.steps) {
    switch (step.op) {
      case 'copy': break;
      case 'add': { const c = step.c; for (let i = 0; i < n; i++) out[i] += c; break; }
      case 'sub': { const c = step.c; for (let i = 0; i < n; i++) out[i] -= c; break; }
      case 'rsub': { const c = step.c; for (let i = 0; i < n; i++) out[i] = c - out[i]; break; }
      case 'mul': { const c = step.c; for (let i = 0; i < n; i++) out[i] *= c; break; }
      case 'div': { const c = step.c; for (let i = 0; i < n; i++) out[i] /= c; break; }
      case 'clip': {
        const { low, high } = step;
        for (let i = 0; i < n; i++) {
          const y = out[i] < low ? low : out[i];
          out[i] = y > high ? high : y;
        }
        break;
      }
    }
  }
  return out;
}

/** One step: `output = step(input)` element by element, flat positions kept. */
interface Step {
  readonly input: string;
  readonly step: MapStep;
  readonly decreasing: boolean;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** Operators whose output is their first input's data in the same flat (row-major) order. */
const SAME_FLAT_DATA = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);

/**
 * What one node computes, where it is an exactly emulable monotone map of one input: a copy of the
 * data (SAME_FLAT_DATA), or an elementwise Add, Sub, Mul or Div with a one-element float32 constant,
 * or a Clip with constant bounds. float32 +, -, * and / are correctly rounded, hence monotone, and
 * Math.fround of the float64 result is the float32 result (float64 has more than 2 * 24 + 2 bits:
 * rounding twice is innocuous), so each step is bit for bit what the engine computes. Anything else
 * (Relu's sign of zero, activations the engine approximates, constants with more than one element)
 * is observed.
 */
function stepOf(node: GraphNode, model: OnnxModel, output: string): Step | null {
  if (node.outputs[0] !== output || (node.domain !== '' && node.domain !== 'ai.onnx') || node.scope) return null;
  if (SAME_FLAT_DATA.has(node.opType)) return node.inputs[0] ? { input: node.inputs[0], step: { op: 'copy' }, decreasing: false } : null;
  const scalar = (name: string | undefined): number | null => {
    if (!name || !model.isInitializer(name)) return null;
    const t = model.weight(name);
    return t.dtype === 'float32' && t.data.length === 1 ? Number(t.data[0]) : null;
  };
  const isVariable = (name: string | undefined) => !!name && !model.isInitializer(name);
  if (node.opType === 'Clip') {
    const [x, lowName, highName] = node.inputs;
    if (!isVariable(x)) return null;
    const bound = (name: string | undefined, attribute: string, fallback: number): number | null => {
      if (name) return scalar(name);
      const a = node.attributes[attribute];
      return typeof a === 'number' ? Math.fround(a) : a === undefined ? fallback : null;
    };
    // an absent bound is the float32 extreme (onnxruntime's numeric_limits lowest / max), not infinity
    const low = bound(lowName, 'min', -FLOAT32_MAX);
    const high = bound(highName, 'max', FLOAT32_MAX);
    if (low === null || high === null || Number.isNaN(low) || Number.isNaN(high)) return null;
    return { input: x, step: { op: 'clip', low, high }, decreasing: false };
  }
  if (!['Add', 'Sub', 'Mul', 'Div'].includes(node.opType) || node.inputs.length !== 2) return null;
  const [a, b] = node.inputs;
  const constantFirst = !isVariable(a);
  const x = constantFirst ? b : a;
  const c = scalar(constantFirst ? a : b);
  if (!isVariable(x) || c === null || !Number.isFinite(c)) return null;
  switch (node.opType) {
    case 'Add': return { input: x, step: { op: 'add', c }, decreasing: false };
    case 'Sub': return constantFirst ? { input: x, step: { op: 'rsub', c }, decreasing: true } : { input: x, step: { op: 'sub', c }, decreasing: false };
    case 'Mul': return c === 0 ? null : { input: x, step: { op: 'mul', c }, decreasing: c < 0 };
    case 'Div': return constantFirst || c === 0 ? null : { input: x, step: { op: 'div', c }, decreasing: c < 0 };
    default: return null;
  }
}

/**
 * For each tensor of `tensors`, how it derives from another one of the list (through steps of
 * stepOf, possibly through tensors not in the list), or null where it must be observed. A chain
 * ends at a tensor of the list that is itself observed (its root). Element counts are checked by
 * the caller (a one-element constant never changes them; a broadcast that did is not derived).
 */
export function derivedTensors(model: OnnxModel, tensors: readonly string[]): (DerivedTensor | null)[] {
  const index = new Map(tensors.map((t, i) => [t, i]));
  const producer = new Map<string, GraphNode>();
  for (const node of model.graph.nodes) for (const o of node.outputs) if (o && !node.scope) producer.set(o, node);
  const resolved = new Map<number, DerivedTensor | null>();
  const resolve = (i: number, visiting: Set<number>): DerivedTensor | null => {
    if (resolved.has(i)) return resolved.get(i)!;
    if (visiting.has(i)) return null;
    visiting.add(i);
    const steps: Step[] = [];
    let name = tensors[i];
    let result: DerivedTensor | null = null;
    for (let depth = 0; depth < 64; depth++) {
      const node = producer.get(name);
      const step = node ? stepOf(node, model, name) : null;
      if (!step) break;
      steps.push(step);
      name = step.input;
      const j = index.get(name);
      if (j === undefined) continue;
      if (j === i) break;
      const below = resolve(j, visiting);
      // value = steps[0](steps[1](... (value of tensor j))), tensor j itself derived (below) or observed
      const own = steps.slice().reverse();
      const decreasing = steps.reduce((d, s) => d !== s.decreasing, below?.decreasing ?? false);
      result = { root: below ? below.root : j, steps: [...(below?.steps ?? []), ...own.map((s) => s.step)], decreasing };
      break;
    }
    visiting.delete(i);
    resolved.set(i, result);
    return result;
  };
  return tensors.map((_, i) => resolve(i, new Set()));
}
