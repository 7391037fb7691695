import { useEffect, useState } from 'react';
import type { ImagePreprocess } from '../core/io/dataset/loadDataset';
import { applyPreprocess } from '../state/actions';
import { useApp } from '../state/store';
import { DATA_ACCEPT, PickFiles } from './FileDrop';
import { CalibrationPanel } from './CalibrationPanel';
import { LimitsForm } from './LimitsForm';
import { OutputTasks } from './OutputTasks';

function parseTriple(text: string): [number, number, number] | null {
  const parts = text.split(',').map((s) => Number(s.trim()));
  return parts.length === 3 && parts.every(Number.isFinite) ? (parts as [number, number, number]) : null;
}

function parsePair(text: string): [number, number] | null {
  if (!text.trim()) return null;
  const parts = text.split(',').map((s) => Number(s.trim()));
  return parts.length === 2 && parts.every((n) => Number.isInteger(n) && n > 0) ? (parts as [number, number]) : null;
}

/** Image preprocessing in TPU-MLIR's terms, applied when images are read. */
function PreprocessForm() {
  const preprocess = useApp((s) => s.preprocess);
  const [draft, setDraft] = useState(() => toDraft(preprocess));
  useEffect(() => setDraft(toDraft(preprocess)), [preprocess]);
  const mean = parseTriple(draft.mean);
  const scale = parseTriple(draft.scale);
  const inputSize = draft.inputSize.trim() ? parsePair(draft.inputSize) : null;
  const resizeDims = draft.resizeDims.trim() ? parsePair(draft.resizeDims) : null;
  const valid = mean && scale && (!draft.inputSize.trim() || inputSize) && (!draft.resizeDims.trim() || resizeDims);
  const submit = () => {
    if (!valid) return;
    const next: ImagePreprocess = { mean, scale, inputSize, resizeDims, pixelFormat: draft.pixelFormat, layout: draft.layout };
    void applyPreprocess(next);
  };
  return (
    <form className="preprocess" onSubmit={(e) => { e.preventDefault(); submit(); }} data-testid="preprocess-form">
      <h4>Image preprocessing</h4>
      <label>Mean <input className="input" value={draft.mean} onChange={(e) => setDraft({ ...draft, mean: e.target.value })} placeholder="123.675,116.28,103.53" aria-invalid={!mean} /></label>
      <label>Scale <input className="input" value={draft.scale} onChange={(e) => setDraft({ ...draft, scale: e.target.value })} placeholder="0.0171,0.0175,0.0174" aria-invalid={!scale} /></label>
      <label>Pixel format
        <select value={draft.pixelFormat} onChange={(e) => setDraft({ ...draft, pixelFormat: e.target.value as ImagePreprocess['pixelFormat'] })}>
          <option value="rgb">RGB</option><option value="bgr">BGR</option><option value="gray">Gray</option>
        </select>
      </label>
      <label>Layout
        <select value={draft.layout} onChange={(e) => setDraft({ ...draft, layout: e.target.value as ImagePreprocess['layout'] })}>
          <option value="nchw">NCHW</option><option value="nhwc">NHWC</option>
        </select>
      </label>
      <label title="Used when the model's input height and width are dynamic">Input size H,W <input className="input" value={draft.inputSize} onChange={(e) => setDraft({ ...draft, inputSize: e.target.value })} placeholder="from the model" /></label>
      <label title="Resize to these dims, then centre-crop to the input size (TPU-MLIR --resize_dims)">Resize H,W <input className="input" value={draft.resizeDims} onChange={(e) => setDraft({ ...draft, resizeDims: e.target.value })} placeholder="input size" /></label>
      <button className="btn" type="submit" disabled={!valid} data-testid="preprocess-apply">Apply and recalibrate</button>
    </form>
  );
}

function toDraft(p: ImagePreprocess) {
  return {
    mean: p.mean.join(','), scale: p.scale.map((v) => +v.toPrecision(6)).join(','), pixelFormat: p.pixelFormat, layout: p.layout,
    inputSize: p.inputSize ? p.inputSize.join(',') : '', resizeDims: p.resizeDims ? p.resizeDims.join(',') : '',
  };
}

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
        {!calibration && <p className="muted">Calibration runs when data is added.</p>}
        <OutputTasks />
        <LimitsForm />
      </div>
      <CalibrationPanel />
      <PreprocessForm />
    </div>
  );
}
