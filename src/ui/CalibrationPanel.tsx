import { CALIBRATION_METHODS, type CalibrationMethod } from '../core/model/CaliTable';
import { bestThresholdMethod, taskScore } from '../core/session/views';
import { calibrate, measureFloatBaseline, runThresholdSearch, updateCalibrationSettings, updateWeightOptions } from '../state/actions';
import { nothingToQuantize, useApp } from '../state/store';
import { isRunning } from '../state/slices/jobs';
import { CorrectionsSection } from './CorrectionsSection';
import { OverrideReset } from './OverrideReset';
import { formatBytes, formatDuration, formatMetric } from './format';

/** How each method is introduced in the page (the CLI names are the values). */
export const METHOD_LABEL: Record<CalibrationMethod, string> = {
  max: 'max (min/max)',
  percentile9999: 'percentile9999 (TPU-MLIR)',
  minmax_percentile: 'minmax percentile (ONE default)',
  moving_average: 'moving average (ONE)',
  kl: 'KL (TPU-MLIR)',
  kl_tensorrt: 'KL (TensorRT / Bolt)',
  mse: 'MSE / OCTAV',
  aciq_gauss: 'ACIQ Gauss',
  aciq_laplace: 'ACIQ Laplace',
};

const VALUES_PER_TENSOR = [4096, 16384, 65536, 'all'] as const;

