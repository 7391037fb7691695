import type { SequenceView } from '../../core/sim/sampleView/SampleOutputs';
import { classLabel, Figure, Pane } from './Pane';

/** A CTC output greedy-decoded by both models, tokens that differ at their position marked. */
export function SequencePanes({ view, labels }: { view: SequenceView; labels?: readonly string[] }) {
  const tokens = (decoded: readonly number[], other: readonly number[], testId: string) => (
    <p className="sequence" data-testid={testId}>
      {decoded.length === 0 ? <span className="muted">(empty)</span> : decoded.map((cls, i) => (
        <span key={i} className={`token${other[i] === cls ? '' : ' changed'}`}>{labels ? classLabel(labels, cls) : cls}</span>
      ))}
    </p>
  );
  return (
    <>
      <Pane side="float" figures={<Figure name="length" value={view.float.length} testId="sequence-float-length" />}>{tokens(view.float, view.quantized, 'sequence-float')}</Pane>
      <Pane side="quantized" figures={<><Figure name="length" value={view.quantized.length} testId="sequence-quantized-length" /><Figure name="steps changed" value={view.changedSteps} text={`${view.changedSteps} / ${view.steps}`} /></>}>
        {tokens(view.quantized, view.float, 'sequence-quantized')}
      </Pane>
      <p className="muted note pane-note">Greedy decoding: each step&apos;s arg-max, repeats collapsed, the blank (class {view.spec.task === 'sequence' ? view.spec.blank : 0}) dropped.</p>
    </>
  );
}
