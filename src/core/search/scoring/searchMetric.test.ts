import { describe, expect, it } from 'vitest';
import { QbenchError } from '../../errors';
import type { Tensor, TensorMap } from '../../model/tensor';
import {
  comparedTensors, higherIsBetter, lossOf, meanScore, meetsTarget, parseCompareLayers, resolveSearchMetric, sampleScore,
  SEARCH_METRICS, type CompareTensor, type SearchMetric, type SearchMetricKind,
} from './searchMetric';

const t = (...values: number[]): Tensor => ({ dtype: 'float32', dims: [values.length], data: Float32Array.from(values) });
const metric = (kind: SearchMetricKind, compare: CompareTensor[] = []): SearchMetric => ({ kind, compare });

/**
 * Two tensors worked by hand:
 * - a: f = [3, 4], q = [4, 3]: f.q = 24, |f|^2 = |q|^2 = 25, cos = 0.96, sum (f-q)^2 = 2, mae = 1,
 *   arg-max 1 against 0 (top-1 disagrees);
 * - b: f = [1, 0, 0], q = [2, 0, 1]: f.q = 2, |f|^2 = 1, |q|^2 = 5, cos = 2/sqrt(5),
 *   sum (f-q)^2 = 2, mae = 2/3, arg-max 0 in both (top-1 agrees).
 */
const reference: TensorMap = { a: t(3, 4), b: t(1, 0, 0) };
const quantized: TensorMap = { a: t(4, 3), b: t(2, 0, 1) };
const weighted: CompareTensor[] = [{ tensor: 'a', weight: 0.25 }, { tensor: 'b', weight: 0.75 }];

