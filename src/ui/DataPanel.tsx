import { useApp } from '../state/store';
import { DATA_ACCEPT, PickFiles } from './FileDrop';
import { CalibrationPanel } from './CalibrationPanel';
import { LimitsForm } from './LimitsForm';
import { OutputTasks } from './OutputTasks';
import { PreprocessForm } from './preprocess/PreprocessForm';

/** The dataset, its preprocessing and the calibration. */
export function DataPanel() {
  const dataset = useApp((s) => s.dataset);
  const calibration = useApp((s) => s.calibration);
  const model = useApp((s) => s.model);
  return (
    <div className="data-panel">
      <div className="data-summary">
        <h4>Calibration data</h4>
        {dataset ? (
          <>
            <p data-testid="dataset-summary"><b>{dataset.sampleCount}</b> samples from {dataset.source}</p>
            <ul className="tensors">{dataset.inputs.map((i) => <li key={i.name}><code>{i.name}</code> <span className="muted">{i.dtype} [{i.dims.join('×')}]</span></li>)}</ul>
            <details><summary className="muted">Samples</summary><ol className="samples">{dataset.sampleNames.map((n, i) => <li key={i}>{n}</li>)}</ol></details>
          </>
        ) : <p className="muted">{model ? 'Add .npy/.npz files, an ONE .h5 file or images (drop them anywhere).' : 'Open a model first.'}</p>}
        <PickFiles label="Add data" accept={DATA_ACCEPT} multiple testId="pick-data-panel" className="btn small" />
        {' '}<PickFiles label="Add folder" accept={DATA_ACCEPT} directory testId="pick-data-folder" className="btn small"
          title="A folder of samples, or of class folders (data/<class>/<image>): the folder names can then be the labels" />
        {!calibration && <p className="muted">Calibration runs when data is added (images once their preprocessing is confirmed).</p>}
        <OutputTasks />
        <LimitsForm />
      </div>
      <CalibrationPanel />
      <PreprocessForm />
    </div>
  );
}
