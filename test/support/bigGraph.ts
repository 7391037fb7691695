import type { GraphNode, ModelGraph, ValueDesc, WeightDesc } from '../../src/core/model/ModelGraph';
import { seededRandom } from './GraphBuilder';

/**
 * A synthetic model graph of exactly `nodeCount` nodes for layout tests and benchmarks: plain
 * ModelGraph data, no ONNX bytes. The shape mimics what engineers load: a stem, then a random mix
 * of ResNet bottlenecks (chain + residual Add), Inception-style blocks (3-4 branches joined by a
 * Concat) and transformer blocks (LayerNorm, Q/K/V fan-out, attention, two residual Adds), then a
 * classifier head. Every Conv/MatMul/Gemm reads named weights listed in `weights`; some nodes carry
 * TPU-MLIR style names of unnamed nodes (`<output>_<OpType>`), one Clip has an omitted optional
 * input (''). Same seed, same graph.
 *
 * @example syntheticGraph(2000, 1).nodes.length // 2000
 */
export function syntheticGraph(nodeCount: number, seed: number): ModelGraph {
  if (!Number.isInteger(nodeCount) || nodeCount < 1) throw new Error(`syntheticGraph: nodeCount must be a positive integer, got ${nodeCount}`);
  const random = seededRandom(seed);
  const nodes: GraphNode[] = [];
  const weights: WeightDesc[] = [];
  let counter = 0;

  const remaining = () => nodeCount - nodes.length;
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)];

  function weight(layer: string, suffix: string, dims: number[]): string {
    const name = `${layer}.${suffix}`;
    weights.push({ name, dtype: 'float32', dims });
    return name;
  }

  /** Appends one node and returns its first output tensor. */
  function node(opType: string, inputs: string[], opts: { weights?: number[][]; scope?: string; outputs?: number } = {}): string[] {
    const id = counter++;
    const outputs = Array.from({ length: opts.outputs ?? 1 }, (_, i) => `t${id}${i ? `_${i}` : ''}`);
    // About one in eight nodes is "unnamed" in the source model and gets TPU-MLIR's derived name.
    const name = random() < 0.125 ? `${outputs[0]}_${opType}` : `/${opts.scope ?? 'model'}/${opType}_${id}`;
    const allInputs = [...inputs];
    (opts.weights ?? []).forEach((dims, i) => allInputs.push(weight(name, i === 0 ? 'weight' : 'bias', dims)));
    nodes.push({ name, opType, domain: '', inputs: allInputs, outputs, attributes: {} });
    return outputs;
  }
  const one = (opType: string, inputs: string[], opts: { weights?: number[][]; scope?: string } = {}) => node(opType, inputs, opts)[0];

  const input: ValueDesc = { name: 'images', dtype: 'float32', dims: [1, 3, 224, 224], dimNames: ['batch', null, null, null] };
  let x = input.name;
  let channels = 32;

  // Stem.
  if (remaining() >= 3) {
    x = one('Conv', [x], { weights: [[channels, 3, 3, 3], [channels]], scope: 'stem' });
    x = one('Relu', [x], { scope: 'stem' });
    x = one('MaxPool', [x], { scope: 'stem' });
  }

  const HEAD = 4;
  let block = 0;
  while (remaining() > HEAD) {
    const scope = `block${block++}`;
    const budget = remaining() - HEAD;
    const kind = random();
    if (kind < 0.45 && budget >= 8) {
      // ResNet bottleneck: 1x1 -> 3x3 -> 1x1 chain, residual Add (with a projection sometimes).
      const skip = random() < 0.25 ? one('Conv', [x], { weights: [[channels * 2, channels, 1, 1]], scope }) : x;
      if (skip !== x) channels *= 2;
      let y = one('Conv', [x], { weights: [[channels / 2, channels, 1, 1], [channels / 2]], scope });
      y = one('Relu', [y], { scope });
      y = one('Conv', [y], { weights: [[channels / 2, channels / 2, 3, 3], [channels / 2]], scope });
      y = one('Relu', [y], { scope });
      y = one('Conv', [y], { weights: [[channels, channels / 2, 1, 1]], scope });
      y = one('Add', [y, skip], { scope });
      x = one('Relu', [y], { scope });
    } else if (kind < 0.7 && budget >= 12) {
      // Inception: 3 or 4 branches of different depth, joined by a Concat.
      const branches: string[] = [];
      const width = random() < 0.5 ? 3 : 4;
      for (let b = 0; b < width; b++) {
        let y = x;
        const depth = 1 + (b % 3);
        for (let d = 0; d < depth; d++) {
          y = one('Conv', [y], { weights: [[channels / 2, channels, 3, 3], [channels / 2]], scope: `${scope}/branch${b}` });
          if (d < depth - 1 || b === 0) y = one(pick(['Relu', 'Sigmoid', 'HardSwish']), [y], { scope: `${scope}/branch${b}` });
        }
        branches.push(y);
      }
      x = one('Concat', branches, { scope });
      x = one('Clip', [x, '', ''], { scope });
    } else if (budget >= 22) {
      // Transformer block: pre-norm attention and MLP, each with a residual Add.
      const n1 = one('LayerNormalization', [x], { weights: [[channels], [channels]], scope });
      const qkv = ['q', 'k', 'v'].map((h) => {
        let t = one('MatMul', [n1], { weights: [[channels, channels]], scope: `${scope}/${h}` });
        t = one('Add', [t], { weights: [[channels]], scope: `${scope}/${h}` });
        t = one('Reshape', [t], { scope: `${scope}/${h}` });
        return one('Transpose', [t], { scope: `${scope}/${h}` });
      });
      let a = one('MatMul', [qkv[0], qkv[1]], { scope });
      a = one('Div', [a], { weights: [[]], scope });
      a = one('Softmax', [a], { scope });
      a = one('MatMul', [a, qkv[2]], { scope });
      a = one('Transpose', [a], { scope });
      a = one('Reshape', [a], { scope });
      a = one('MatMul', [a], { weights: [[channels, channels]], scope: `${scope}/proj` });
      const r1 = one('Add', [a, x], { scope });
      const n2 = one('LayerNormalization', [r1], { weights: [[channels], [channels]], scope });
      let m = one('MatMul', [n2], { weights: [[channels, channels * 4]], scope: `${scope}/mlp` });
      m = one('Gelu', [m], { scope: `${scope}/mlp` });
      m = one('MatMul', [m], { weights: [[channels * 4, channels]], scope: `${scope}/mlp` });
      x = one('Add', [m, r1], { scope });
    } else {
      // Plain chain, also the filler that lands the exact node count.
      const steps = Math.min(budget, 1 + Math.floor(random() * 3));
      for (let i = 0; i < steps; i++) x = one(pick(['Conv', 'Relu', 'BatchNormalization', 'Mul']), [x], { scope });
    }
  }

  // Head: whatever is left of GlobalAveragePool -> Flatten -> Gemm -> Softmax.
  const head = ['GlobalAveragePool', 'Flatten', 'Gemm', 'Softmax'].slice(HEAD - remaining());
  for (const op of head) x = one(op, [x], { weights: op === 'Gemm' ? [[1000, channels], [1000]] : [], scope: 'head' });

  return {
    fileName: `synthetic-${nodeCount}-${seed}.onnx`,
    format: 'onnx',
    opset: 17,
    producer: 'qbench-synthetic',
    inputs: [input],
    outputs: [{ name: x, dtype: 'float32', dims: [1, 1000] }],
    nodes,
    weights,
    sizeBytes: 0,
  };
}