describe('sampleScore', () => {
  it('cos: the weighted sum of per-tensor cosines (0.25 * 0.96 + 0.75 * 2/sqrt(5))', () => {
    expect(sampleScore(metric('cos', weighted), weighted, reference, quantized)).toBeCloseTo(0.25 * 0.96 + 0.75 * (2 / Math.sqrt(5)), 12);
  });

  it('rescaled_cos: the weighted sum of 0.5 + 0.5 cos per tensor (0.25 * 0.98 + 0.75 * (0.5 + 1/sqrt(5)))', () => {
    expect(sampleScore(metric('rescaled_cos', weighted), weighted, reference, quantized)).toBeCloseTo(0.25 * 0.98 + 0.75 * (0.5 + 1 / Math.sqrt(5)), 12);
  });

  it('sqnr: one ratio of the weighted energies over all compared tensors, 10 log10((0.25*25 + 0.75*1) / (0.25*2 + 0.75*2)) = 10 log10(3.5)', () => {
    expect(sampleScore(metric('sqnr', weighted), weighted, reference, quantized)).toBeCloseTo(10 * Math.log10(3.5), 12);
    // not the weighted mean of per-tensor SQNRs (0.25 * 10 log10(12.5) + 0.75 * 10 log10(0.5) = 0.48 dB)
    expect(sampleScore(metric('sqnr', weighted), weighted, reference, quantized)).not.toBeCloseTo(0.25 * 10 * Math.log10(12.5) + 0.75 * 10 * Math.log10(0.5), 2);
  });

  it('mae: mean |f - q| per tensor, weighted: 0.25 * 1 + 0.75 * 2/3 = 0.75', () => {
    expect(sampleScore(metric('mae', weighted), weighted, reference, quantized)).toBeCloseTo(0.75, 12);
  });

  it('top1: arg-max agreement per tensor, weighted: 0.25 * 0 + 0.75 * 1 = 0.75', () => {
    expect(sampleScore(metric('top1', weighted), weighted, reference, quantized)).toBe(0.75);
  });

  it('equal weights from the graph outputs (comparedTensors with an empty compare list)', () => {
    const compared = comparedTensors(metric('mae'), ['a', 'b']);
    expect(sampleScore(metric('mae'), compared, reference, quantized)).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 12);
    expect(sampleScore(metric('cos'), compared, reference, quantized)).toBeCloseTo(0.5 * 0.96 + 0.5 * (2 / Math.sqrt(5)), 12);
    expect(sampleScore(metric('sqnr'), compared, reference, quantized)).toBeCloseTo(10 * Math.log10((0.5 * 25 + 0.5 * 1) / (0.5 * 2 + 0.5 * 2)), 12);
  });

  it('a compared tensor missing from the quantized map counts as exact (b left out)', () => {
    const onlyA: TensorMap = { a: quantized.a };
    expect(sampleScore(metric('cos', weighted), weighted, reference, onlyA)).toBeCloseTo(0.25 * 0.96 + 0.75, 12);
    expect(sampleScore(metric('rescaled_cos', weighted), weighted, reference, onlyA)).toBeCloseTo(0.25 * 0.98 + 0.75, 12);
    expect(sampleScore(metric('mae', weighted), weighted, reference, onlyA)).toBeCloseTo(0.25, 12);
    expect(sampleScore(metric('top1', weighted), weighted, reference, onlyA)).toBe(0.75);
    // b's energy still counts in the numerator, its error is 0: 10 log10(7 / 0.5)
    expect(sampleScore(metric('sqnr', weighted), weighted, reference, onlyA)).toBeCloseTo(10 * Math.log10(14), 12);
  });

  it('nothing quantized (every tensor missing): exact on every metric; SQNR is +Infinity', () => {
    expect(sampleScore(metric('cos'), weighted, reference, {})).toBe(1);
    expect(sampleScore(metric('rescaled_cos'), weighted, reference, {})).toBe(1);
    expect(sampleScore(metric('mae'), weighted, reference, {})).toBe(0);
    expect(sampleScore(metric('top1'), weighted, reference, {})).toBe(1);
    expect(sampleScore(metric('sqnr'), weighted, reference, {})).toBe(Infinity);
  });

  it('identical tensors: cos 1, mae 0, SQNR +Infinity', () => {
    const compared = [{ tensor: 'a', weight: 1 }];
    expect(sampleScore(metric('cos'), compared, reference, reference)).toBe(1);
    expect(sampleScore(metric('mae'), compared, reference, reference)).toBe(0);
    expect(sampleScore(metric('sqnr'), compared, reference, reference)).toBe(Infinity);
  });

  it('zero tensors: both zero is cos 1, one zero is cos 0 (0.5 rescaled); a zero reference with an error is SQNR -Infinity', () => {
    const compared = [{ tensor: 'z', weight: 1 }];
    expect(sampleScore(metric('cos'), compared, { z: t(0, 0) }, { z: t(0, 0) })).toBe(1);
    expect(sampleScore(metric('cos'), compared, { z: t(1, 2) }, { z: t(0, 0) })).toBe(0);
    expect(sampleScore(metric('rescaled_cos'), compared, { z: t(1, 2) }, { z: t(0, 0) })).toBe(0.5);
    expect(sampleScore(metric('cos'), compared, { z: t(0, 0) }, { z: t(1, 2) })).toBe(0);
    expect(sampleScore(metric('sqnr'), compared, { z: t(0, 0) }, { z: t(1, 2) })).toBe(-Infinity);
  });

  it('opposite tensors: cos -1, rescaled 0', () => {
    const compared = [{ tensor: 'a', weight: 1 }];
    expect(sampleScore(metric('cos'), compared, reference, { a: t(-3, -4) })).toBe(-1);
    expect(sampleScore(metric('rescaled_cos'), compared, reference, { a: t(-3, -4) })).toBe(0);
  });

  it('reads float16 quantized outputs (raw bits): [4, 3] as 0x4400, 0x4200 scores as the float32 [4, 3]', () => {
    const half: Tensor = { dtype: 'float16', dims: [2], data: Uint16Array.from([0x4400, 0x4200]) };
    const compared = [{ tensor: 'a', weight: 1 }];
    expect(sampleScore(metric('cos'), compared, reference, { a: half })).toBeCloseTo(0.96, 12);
    expect(sampleScore(metric('mae'), compared, reference, { a: half })).toBe(1);
  });

  it('top1 takes the first of equal maxima', () => {
    const compared = [{ tensor: 'p', weight: 1 }];
    expect(sampleScore(metric('top1'), compared, { p: t(1, 5, 5) }, { p: t(0, 2, 2) })).toBe(1);
    expect(sampleScore(metric('top1'), compared, { p: t(1, 5, 5) }, { p: t(0, 2, 3) })).toBe(0);
  });

  it('tensors of different sizes are refused with both sizes in the message', () => {
    const compared = [{ tensor: 'a', weight: 1 }];
    expect(() => sampleScore(metric('mae'), compared, reference, { a: t(1, 2, 3) })).toThrow('cannot compare tensors of 2 and 3 elements');
    expect(() => sampleScore(metric('cos'), compared, reference, { a: t(1, 2, 3) })).toThrow('cannot compare tensors of 2 and 3 elements');
  });
});

