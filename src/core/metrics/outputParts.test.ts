import { describe, expect, it } from 'vitest';
import { outputFigures } from './outputFigures';
import { compareOutputs, partKey, partSums, type OutputPart } from './outputParts';
import { meanMetrics } from './similarity';

describe('output parts', () => {
  // a [1, 3, 2] output whose axis-1 rows are [10, 20], [0.1, 0.2], [0.3, 0.4]: part A = row 0, part B = rows 1..2
  const dims = [1, 3, 2];
  const f = [10, 20, 0.1, 0.2, 0.3, 0.4];
  const q = [10, 20, 0, 0, 0, 0];
  const A: OutputPart = { output: 'y', name: 'a', axis: 1, start: 0, end: 1 };
  const B: OutputPart = { output: 'y', name: 'b', axis: 1, start: 1, end: 3 };

  it('sums each part over its slice of the axis only', () => {
    expect(partSums(f, q, dims, A)).toEqual({ ff: 500, qq: 500, dd: 0, count: 2 });
    const b = partSums(f, q, dims, B);
    expect(b.ff).toBeCloseTo(0.01 + 0.04 + 0.09 + 0.16, 12); // 0.3
    expect(b.qq).toBe(0);
    expect(b.dd).toBeCloseTo(0.3, 12);
    expect(b.count).toBe(4);
  });

  it('the whole output hides the lost part; the headline is the worst part, named', () => {
    const sample = compareOutputs({ y: { dtype: 'float32', dims, data: Float32Array.from(f) } }, () => Float32Array.from(q), ['y'], { parts: [A, B], specs: {} });
    expect(sample.figures.y.cos).toBeGreaterThan(0.999); // 500 of 500.3 of the energy is exact: cos 0.9997
    expect(sample.figures[partKey(B)].cos).toBe(0); // every value of B rounded to 0
    const figures = outputFigures([sample, sample], ['y'], [A, B]);
    expect(figures.worst).toEqual({ output: 'y', part: 'b' });
    expect(figures.output.cos).toBe(0);
  });

  it('averages SQNR as the mean noise-to-signal ratio: an exact sample does not make the mean infinite', () => {
    // ratios 0 and 10^-2 -> mean 0.005 -> 23.01 dB
    expect(meanMetrics([{ cos: 1, mse: 0, sqnr: Infinity }, { cos: 0.99, mse: 1e-3, sqnr: 20 }]).sqnr).toBeCloseTo(23.0103, 4);
    expect(meanMetrics([{ cos: 1, mse: 0, sqnr: Infinity }]).sqnr).toBe(Infinity);
  });
});
