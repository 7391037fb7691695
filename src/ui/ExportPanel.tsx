import { exportQdqModel, exportQTable } from '../state/actions';
import { useApp } from '../state/store';
import { formatMetric } from './format';

/** Downloads: the TPU-MLIR qtable and the quantized QDQ ONNX model, verified by running it. */
export function ExportPanel() {
  const calibrated = useApp((s) => s.calibration !== null);
  const qtable = useApp((s) => s.qtable);
  const lastExport = useApp((s) => s.lastExport);
  const exporting = useApp((s) => Object.values(s.jobs).some((j) => j.label.startsWith('Exporting')));
  return (
    <div className="export-panel">
      <div className="export-item">
        <h4>Quantize table (TPU-MLIR)</h4>
        <p className="muted">The layers not at {qtable.defaultPrecision} ({qtable.layers.size}), one <code>op_name mode</code> per line; feeds <code>model_deploy --quantize_table</code>.</p>
        <button className="btn" onClick={exportQTable} data-testid="export-qtable">Download .qtable</button>
      </div>
      <div className="export-item">
        <h4>Quantized ONNX (QDQ)</h4>
        <p className="muted">int8 per-channel weights, int32 bias, QuantizeLinear/DequantizeLinear on activations; INT16 layers use opset 21 Q/DQ, FP16 layers compute in float16, FP32 layers stay float. The file is loaded again and run on the samples before it is offered.</p>
        <button className="btn primary" disabled={!calibrated || exporting} onClick={() => void exportQdqModel()} data-testid="export-qdq">{exporting ? 'Exporting…' : 'Download .qdq.onnx'}</button>
        {lastExport && (
          <p className="verification" data-testid="export-verification">
            {lastExport.fileName}: measured output cos <b>{formatMetric('cos', lastExport.verification.measured.cos)}</b> on {lastExport.verification.sampleCount} samples
            (predicted {formatMetric('cos', lastExport.verification.predicted.cos)}, {lastExport.verification.engine}).
          </p>
        )}
      </div>
    </div>
  );
}
