import { useEffect, useState } from 'react';
import { redo, setScheme, startDemo, undo } from '../state/actions';
import { confirmReplace } from './dialogs/confirm';
import { useShortcutsOpen } from './dialogs/shortcuts';
import { setEngine } from '../state/session/restore';
import { useApp } from '../state/store';
import { TARGET_SCHEMES, type TargetScheme } from '../core/quant/schemes';
import { DATA_ACCEPT, PickFiles } from './FileDrop';
import { OutputSimilarity } from './OutputSimilarity';
import { formatBytes } from './format';

/** Windows narrower than this get the header's short forms, so the file name keeps its room (issue 13). */
const NARROW = '(max-width: 1360px)';

function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => typeof matchMedia !== 'undefined' && matchMedia(NARROW).matches);
  useEffect(() => {
    const query = matchMedia(NARROW);
    const changed = () => setNarrow(query.matches);
    query.addEventListener('change', changed);
    return () => query.removeEventListener('change', changed);
  }, []);
  return narrow;
}

export function Header() {
  const narrow = useNarrow();
  const model = useApp((s) => s.model);
  const loading = useApp((s) => s.modelLoading);
  const engineKind = useApp((s) => s.engineKind);
  const capabilities = useApp((s) => s.capabilities);
  const scheme = useApp((s) => s.scheme);
  const canUndo = useApp((s) => s.past.length > 0);
  const canRedo = useApp((s) => s.future.length > 0);
  const calibrated = useApp((s) => s.calibration !== null);
  return (
    <header className="header">
      <div className="brand">q<span>bench</span></div>
      <div className="model-info" data-testid="model-info">
        {loading ? <span className="muted">Opening {loading}…</span> : model ? (
          <>
            <span className="model-name" title={model.graph.fileName}>{model.graph.fileName}</span>
            <span className="model-facts" title={`${model.graph.producer || 'unknown producer'}; float passes on ${model.engine}${model.quantizedEngine && model.quantizedEngine !== model.engine ? `, quantized models on ${model.quantizedEngine}` : ''}`}>
              opset {model.graph.opset}{model.findings.upgradedFrom !== null ? ` (from ${model.findings.upgradedFrom})` : ''} · {model.layers.length} layers · {formatBytes(model.graph.sizeBytes)}
            </span>
          </>
        ) : <span className="muted">No model</span>}
      </div>
      <div className="header-actions">
        <PickFiles label="Open model" accept=".onnx,.tflite,.circle,.qbench" testId="pick-model" />
        <PickFiles label="Add data" accept={DATA_ACCEPT} multiple testId="pick-data" />
        <button className="btn ghost" onClick={() => void confirmReplace('The demo').then((yes) => (yes ? startDemo() : undefined))} data-testid="load-demo" title="Open the built-in demo (PP-OCRv4 text detector); asks first when it would replace your edits">Demo</button>
        <span className="sep" />
        <button className="btn ghost icon" disabled={!canUndo} onClick={undo} title="Undo the last precision change (Ctrl+Z)" aria-label="Undo" data-testid="undo">↶</button>
        <button className="btn ghost icon" disabled={!canRedo} onClick={redo} title="Redo (Ctrl+Y or Ctrl+Shift+Z)" aria-label="Redo" data-testid="redo">↷</button>
        <span className="sep" />
        <select value={engineKind} onChange={(e) => void setEngine(e.target.value as 'wasm' | 'webgpu')} data-testid="engine-select" aria-label="Engine"
          title={engineKind === 'webgpu'
            ? 'WebGPU: the float passes (calibration, the float references) run on the GPU; quantized models (what-if, heatmap, searches, the export check) run on WASM, since onnxruntime-web has no int8 kernels on WebGPU'
            : 'WASM: everything runs on the CPU (onnxruntime-web); searches and what-if split the samples over one worker per core'}>
          <option value="wasm">{narrow ? '' : 'Engine: '}WASM{capabilities && !capabilities.crossOriginIsolated ? ' (1 thread)' : ''}</option>
          <option value="webgpu" disabled={!capabilities?.webgpu}>{narrow ? '' : 'Engine: '}WebGPU{capabilities && !capabilities.webgpu ? ' (no adapter)' : ' float + WASM int8'}</option>
        </select>
        <select value={scheme} disabled={!calibrated} onChange={(e) => void setScheme(e.target.value as TargetScheme['id'])} data-testid="scheme-select" aria-label="Target scheme" title="The toolchain whose quantization rules the simulation follows">
          {Object.values(TARGET_SCHEMES).map((s) => <option key={s.id} value={s.id} title={s.description}>{narrow ? '' : 'Target: '}{s.name}</option>)}
        </select>
      </div>
      <button className="btn ghost icon help" onClick={() => useShortcutsOpen.setState({ open: true })} title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts" data-testid="shortcuts">?</button>
      <OutputSimilarity />
    </header>
  );
}
