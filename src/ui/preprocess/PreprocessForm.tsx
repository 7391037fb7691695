import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { RESIZE_MODES, type ResizeMode } from '../../core/io/dataset/ImagePreprocess';
import { PRESET_IDS, PRESETS, presetOf, withPreset, type PresetId } from '../../core/io/dataset/presets';
import { confirmPreprocess } from '../../state/preprocessActions';
import { useApp } from '../../state/store';
import { readDraft, toDraft, type DraftField, type PreprocessDraft } from './preprocessDraft';
import { PreprocessPreview } from './PreprocessPreview';
import './preprocess.css';

const MODE_LABEL: Record<ResizeMode, string> = {
  stretch: 'Stretch to the input size',
  crop: 'Centre crop',
  letterbox: 'Letterbox (keep aspect, centred, padded)',
  keep_aspect_pad: 'Keep aspect, pad right (text lines)',
};

type Problems = Partial<Record<DraftField, string>>;

/** A labelled control with, under it, what it wants when what it holds is wrong. */
function Field({ label, field, problems, title, children }: { label: string; field: DraftField; problems: Problems; title?: string; children: (props: { 'aria-invalid': boolean; 'aria-describedby'?: string }) => ReactNode }) {
  const problem = problems[field];
  const id = `preprocess-${field}-problem`;
  return (
    <label title={title} className={field === 'mean' || field === 'scale' ? 'wide' : undefined}>
      {label}
      {children({ 'aria-invalid': Boolean(problem), ...(problem ? { 'aria-describedby': id } : {}) })}
      {problem && <span className="field-problem" id={id} data-testid={`problem-${field}`}>{problem}</span>}
    </label>
  );
}

/** What the model says about its preprocessing, and whether the user has confirmed it. */
function ModelSays() {
  const told = useApp((s) => s.modelPreprocess);
  const confirmed = useApp((s) => s.preprocessConfirmed);
  const pending = useApp((s) => s.pendingImages);
  if (!told) return null;
  return (
    <div className="model-says">
      {pending ? (
        <p className="pending" data-testid="preprocess-pending">
          {pending.length} file{pending.length === 1 ? '' : 's'} wait{pending.length === 1 ? 's' : ''} for calibration until you confirm their preprocessing below. Check it on the preview first.
        </p>
      ) : !confirmed && <p className="muted" data-testid="preprocess-unconfirmed">Set from the model, not confirmed yet: images will wait for your confirmation.</p>}
      <details open={!confirmed}>
        <summary className="muted">What the model says</summary>
        <ul data-testid="model-preprocess-notes">{told.notes.map((note) => <li key={note}>{note}</li>)}</ul>
      </details>
    </div>
  );
}

/**
 * Image preprocessing in TPU-MLIR's terms plus the resize mode, with presets, each field saying
 * what it wants when wrong, and a preview of one image as the model receives it. Set from the
 * model when it opens; images wait until it is confirmed here.
 */
