import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../test/support/GraphBuilder';
import { modelOf } from '../../../../test/support/runModel';
import { QbenchError } from '../../errors';
import type { ModelGraph } from '../../model/ModelGraph';
import { patternResolver } from './patternResolver';

const graphOf = (b: GraphBuilder): ModelGraph => modelOf(b.toBytes()).graph;
const scalar = (b: GraphBuilder, value: number) => b.constant(new Float32Array([value]), []);
const ints = (b: GraphBuilder, values: number[]) => b.constant(BigInt64Array.from(values.map(BigInt)), [values.length]);

interface LayerNormForm {
  readonly square?: 'pow' | 'mul';
  readonly end?: 'div' | 'reciprocal-mul';
  readonly varianceAxes?: number[];
}

/** ReduceMean -> Sub -> Pow(2) | Mul(self) -> ReduceMean -> Add(eps) -> Sqrt -> Div | Reciprocal -> Mul(rsqrt, sub); then * gamma + beta. */
function layerNorm(b: GraphBuilder, x: string, form: LayerNormForm = {}): { output: string; sqrt: string } {
  const mean = b.node('ReduceMean', [x], { axes: [-1] }, 1, undefined, 'ln_mean')[0];
  const sub = b.node('Sub', [x, mean], {}, 1, undefined, 'ln_sub')[0];
  const square = form.square === 'mul'
    ? b.node('Mul', [sub, sub], {}, 1, undefined, 'ln_square')[0]
    : b.node('Pow', [sub, scalar(b, 2)], {}, 1, undefined, 'ln_pow')[0];
  const variance = b.node('ReduceMean', [square], { axes: form.varianceAxes ?? [-1] }, 1, undefined, 'ln_variance')[0];
  const addEps = b.node('Add', [variance, scalar(b, 1e-5)], {}, 1, undefined, 'ln_add_eps')[0];
  const sqrt = b.node('Sqrt', [addEps], {}, 1, undefined, 'ln_sqrt')[0];
  const normalized = form.end === 'reciprocal-mul'
    ? b.node('Mul', [b.node('Reciprocal', [sqrt], {}, 1, undefined, 'ln_reciprocal')[0], sub], {}, 1, undefined, 'ln_mul')[0]
    : b.node('Div', [sub, sqrt], {}, 1, undefined, 'ln_div')[0];
  const output = b.node('Add', [b.node('Mul', [normalized, b.weight([8], 1)], {}, 1, undefined, 'ln_gamma')[0], b.weight([8], 0.1)], {}, 1, undefined, 'ln_beta')[0];
  return { output, sqrt };
}

/** ReduceMax(-1, keepdims) -> Sub -> Exp -> ReduceSum(-1 as an input, opset 13) -> Div. */
function softmax(b: GraphBuilder, x: string, opts: { maxKeepdims?: number } = {}): string {
  const max = b.node('ReduceMax', [x], { axes: [-1], keepdims: opts.maxKeepdims ?? 1 }, 1, undefined, 'sm_max')[0];
  const sub = b.node('Sub', [x, max], {}, 1, undefined, 'sm_sub')[0];
  const exp = b.node('Exp', [sub], {}, 1, undefined, 'sm_exp')[0];
  const sum = b.node('ReduceSum', [exp, ints(b, [-1])], { keepdims: 1 }, 1, undefined, 'sm_sum')[0];
  return b.node('Div', [exp, sum], {}, 1, undefined, 'sm_div')[0];
}

function layerNormGraph(form: LayerNormForm = {}): ModelGraph {
  const b = new GraphBuilder({ seed: 21 });
  const x = b.input('tokens', [1, 4, 8]);
  b.output(layerNorm(b, b.node('MatMul', [x, b.weight([8, 8], 0.3)], {}, 1, [1, 4, 8], 'proj')[0], form).output);
  return graphOf(b);
}

function softmaxGraph(opts: { maxKeepdims?: number } = {}): ModelGraph {
  const b = new GraphBuilder({ seed: 22 });
  const x = b.input('tokens', [1, 4, 8]);
  const scores = b.node('MatMul', [x, b.weight([8, 4], 0.3)], {}, 1, [1, 4, 4], 'scores')[0];
  b.output(b.node('MatMul', [softmax(b, scores, opts), b.weight([4, 8], 0.3)], {}, 1, [1, 4, 8], 'context')[0]);
  return graphOf(b);
}

const precisions = (graph: ModelGraph, patterns?: Parameters<typeof patternResolver>[1]) =>
  patternResolver(graph, patterns).assignments.map((a) => [a.layer, a.precision]);