describe('meanScore', () => {
  it('is the mean of per-sample scores; NaN without samples', () => {
    expect(meanScore([0.5, 1, 0])).toBe(0.5);
    expect(meanScore([])).toBeNaN();
  });
});

describe('lossOf, meetsTarget, higherIsBetter', () => {
  it('only mae is lower-is-better', () => {
    expect(SEARCH_METRICS.map((k) => [k, higherIsBetter(k)])).toEqual([['auto', true], ['task', true], ['cos', true], ['rescaled_cos', true], ['sqnr', true], ['mae', false], ['top1', true]]);
  });

  it('auto is the task figure where a compared output has a task, else the toolchain\'s metric; task scores by it, cosine breaking ties', () => {
    const auto = { kind: 'auto', compare: [] } as const;
    expect(resolveSearchMetric(auto, 'rescaled_cos', { y: { task: 'classifier' } }, ['y'])).toEqual({ kind: 'task', compare: [], specs: { y: { task: 'classifier' } } });
    expect(resolveSearchMetric(auto, 'mae', { y: { task: 'other' } }, ['y'])).toEqual({ kind: 'mae', compare: [] });
    expect(resolveSearchMetric({ kind: 'cos', compare: [] }, 'mae', { y: { task: 'classifier' } }, ['y'])).toEqual({ kind: 'cos', compare: [] });
    const metric = resolveSearchMetric(auto, 'cos', { y: { task: 'classifier' } }, ['y']);
    const compared = [{ tensor: 'y', weight: 1 }];
    const reference = { y: { dtype: 'float32' as const, dims: [1, 3], data: Float32Array.from([1, 5, 2]) } };
    const sameClass = sampleScore(metric, compared, reference, { y: { ...reference.y, data: Float32Array.from([1, 4, 2]) } });
    const closer = sampleScore(metric, compared, reference, { y: { ...reference.y, data: Float32Array.from([1, 4.9, 2]) } });
    const otherClass = sampleScore(metric, compared, reference, { y: { ...reference.y, data: Float32Array.from([1, 5, 6]) } });
    // the same top-1: near 1, the closer one higher (the cosine's tie-break); another top-1: near 0
    expect(sameClass).toBeGreaterThan(0.999);
    expect(closer).toBeGreaterThan(sameClass);
    expect(otherClass).toBeLessThan(0.001);
  });

  it('loss grows with sensitivity: 1 - cos, 1 - cos\', -SQNR, MAE, 1 - top-1', () => {
    expect(lossOf('cos', 0.75)).toBe(0.25);
    expect(lossOf('rescaled_cos', 0.5)).toBe(0.5);
    expect(lossOf('sqnr', 30)).toBe(-30);
    expect(lossOf('mae', 0.2)).toBe(0.2);
    expect(lossOf('top1', 0.75)).toBe(0.25);
    // a worse score is always a larger loss
    expect(lossOf('sqnr', 20)).toBeGreaterThan(lossOf('sqnr', 30));
    expect(lossOf('mae', 0.3)).toBeGreaterThan(lossOf('mae', 0.2));
  });

  it('meetsTarget: score >= target, or score <= target for mae; equality meets it', () => {
    expect(meetsTarget('cos', 0.99, 0.99)).toBe(true);
    expect(meetsTarget('cos', 0.98, 0.99)).toBe(false);
    expect(meetsTarget('rescaled_cos', 0.995, 0.99)).toBe(true);
    expect(meetsTarget('sqnr', 30, 35)).toBe(false);
    expect(meetsTarget('sqnr', 40, 35)).toBe(true);
    expect(meetsTarget('top1', 1, 1)).toBe(true);
    expect(meetsTarget('mae', 0.1, 0.1)).toBe(true);
    expect(meetsTarget('mae', 0.05, 0.1)).toBe(true);
    expect(meetsTarget('mae', 0.2, 0.1)).toBe(false);
  });
});

