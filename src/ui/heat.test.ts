import { describe, expect, it } from 'vitest';
import { heatScale } from './heat';

/** Issue #11 item 5: a layer's colour depends on its own value only, so colours compare across edits. */
describe('heat scales', () => {
  const metrics = ['cos', 'local', 'sqnr', 'mse'] as const;
  const before: Record<(typeof metrics)[number], number[]> = { cos: [0.27, 0.93, 0.999], local: [0.6, 0.99, 0.9999], sqnr: [3, 18, 35], mse: [1e-5, 3e-3, 0.2] };
  // the same first layer; the others moved (an edit elsewhere)
  const after: typeof before = { cos: [0.27, 0.75, 0.95], local: [0.6, 0.4, 0.999999], sqnr: [3, 38, 39], mse: [1e-5, 5, 1e-9] };

  for (const metric of metrics) {
    it(`${metric}: fixed range; a layer keeps its colour when another layer's value changes`, () => {
      const a = heatScale(metric, before[metric]);
      const b = heatScale(metric, after[metric]);
      expect(a.range).toBe('fixed');
      expect(b.domain).toEqual(a.domain);
      expect(b.ticks).toEqual(a.ticks);
      expect(b.colorOf(before[metric][0])).toBe(a.colorOf(before[metric][0]));
    });

    it(`${metric}: fitted to the values the range moves; pinned, it stays`, () => {
      const a = heatScale(metric, before[metric], { fit: true });
      const b = heatScale(metric, after[metric], { fit: true });
      expect(a.range).toBe('fitted');
      expect(b.domain).not.toEqual(a.domain);
      const pinnedA = heatScale(metric, before[metric], { fit: true, pinned: a.domain });
      const pinnedB = heatScale(metric, after[metric], { fit: true, pinned: a.domain });
      expect(pinnedB.range).toBe('pinned');
      expect(pinnedB.domain).toEqual(a.domain);
      for (const v of before[metric]) expect(pinnedB.colorOf(v)).toBe(a.colorOf(v));
      expect(pinnedA.colorOf(before[metric][1])).toBe(a.colorOf(before[metric][1]));
    });
  }

  it('cosine on the nines scale: 0.9, 0.99, 0.999, 0.9999 get distinct colours, darker as they fall; 1.0 is the lightest', () => {
    const scale = heatScale('cos', []);
    const colours = [1, 0.9999, 0.999, 0.99, 0.9, 0.5, 0].map(scale.colorOf);
    expect(new Set(colours).size).toBe(colours.length);
    expect(scale.colorOf(1)).toBe(scale.colorAt(1));
    expect(scale.colorOf(-0.5)).toBe(scale.colorAt(0)); // below the range: the darkest
    expect(scale.ticks.map((t) => t.text)).toEqual(['0', '0.9', '0.99', '0.999', '0.9999', '0.99999']);
    // evenly spaced by nines
    const at = scale.ticks.map((t) => t.at);
    for (let k = 2; k < at.length; k++) expect(at[k] - at[k - 1]).toBeCloseTo(at[1] - at[0], 9);
  });

  it('SQNR in dB from 0 (red) to 40 (light); an exact layer (infinite SQNR) is the lightest', () => {
    const scale = heatScale('sqnr', []);
    expect(scale.domain).toEqual([0, 40]);
    expect(scale.colorOf(Infinity)).toBe(scale.colorAt(1));
    expect(scale.colorOf(-5)).toBe(scale.colorAt(0));
    expect(scale.colorOf(10)).not.toBe(scale.colorOf(30));
    expect(scale.ticks.map((t) => t.text)).toEqual(['0 dB', '10 dB', '20 dB', '30 dB', '40 dB']);
  });

  it('MSE and float gains by decades, zero the lightest; a search loss without a range of its own is fitted', () => {
    const mse = heatScale('mse', []);
    expect(mse.colorOf(0)).toBe(mse.colorAt(0));
    expect(mse.colorOf(1e-4)).not.toBe(mse.colorOf(1e-3));
    const gain = heatScale('sensitivity', [2.6e-5, 0.03], { sensitivity: 'gain' });
    expect(gain.range).toBe('fixed');
    expect(gain.domain).toEqual([1e-6, 0.1]);
    expect(gain.colorOf(-1e-4)).toBe(gain.colorAt(0)); // floating it hurts: nothing to gain
    expect(gain.colorOf(2.6e-5)).toBe(heatScale('sensitivity', [2.6e-5, 1e-6], { sensitivity: 'gain' }).colorOf(2.6e-5));
    const loss = heatScale('sensitivity', [-40, -20]);
    expect(loss.range).toBe('fitted');
    expect(loss.label).toContain('Sensitivity');
  });
});