/** Calibration method and knobs, weights, and search_threshold's comparison. */
export function CalibrationPanel() {
  const calibration = useApp((s) => s.calibration);
  const settings = useApp((s) => s.calibrationSettings);
  const weights = useApp((s) => s.weightOptions);
  const dataset = useApp((s) => s.dataset);
  const search = useApp((s) => s.thresholdSearch);
  const baseline = useApp((s) => s.floatBaseline);
  const searching = useApp((s) => isRunning(s.jobs, 'searchThreshold'));
  const calibrating = useApp((s) => isRunning(s.jobs, 'calibrate') || isRunning(s.jobs, 'loadDataset'));
  const nothing = useApp(nothingToQuantize);
  // Images read for a model whose preprocessing is not confirmed (issue #13) are not a failed calibration.
  const waiting = useApp((s) => s.pendingImages !== null);
  const total = dataset?.sampleCount ?? 0;
  // The recommendation (issue #11): the best task figure, cosine breaking ties; the same rule the worker applied.
  const best = search?.length ? search.find((r) => r.method === bestThresholdMethod(search)) ?? null : null;
  const hasTasks = search?.some((r) => r.tasks && Object.keys(r.tasks).length > 0) ?? false;
  return (
    <div className="calibration-panel">
      <h4>Activations</h4>
      {dataset && !calibration && !calibrating && waiting && (
        <p className="note" data-testid="calibration-waits">The images wait for their preprocessing to be confirmed (Image preprocessing, right).</p>
      )}
      {dataset && !calibration && !calibrating && !waiting && (
        <p className="note">The data is read but not calibrated (a calibration was cancelled or failed).{' '}
          <button className="btn" onClick={() => void calibrate()} data-testid="calibrate-now">Calibrate</button>
        </p>
      )}
      <div className="form-grid">
        <label>Method
          <select value={settings.method} onChange={(e) => void updateCalibrationSettings({ method: e.target.value as CalibrationMethod })} data-testid="cali-method" disabled={!calibration}>
            {CALIBRATION_METHODS.map((m) => <option key={m} value={m}>{METHOD_LABEL[m]}</option>)}
          </select>
        </label>
        <label title="Every method's statistics lets you compare methods and switch between them without running the data again; the chosen method's alone is faster">Statistics of
          <select value={settings.collect} onChange={(e) => void updateCalibrationSettings({ collect: e.target.value as 'all' | 'method' })} data-testid="collect">
            <option value="all">every method</option><option value="method">the chosen method</option>
          </select>
        </label>
        <label title="Bins of the KL histograms (TPU-MLIR histogram_bin_num)">Histogram bins
          <input className="input" type="number" min={128} step={128} defaultValue={settings.histogramBins} key={`bins-${settings.histogramBins}`}
            onBlur={(e) => { const n = Number(e.target.value); if (Number.isInteger(n) && n >= 128 && n !== settings.histogramBins) void updateCalibrationSettings({ histogramBins: n }); }} data-testid="histogram-bins" />
        </label>
        <label title="Elements observed per tensor and sample for the histogram methods; min/max are always exact">Values per tensor
          <select value={String(settings.valuesPerTensor)} onChange={(e) => void updateCalibrationSettings({ valuesPerTensor: e.target.value === 'all' ? 'all' : Number(e.target.value) })} data-testid="values-per-tensor">
            {VALUES_PER_TENSOR.map((v) => <option key={v} value={String(v)}>{v === 'all' ? 'all (exact, slower)' : v.toLocaleString('en')}</option>)}
          </select>
        </label>
        <label title="How many samples calibrate (the first N)">Calibrate on
          <input className="input" type="number" min={1} max={total || undefined} placeholder={`all ${total}`} defaultValue={settings.calibrationSamples ?? ''} key={`cal-${settings.calibrationSamples}`}
            onBlur={(e) => { const n = e.target.value ? Number(e.target.value) : null; if (n !== settings.calibrationSamples && (n === null || n >= 1)) void updateCalibrationSettings({ calibrationSamples: n }); }} data-testid="calibration-samples" />
        </label>
        <label title="How many samples every evaluation runs (the first N)">Evaluate on
          <input className="input" type="number" min={1} max={total || undefined} placeholder={`all ${total}`} defaultValue={settings.evaluationSamples ?? ''} key={`eval-${settings.evaluationSamples}`}
            onBlur={(e) => { const n = e.target.value ? Number(e.target.value) : null; if (n !== settings.evaluationSamples && (n === null || n >= 1)) void updateCalibrationSettings({ evaluationSamples: n }); }} data-testid="evaluation-samples" />
        </label>
      </div>
      <OverrideReset />
      <h4>Weights</h4>
      <div className="form-grid">
        <label>Granularity
          <select value={weights.granularity} onChange={(e) => void updateWeightOptions({ granularity: e.target.value as 'channel' | 'tensor' })} data-testid="weight-granularity">
            <option value="channel">per channel</option><option value="tensor">per tensor</option>
          </select>
        </label>
        <label>Scale
          <select value={weights.scaleMethod} onChange={(e) => void updateWeightOptions({ scaleMethod: e.target.value as 'max' | 'mse' })} data-testid="weight-scale">
            <option value="max">max |w|</option><option value="mse">minimum MSE</option>
          </select>
        </label>
      </div>
      <CorrectionsSection />
      {calibration && <p className="muted note">{calibration.tensorCount} tensors over {calibration.sampleCount} samples in {formatDuration(calibration.elapsedMs)}; evaluations use {calibration.evaluationSampleCount}. {calibration.overrides.length > 0 && `${calibration.overrides.length} tensors set by hand.`} {calibration.imported && 'Thresholds imported from a cali_table.'}</p>}
      {calibration && (
        <p className="muted note" data-testid="calibration-cost">
          {baseline
            ? <>Float inference {baseline.perSampleMs.toFixed(1)} ms/sample: calibration costs <b>{(calibration.elapsedMs / calibration.sampleCount / baseline.perSampleMs).toFixed(2)}×</b> float{baseline.calibrationBytes !== null && <>, keeps {formatBytes(baseline.calibrationBytes)} of statistics</>}. </>
            : null}
          <button className="btn small ghost" onClick={() => void measureFloatBaseline()} data-testid="measure-baseline">{baseline ? 'Measure again' : 'Compare with float inference'}</button>
        </p>
      )}
      <h4>search_threshold</h4>
      <button className="btn small" disabled={!calibration || searching || nothing !== null} title={nothing ? `Nothing to quantize: ${nothing}` : undefined} onClick={() => void runThresholdSearch()} data-testid="search-threshold">{searching ? 'Searching…' : 'Compare every method'}</button>
      {search && (
        <table className="mini-table" data-testid="threshold-search-table">
          <thead><tr><th>Method</th><th>Output cos</th><th>SQNR</th>{hasTasks && <th title="The worst task output's figure: what the recommendation goes by">Task</th>}<th></th></tr></thead>
          <tbody>
            {[...search].sort((a, b) => b.output.cos - a.output.cos).map((r) => {
              const task = taskScore(r.tasks);
              const warnings = r.warnings ?? [];
              return (
                <tr key={r.method} className={`${r === best ? 'best' : ''}${warnings.some((w) => w.kind === 'method-outlier') ? ' failing' : ''}`} data-method={r.method} data-warnings={warnings.length}>
                  <td>{METHOD_LABEL[r.method]}</td><td className="num">{formatMetric('cos', r.output.cos)}</td><td className="num">{formatMetric('sqnr', r.output.sqnr)}</td>
                  {hasTasks && <td className="num" data-testid="threshold-task">{(100 * task.primary).toFixed(1)} %</td>}
                  <td>{warnings.length > 0 && <span className="warn-flag" title={warnings.map((w) => w.message).join('\n')} data-testid="threshold-warning">⚠ {warnings.length}</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
