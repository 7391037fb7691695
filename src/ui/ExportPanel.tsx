import { useRef } from 'react';
import type { TableKind } from '../core/export/tables';
import { taskFiguresText } from '../core/metrics/taskMetrics';
import { exportQdqModel, exportQTable, exportTableFile, importTable } from '../state/actions';
import { exportOrtConfig, importOrtConfig } from '../state/ruleActions';
import { isRunning } from '../state/slices/jobs';
import { download } from './download';
import { openSessionFile, saveSessionFile } from '../state/session/sessionFile';
import { nothingToQuantize, useApp } from '../state/store';
import { formatMetric } from './format';

const TABLES: { kind: TableKind; title: string; text: string }[] = [
  { kind: 'cali_table', title: 'Calibration table (TPU-MLIR)', text: 'threshold, min and max of every tensor; feeds model_deploy --calibration_table.' },
  { kind: 'one_config', title: 'Layer configuration (ONE circle-quantizer)', text: 'the INT16 layers as a --config JSON; float layers have no ONE equivalent and are named in a note.' },
  { kind: 'visq', title: 'Error map (ONE visq)', text: 'per-layer MSE of the latest evaluation with visq\'s colour scheme.' },
  { kind: 'bolt', title: 'Clip values (Bolt)', text: 'per quantized layer: input, weight and output clip values (scale = clip/127).' },
  { kind: 'model_explorer', title: 'Node data (Model Explorer)', text: 'per-layer cosine to overlay in Google AI Edge Model Explorer.' },
  { kind: 'ai_edge_recipe', title: 'Recipe (AI Edge Quantizer)', text: 'for a .tflite: each operator\'s precision as a regex recipe (a8w8, a16w8, no_quantize).' },
  { kind: 'record_minmax', title: 'Min/max per tensor (ONE record-minmax)', text: 'for a float .circle or .tflite: the model as a .circle with this calibration\'s min/max in each activation\'s quantization, as record-minmax writes it (a .tflite converted as tflite2circle does); feeds circle-quantizer --quantize_with_minmax.' },
];

/** Downloads: qtable, QDQ model (verified by running it), and every toolchain's table; imports. */
export function ExportPanel() {
  const calibrated = useApp((s) => s.calibration !== null);
  const qtable = useApp((s) => s.qtable);
  const lastExport = useApp((s) => s.lastExport);
  const exporting = useApp((s) => isRunning(s.jobs, 'exportQdq'));
  const nothing = useApp(nothingToQuantize);
  const picker = useRef<HTMLInputElement>(null);
  const ortPicker = useRef<HTMLInputElement>(null);
  const sessionPicker = useRef<HTMLInputElement>(null);
  const modelOpen = useApp((s) => s.model !== null);
  return (
    <div className="export-panel">
      <div>
        <div className="export-item">
          <h4>Session (.qbench)</h4>
          <p className="muted">Preprocessing, calibration settings, corrections, rules, precisions (with undo history) and search results in one file, with the model's name and SHA-256 and the data's file names (not their bytes). Opened on the same model, here or with <code>qbench --session</code>, it applies them.</p>
          <button className="btn" disabled={!modelOpen} onClick={() => void saveSessionFile().then(download)} data-testid="save-session">Save session</button>{' '}
          <button className="btn" onClick={() => sessionPicker.current?.click()}>Open session</button>
          <input ref={sessionPicker} type="file" accept=".qbench,application/json" hidden data-testid="open-session" onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; if (f) void openSessionFile(f); }} />
        </div>
        <div className="export-item">
          <h4>Quantized ONNX (QDQ)</h4>
          <p className="muted">int8 per-channel weights, int32 bias, QuantizeLinear/DequantizeLinear on activations; INT16 layers use opset 21 Q/DQ, FP16 layers compute in float16, FP32 layers stay float. Loaded again and run on the samples before it is offered.</p>
          <button className="btn primary" disabled={!calibrated || exporting || nothing !== null} title={nothing ? `Nothing to quantize: ${nothing}` : undefined} onClick={() => void exportQdqModel().then(download)} data-testid="export-qdq">{exporting ? 'Exporting…' : 'Download .qdq.onnx'}</button>
          {lastExport && (
            <p className="verification" data-testid="export-verification">
              {lastExport.fileName}: measured output cos <b>{formatMetric('cos', lastExport.verification.measured.cos)}</b> on {lastExport.verification.sampleCount} samples
              (predicted {formatMetric('cos', lastExport.verification.predicted.cos)}, {lastExport.verification.engine}).
              {Object.entries(lastExport.verification.tasks?.measured ?? {}).map(([output, figures]) => (
                <span key={output} className="task-line" data-testid="export-task">{' '}{output}: {taskFiguresText(figures)}.</span>
              ))}
            </p>
          )}
          {lastExport?.verification.warnings?.map((w) => (
            <p key={w.message} className="verification failing" data-testid="export-warning">⚠ The written model: {w.message}</p>
          ))}
        </div>
        <div className="export-item">
          <h4>Quantize table (TPU-MLIR)</h4>
          <p className="muted">The layers not at {qtable.defaultPrecision} ({qtable.layers.size}), one <code>op_name mode</code> per line.</p>
          <button className="btn" onClick={() => download(exportQTable())} data-testid="export-qtable">Download .qtable</button>
        </div>
        <div className="export-item">
          <h4>onnxruntime (quantize_static)</h4>
          <p className="muted">The float layers as <code>nodes_to_exclude</code>, INT16 layers as <code>extra_options.TensorQuantOverrides</code> (quant_type QInt16 on their tensors), in one JSON; importing one sets those precisions (one edit).</p>
          <button className="btn" disabled={!calibrated} onClick={() => download(exportOrtConfig())} data-testid="export-ort">Download .ort_quant.json</button>{' '}
          <button className="btn" disabled={!calibrated} onClick={() => ortPicker.current?.click()}>Import</button>
          <input ref={ortPicker} type="file" accept=".json,application/json" hidden data-testid="import-ort" onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; if (f) void importOrtConfig(f); }} />
        </div>
        <div className="export-item">
          <h4>Import</h4>
          <p className="muted">A TPU-MLIR qtable sets precisions; a cali_table replaces the calibrated thresholds of the tensors it names.</p>
          <button className="btn" disabled={!calibrated} onClick={() => picker.current?.click()}>Import qtable or cali_table</button>
          <input ref={picker} type="file" hidden data-testid="import-table" onChange={(e) => { const f = e.target.files?.[0]; e.target.value = ''; if (f) void importTable(f); }} />
        </div>
      </div>
      <div className="export-tables">
        {TABLES.map((t) => (
          <div className="export-row" key={t.kind}>
            <button className="btn small" disabled={!calibrated} onClick={() => void exportTableFile(t.kind).then(download)} data-testid={`export-${t.kind}`}>Download</button>
            <div><b>{t.title}</b> <span className="muted">{t.text}</span></div>
          </div>
        ))}
      </div>
    </div>
  );
}
