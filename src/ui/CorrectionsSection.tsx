import type { CorrectionEffects } from '../core/Workbench';
import { setCorrection } from '../state/actions';
import { nothingToQuantize, useApp, type CorrectionToggle } from '../state/store';

interface ToggleInfo {
  readonly key: CorrectionToggle;
  readonly label: string;
  readonly title: string;
  /** What the correction did, from the worker's report. */
  readonly effect: (effects: CorrectionEffects) => string;
  /** Its number, in TPU-MLIR's name. */
  readonly parameter?: { readonly key: 'tuneNum' | 'minLayerCos'; readonly title: string; readonly valid: (n: number) => boolean; readonly step: number };
}

const TOGGLES: readonly ToggleInfo[] = [
  {
    key: 'foldBatchNorm', label: 'Fold BatchNorm', title: "BatchNormalization folded into the convolution before it (Bolt's -b): one quantized layer instead of two",
    effect: (e) => `${e.foldedBatchNorms} folded`,
  },
  {
    key: 'equalize', label: 'Cross-layer equalization', title: 'Conv → ReLU → Conv pairs rescaled per channel so both weights use their int8 range (docs/algorithms.md §6)',
    effect: (e) => `${e.equalizedPairs} pair${e.equalizedPairs === 1 ? '' : 's'}`,
  },
  {
    key: 'smoothQuant', label: 'SmoothQuant', title: 'Activation outliers of LayerNorm/Mul → MatMul/Gemm moved into the weights (alpha searched 0..1)',
    effect: (e) => `${e.smoothedPairs} pair${e.smoothedPairs === 1 ? '' : 's'}`,
  },
  {
    key: 'biasCorrection', label: 'Bias correction', title: '8-bit convolutions below layer cosine 0.99 get the mean of their output error added to the bias; reverted when the output similarity drops',
    effect: (e) => {
      const b = e.biasCorrection;
      if (!b) return '';
      if (b.layers === 0) return 'no layer below 0.99';
      return `${b.layers} conv${b.layers === 1 ? '' : 's'}, ${b.kept ? 'kept' : `reverted (would give ${b.after.toFixed(4)})`}`;
    },
    parameter: { key: 'minLayerCos', title: 'Convolutions whose own output cosine is below this are corrected (TPU-MLIR min_layer_cos)', valid: (n) => n >= -1 && n <= 1, step: 0.001 },
  },
  {
    key: 'tuneThresholds', label: 'KL threshold tuning', title: "TPU-MLIR's tuning: 22 thresholds from KL's to the max per tensor, the one with the least error at its consumers kept",
    effect: (e) => (e.tunedTensors === null ? 'needs KL statistics' : `${e.tunedTensors} tensor${e.tunedTensors === 1 ? '' : 's'} moved`),
    parameter: { key: 'tuneNum', title: 'Samples the tuning runs (TPU-MLIR tune_num)', valid: (n) => Number.isInteger(n) && n >= 1, step: 1 },
  },
];

const signed = (d: number) => `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(4)}`;

/** The correction toggles, each with what it did and its measured effect on the output cosine. */
export function CorrectionsSection() {
  const calibration = useApp((s) => s.calibration);
  const measured = useApp((s) => s.correctionEffects);
  const pending = useApp((s) => s.correctionsPending);
  const nothing = useApp(nothingToQuantize);
  const busy = pending !== null;
  const corrections = pending ?? calibration?.corrections;
  const effects = calibration?.correctionEffects;
  const method = calibration?.settings.method;
  return (
    <>
      <h4>Corrections</h4>
      <ul className="corrections" data-testid="corrections">
        {TOGGLES.map((t) => {
          const on = corrections?.[t.key] ?? false;
          const delta = measured[t.key];
          const changing = pending !== null && (pending[t.key] !== calibration?.corrections[t.key] || (t.parameter !== undefined && pending[t.parameter.key] !== calibration?.corrections[t.parameter.key]));
          return (
            <li key={t.key} data-correction={t.key}>
              <label className="check" title={t.title}>
                <input type="checkbox" checked={on} disabled={!calibration || busy || nothing !== null} title={nothing ? `Nothing to quantize: ${nothing}` : undefined} onChange={(e) => void setCorrection(t.key, e.target.checked)} data-testid={`correction-${t.key}`} />
                {t.label}
              </label>
              {t.parameter && corrections && (
                <label className="check" title={t.parameter.title}>
                  {t.parameter.key === 'tuneNum' ? 'tune_num' : 'min_layer_cos'}
                  <input className="input tiny" type="number" step={t.parameter.step} defaultValue={corrections[t.parameter.key]} key={`${t.parameter.key}-${corrections[t.parameter.key]}`} disabled={busy}
                    onBlur={(e) => {
                      const p = t.parameter!;
                      const n = Number(e.target.value);
                      if (e.target.value !== '' && p.valid(n) && n !== corrections[p.key]) void setCorrection(p.key, n);
                    }}
                    data-testid={`correction-${t.parameter.key}`} />
                </label>
              )}
              <span className="muted effect" data-testid={`correction-effect-${t.key}`}>
                {changing ? 'applying and measuring…' : <>{[
                  on && effects ? t.effect(effects) : '',
                  on && t.key === 'tuneThresholds' && method !== 'kl' ? 'applies while the method is KL' : '',
                ].filter(Boolean).join(' · ')}
                {delta && delta.before !== null && <>{on && effects && t.effect(effects) ? ' · ' : ''}{delta.on ? '' : 'switched off: '}cos {delta.before.toFixed(4)} → {delta.after.toFixed(4)} <b className={delta.after >= delta.before ? 'good' : 'bad'}>{signed(delta.after - delta.before)}</b></>}</>}
              </span>
            </li>
          );
        })}
      </ul>
      {effects && effects.skipped.length > 0 && (corrections?.foldBatchNorm || corrections?.equalize || corrections?.smoothQuant) && (
        <details className="muted note" data-testid="corrections-skipped"><summary>{effects.skipped.length} left alone</summary><ul>{effects.skipped.map((s) => <li key={s}>{s}</li>)}</ul></details>
      )}
    </>
  );
}