export function PreprocessForm() {
  const preprocess = useApp((s) => s.preprocess);
  const told = useApp((s) => s.modelPreprocess);
  const confirmed = useApp((s) => s.preprocessConfirmed);
  const pending = useApp((s) => s.pendingImages !== null);
  const hasData = useApp((s) => s.sources.data !== null);
  const input = useApp((s) => s.model?.graph.inputs[0] ?? null);
  const [draft, setDraft] = useState(() => toDraft(preprocess));
  useEffect(() => setDraft(toDraft(preprocess)), [preprocess]);
  const reading = useMemo(() => readDraft(draft, input), [draft, input]);
  const { problems } = reading;
  const set = (patch: Partial<PreprocessDraft>) => setDraft((d) => ({ ...d, ...patch }));

  const base = told?.preprocess ?? preprocess;
  const sameAsModel = reading.ok && JSON.stringify(toDraft(reading.preprocess)) === JSON.stringify(toDraft(base));
  const preset = reading.ok ? (sameAsModel ? 'model' : presetOf(reading.preprocess) ?? 'custom') : 'custom';
  const pickPreset = (id: string) => {
    if (id === 'model') setDraft(toDraft(base));
    else if (id !== 'custom') setDraft(toDraft(withPreset(base, id as PresetId)));
  };
  const submit = () => {
    if (reading.ok) void confirmPreprocess(reading.preprocess);
  };
  const label = confirmed ? (hasData ? 'Apply and recalibrate' : 'Apply') : pending ? 'Confirm preprocessing and calibrate' : 'Confirm preprocessing';
  const padded = draft.resizeMode === 'letterbox' || draft.resizeMode === 'keep_aspect_pad';

  return (
    <div className="preprocess-column">
      <form className="preprocess" onSubmit={(e) => { e.preventDefault(); submit(); }} data-testid="preprocess-form" noValidate>
        <h4>Image preprocessing</h4>
        <ModelSays />
        <label className="wide">Preset
          <select value={preset} onChange={(e) => pickPreset(e.target.value)} data-testid="preprocess-preset">
            <option value="model">From the model</option>
            {PRESET_IDS.map((id) => <option key={id} value={id} title={PRESETS[id].description}>{PRESETS[id].label}: {PRESETS[id].description}</option>)}
            <option value="custom" disabled>Custom</option>
          </select>
        </label>
        <Field label="Mean" field="mean" problems={problems}>
          {(aria) => <input className="input" value={draft.mean} onChange={(e) => set({ mean: e.target.value })} placeholder="123.675,116.28,103.53" data-testid="preprocess-mean" {...aria} />}
        </Field>
        <Field label="Scale" field="scale" problems={problems}>
          {(aria) => <input className="input" value={draft.scale} onChange={(e) => set({ scale: e.target.value })} placeholder="0.0171,0.0175,0.0174" data-testid="preprocess-scale" {...aria} />}
        </Field>
        <Field label="Pixel format" field="pixelFormat" problems={problems}>
          {(aria) => (
            <select value={draft.pixelFormat} onChange={(e) => set({ pixelFormat: e.target.value as PreprocessDraft['pixelFormat'] })} data-testid="preprocess-pixel-format" {...aria}>
              <option value="rgb">RGB</option><option value="bgr">BGR</option><option value="gray">Gray</option>
            </select>
          )}
        </Field>
        <Field label="Layout" field="layout" problems={problems}>
          {(aria) => (
            <select value={draft.layout} onChange={(e) => set({ layout: e.target.value as PreprocessDraft['layout'] })} data-testid="preprocess-layout" {...aria}>
              <option value="nchw">NCHW</option><option value="nhwc">NHWC</option>
            </select>
          )}
        </Field>
        <Field label="Resize" field="resizeMode" problems={problems}>
          {(aria) => (
            <select value={draft.resizeMode} data-testid="preprocess-resize-mode" {...aria}
              onChange={(e) => {
                const resizeMode = e.target.value as ResizeMode;
                set({ resizeMode, padValue: draft.padValue || (resizeMode === 'letterbox' ? '114' : resizeMode === 'keep_aspect_pad' ? '0' : '') });
              }}>
              {RESIZE_MODES.map((m) => <option key={m} value={m}>{MODE_LABEL[m]}</option>)}
            </select>
          )}
        </Field>
        <Field label="Input size H,W" field="inputSize" problems={problems} title="Used when the model's input height and width are dynamic">
          {(aria) => <input className="input" value={draft.inputSize} onChange={(e) => set({ inputSize: e.target.value })} placeholder="from the model" data-testid="preprocess-input-size" {...aria} />}
        </Field>
        {draft.resizeMode === 'crop' && (
          <Field label="Resize H,W before the crop" field="resizeDims" problems={problems} title="Resize to these dims, then centre-crop to the input size (TPU-MLIR --resize_dims); empty: keep the aspect until the shorter side fits">
            {(aria) => <input className="input" value={draft.resizeDims} onChange={(e) => set({ resizeDims: e.target.value })} placeholder="keep aspect" data-testid="preprocess-resize-dims" {...aria} />}
          </Field>
        )}
        {padded && (
          <Field label="Pad value" field="padValue" problems={problems} title="The pixel value of the padding, before mean and scale">
            {(aria) => <input className="input" value={draft.padValue} onChange={(e) => set({ padValue: e.target.value })} placeholder="114" data-testid="preprocess-pad-value" {...aria} />}
          </Field>
        )}
        <div className="actions">
          <button className={`btn${confirmed ? '' : ' primary'}`} type="submit" disabled={!reading.ok} data-testid={confirmed ? 'preprocess-apply' : 'preprocess-confirm'}>{label}</button>
          {!reading.ok && <span className="field-problem">Fix the fields marked in red first.</span>}
        </div>
      </form>
      <PreprocessPreview preprocess={reading.ok ? reading.preprocess : null} />
    </div>
  );
}