describe('patternResolver: LayerNorm (ONE Q8LayerNormWithQ16Variance)', () => {
  it('square, variance, add-eps and sqrt INT16; mean, sub and the final Div INT8; gamma, beta and the MatMul untouched', () => {
    const result = patternResolver(layerNormGraph());
    expect(result.patterns).toEqual([{
      pattern: 'Q8LayerNormWithQ16Variance',
      terminal: 'ln_div',
      int16: ['ln_pow', 'ln_variance', 'ln_add_eps', 'ln_sqrt'],
      int8: ['ln_mean', 'ln_sub', 'ln_div'],
    }]);
    expect(result.assignments.map((a) => [a.layer, a.precision])).toEqual([
      ['ln_mean', 'INT8'], ['ln_sub', 'INT8'], ['ln_pow', 'INT16'], ['ln_variance', 'INT16'],
      ['ln_add_eps', 'INT16'], ['ln_sqrt', 'INT16'], ['ln_div', 'INT8'],
    ]);
    expect(result.assignments[3]).toEqual({
      layer: 'ln_variance', opType: 'ReduceMean', precision: 'INT16',
      reason: 'variance of the decomposed LayerNorm ending at ln_div (ONE Q8LayerNormWithQ16Variance)',
    });
  });

  it('the Mul(x, x) square and the Sqrt -> Reciprocal -> Mul end (operands swapped): the Reciprocal is INT16 with the Sqrt', () => {
    expect(precisions(layerNormGraph({ square: 'mul', end: 'reciprocal-mul' }))).toEqual([
      ['ln_mean', 'INT8'], ['ln_sub', 'INT8'], ['ln_square', 'INT16'], ['ln_variance', 'INT16'],
      ['ln_add_eps', 'INT16'], ['ln_sqrt', 'INT16'], ['ln_reciprocal', 'INT16'], ['ln_mul', 'INT8'],
    ]);
  });

  it('means over different axes are not a LayerNorm', () => {
    expect(patternResolver(layerNormGraph({ varianceAxes: [-2] }))).toEqual({ assignments: [], patterns: [] });
  });
});

describe('patternResolver: Softmax (ONE Q8SoftmaxWithQ16SubExp)', () => {
  it('Sub and Exp INT16; the input MatMul, ReduceMax, ReduceSum and Div INT8; the MatMul after untouched', () => {
    const result = patternResolver(softmaxGraph());
    expect(result.patterns).toEqual([{
      pattern: 'Q8SoftmaxWithQ16SubExp', terminal: 'sm_div', int16: ['sm_sub', 'sm_exp'], int8: ['scores', 'sm_max', 'sm_sum', 'sm_div'],
    }]);
    expect(precisions(softmaxGraph())).toEqual([
      ['scores', 'INT8'], ['sm_max', 'INT8'], ['sm_sub', 'INT16'], ['sm_exp', 'INT16'], ['sm_sum', 'INT8'], ['sm_div', 'INT8'],
    ]);
  });

  it('a ReduceMax that drops the axis is not ONE\'s Softmax pattern', () => {
    expect(patternResolver(softmaxGraph({ maxKeepdims: 0 })).patterns).toEqual([]);
  });
});

describe('patternResolver', () => {
  it('a CNN has neither pattern', () => {
    const b = new GraphBuilder({ seed: 23 });
    const x = b.input('x', [1, 3, 8, 8]);
    b.output(b.softmax(b.gemm(b.flatten(b.globalAveragePool(b.relu(b.conv(b.relu(b.conv(x, 8, 3)), 8, 3)))), 10)));
    expect(patternResolver(graphOf(b))).toEqual({ assignments: [], patterns: [] });
  });

  it('runs only the patterns asked for', () => {
    const b = new GraphBuilder({ seed: 24 });
    const x = b.input('tokens', [1, 4, 8]);
    b.output(softmax(b, layerNorm(b, x).output));
    const graph = graphOf(b);
    expect(patternResolver(graph).patterns.map((p) => p.pattern)).toEqual(['Q8LayerNormWithQ16Variance', 'Q8SoftmaxWithQ16SubExp']);
    expect(patternResolver(graph, { layerNorm: false }).patterns.map((p) => p.terminal)).toEqual(['sm_div']);
    expect(patternResolver(graph, { softmax: false }).patterns.map((p) => p.terminal)).toEqual(['ln_div']);
  });

  it('throws, as ONE does, when two patterns want different precisions for one node', () => {
    // a Softmax over the LayerNorm's square root: that node is INT16 for the LayerNorm, INT8 as the Softmax's input
    const b = new GraphBuilder({ seed: 25 });
    const x = b.input('tokens', [1, 4, 8]);
    const ln = layerNorm(b, x);
    b.output(ln.output);
    b.output(softmax(b, ln.sqrt));
    const run = () => patternResolver(graphOf(b));
    expect(run).toThrow(QbenchError);
    expect(run).toThrow('pattern resolver: the patterns contradict each other at ln_sqrt: INT16 from an earlier pattern, INT8 as the input of the Softmax ending at sm_div');
  });
});