describe('parseCompareLayers', () => {
  const names: Record<string, string> = { conv1: 'conv1_out', relu2: 'relu2_out' };
  const resolve = (name: string) => names[name];

  it('"a,b": equal weights, names resolved, spaces trimmed', () => {
    expect(parseCompareLayers('conv1, relu2', resolve)).toEqual([{ tensor: 'conv1_out', weight: 0.5 }, { tensor: 'relu2_out', weight: 0.5 }]);
    expect(parseCompareLayers('relu2', resolve)).toEqual([{ tensor: 'relu2_out', weight: 1 }]);
  });

  it('"a:0.3,b:0.7": the given weights', () => {
    expect(parseCompareLayers('conv1:0.3,relu2:0.7', resolve)).toEqual([{ tensor: 'conv1_out', weight: 0.3 }, { tensor: 'relu2_out', weight: 0.7 }]);
  });

  it('an empty list is no compare list', () => {
    expect(parseCompareLayers('', resolve)).toEqual([]);
    expect(parseCompareLayers(' , ', resolve)).toEqual([]);
  });

  it('refuses weights on some layers only', () => {
    expect(() => parseCompareLayers('conv1:0.3,relu2', resolve)).toThrow(new QbenchError('global_compare_layers: give every layer a weight or none'));
    expect(() => parseCompareLayers('conv1:0.3,relu2', resolve)).toThrow(QbenchError);
  });

  it('refuses weights that do not sum to 1 (beyond 1e-3), naming the sum', () => {
    expect(() => parseCompareLayers('conv1:0.3,relu2:0.3', resolve)).toThrow(new QbenchError('global_compare_layers: the weights sum to 0.6, not 1'));
    expect(() => parseCompareLayers('conv1:0.5,relu2:0.7', resolve)).toThrow(new QbenchError('global_compare_layers: the weights sum to 1.2, not 1'));
    expect(() => parseCompareLayers('conv1:0.5,relu2:0.51', resolve)).toThrow(new QbenchError('global_compare_layers: the weights sum to 1.01, not 1'));
    expect(parseCompareLayers('conv1:0.5,relu2:0.5005', resolve)).toEqual([{ tensor: 'conv1_out', weight: 0.5 }, { tensor: 'relu2_out', weight: 0.5005 }]);
  });

  it('refuses a zero, negative or non-numeric weight', () => {
    expect(() => parseCompareLayers('conv1:0,relu2:1', resolve)).toThrow(new QbenchError('global_compare_layers: "conv1:0" needs a positive weight after the colon'));
    expect(() => parseCompareLayers('conv1:-0.5,relu2:1.5', resolve)).toThrow(new QbenchError('global_compare_layers: "conv1:-0.5" needs a positive weight after the colon'));
    expect(() => parseCompareLayers('conv1:x', resolve)).toThrow(new QbenchError('global_compare_layers: "conv1:x" needs a positive weight after the colon'));
  });

  it('refuses a name the model does not have', () => {
    expect(() => parseCompareLayers('conv1,fc9', resolve)).toThrow(new QbenchError('global_compare_layers: the model has no layer or tensor "fc9"'));
    expect(() => parseCompareLayers('fc9:1', resolve)).toThrow(new QbenchError('global_compare_layers: the model has no layer or tensor "fc9"'));
  });
});

describe('comparedTensors', () => {
  it('without a compare list: every graph output, equally weighted', () => {
    expect(comparedTensors(metric('cos'), ['y1', 'y2', 'y3', 'y4'])).toEqual([
      { tensor: 'y1', weight: 0.25 }, { tensor: 'y2', weight: 0.25 }, { tensor: 'y3', weight: 0.25 }, { tensor: 'y4', weight: 0.25 },
    ]);
  });

  it('with a compare list: that list (a copy), the graph outputs ignored', () => {
    const m = metric('mae', weighted);
    const compared = comparedTensors(m, ['y1']);
    expect(compared).toEqual(weighted);
    expect(compared).not.toBe(m.compare);
  });
});
