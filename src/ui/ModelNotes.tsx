import { useState } from 'react';
import { openDequantized } from '../state/actions';
import { useApp } from '../state/store';

/** Notes that warn (what the figures do not cover) rather than inform (what qbench did on load). */
const WARNING = /already quantized|control flow|recurrent/;

const sentence = (note: string) => note.charAt(0).toUpperCase() + note.slice(1);

/** What "Open as float" does, by the form the file is quantized in. */
const OPEN_AS_FLOAT: Record<'qdq' | 'qoperator' | 'dynamic', string> = {
  qdq: "Open the float model this file was made from (its QuantizeLinear/DequantizeLinear pairs removed), with the file's own ranges imported as the calibration",
  qoperator: "Open the float model this file was made from (QLinearConv, QLinearMatMul, QGemm, QLinearAdd... turned back into Conv, MatMul, Gemm, Add..., the stored weights keeping their rounding), with the file's own ranges imported as the calibration",
  dynamic: 'Open the float model this file was made from (ConvInteger/MatMulInteger turned back into Conv/MatMul, the stored weights keeping their rounding); dynamic quantization stores no activation ranges, so the calibration comes from your samples',
};

/**
 * What to know about the open model before reading any figure (issue #9), one line each under the
 * header: upgraded from an old opset, already quantized (with "Open as float" for a QDQ, QOperator
 * or dynamic file), what runs float and why. A click on a note shows it whole.
 */
export function ModelNotes() {
  const model = useApp((s) => s.model);
  const busy = useApp((s) => s.modelLoading !== null);
  const [expanded, setExpanded] = useState<string | null>(null);
  const findings = model?.findings;
  if (!findings?.notes.length) return null;
  return (
    <ul className="model-notes" data-testid="model-notes" aria-label="About this model">
      {findings.notes.map((note) => {
        const quantizedNote = findings.quantized !== null && note.startsWith('this model is already quantized');
        const warning = WARNING.test(note);
        return (
          <li key={note} className={`model-note ${warning ? 'warn' : 'info'}${expanded === note ? ' expanded' : ''}`} data-testid="model-note">
            <span className="note-icon" aria-hidden="true">{warning ? '⚠' : 'ℹ'}</span>
            <span className="note-text" title={expanded === note ? undefined : note} onClick={() => setExpanded((e) => (e === note ? null : note))}>{sentence(note)}</span>
            {quantizedNote && (
              <button className="btn small" disabled={busy} onClick={() => void openDequantized()} data-testid="open-dequantized"
                title={OPEN_AS_FLOAT[findings.quantized!.form]}>Open as float</button>
            )}
          </li>
        );
      })}
    </ul>
  );
}
