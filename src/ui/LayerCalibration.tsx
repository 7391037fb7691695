import { useEffect, useState } from 'react';
import { tensorCalibration } from '../state/queries';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../core/model/CaliTable';
import type { TensorCalibrationView } from '../core/Workbench';
import { setTensorOverride } from '../state/actions';
import { useApp } from '../state/store';
import { ActivationHistogram } from './ActivationHistogram';
import { METHOD_LABEL } from './CalibrationPanel';

/**
 * The calibration of one layer output: its |x| histogram with every method's threshold, and the
 * choice for this tensor alone (another method, or a typed threshold).
 */
export function LayerCalibration({ tensor }: { tensor: string }) {
  const calibration = useApp((s) => s.calibration);
  const modelMethod = useApp((s) => s.calibrationSettings.method);
  const [view, setView] = useState<TensorCalibrationView | null>(null);
  const [typed, setTyped] = useState('');
  useEffect(() => {
    let live = true;
    if (!calibration) {
      setView(null);
      return;
    }
    void tensorCalibration(tensor).then((v) => {
      if (live) setView(v);
    }).catch(() => live && setView(null));
    return () => {
      live = false;
    };
  }, [tensor, calibration]);
  if (!calibration) return null;
  if (!view) return <p className="muted">No calibration for {tensor}.</p>;
  const override = view.override;
  const choice = override ? ('method' in override ? override.method : 'user') : view.active.source === 'imported' ? 'imported' : '';
  const thresholds = [
    ...CALIBRATION_METHODS.flatMap((m) => (view.entries[m] ? [{ label: m, value: view.entries[m].threshold }] : [])),
    ...(override && 'threshold' in override ? [{ label: 'user', value: override.threshold }] : []),
    ...(view.active.source === 'imported' ? [{ label: 'imported', value: view.active.threshold }] : []),
  ];
  const chosen = override ? ('method' in override ? override.method : 'user') : view.active.source === 'imported' ? 'imported' : modelMethod;
  const submitTyped = () => {
    const value = Number(typed);
    if (Number.isFinite(value) && value > 0) void setTensorOverride(tensor, { threshold: value });
  };
  return (
    <div className="layer-calibration" data-testid="layer-calibration">
      <ActivationHistogram width={view.histogram.width} counts={view.histogram.counts} thresholds={thresholds} chosen={chosen}
        onChoose={(label) => { if ((CALIBRATION_METHODS as readonly string[]).includes(label)) void setTensorOverride(tensor, label === modelMethod ? null : { method: label as CalibrationMethod }); }} />
      <dl className="metrics small">
        <dt>Threshold</dt><dd data-testid="tensor-threshold">{view.active.threshold.toPrecision(5)}</dd>
        <dt>Range</dt><dd>[{view.active.min.toPrecision(4)}, {view.active.max.toPrecision(4)}]</dd>
        <dt>Observed</dt><dd>[{view.min.toPrecision(4)}, {view.max.toPrecision(4)}]</dd>
      </dl>
      <div className="row-inline">
        <select value={choice} onChange={(e) => void setTensorOverride(tensor, e.target.value ? { method: e.target.value as CalibrationMethod } : null)} data-testid="tensor-method">
          <option value="">model method ({modelMethod})</option>
          {CALIBRATION_METHODS.map((m) => <option key={m} value={m}>{METHOD_LABEL[m]}</option>)}
          {choice === 'user' && <option value="user" disabled>typed threshold</option>}
          {choice === 'imported' && <option value="imported" disabled>imported cali_table</option>}
        </select>
        <input className="input threshold-input" placeholder="threshold" value={typed} onChange={(e) => setTyped(e.target.value)} onKeyDown={(e) => e.key === 'Enter' && submitTyped()} data-testid="tensor-threshold-input" aria-label="Type a threshold" />
        <button className="btn small" onClick={submitTyped} data-testid="tensor-threshold-apply">Set</button>
      </div>
    </div>
  );
}
