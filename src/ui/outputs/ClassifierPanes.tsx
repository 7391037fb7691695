import type { ClassifierView, ClassScore } from '../../core/sim/sampleView/SampleOutputs';
import { classLabel, formatNumber, Pane } from './Pane';

/**
 * A classifier's two top-5 lists side by side. A quantized row is marked where its class is not the
 * float one at that rank, strongly where the class is not in the float top 5 at all.
 */
export function ClassifierPanes({ view, labels }: { view: ClassifierView; labels?: readonly string[] }) {
  const same = view.float[0]?.cls === view.quantized[0]?.cls;
  return (
    <>
      <Pane side="float"><TopList list={view.float} other={view.float} labels={labels} testId="top-float" /></Pane>
      <Pane side="quantized"><TopList list={view.quantized} other={view.float} labels={labels} testId="top-quantized" /></Pane>
      <p className={`note pane-note ${same ? 'muted' : 'bad'}`} data-testid="top1-agrees" data-value={same ? 1 : 0}>
        {same ? 'Same top-1 class.' : `Top-1 changed: ${classLabel(labels, view.float[0]?.cls ?? -1)} → ${classLabel(labels, view.quantized[0]?.cls ?? -1)}.`}
      </p>
    </>
  );
}

function TopList({ list, other, labels, testId }: { list: readonly ClassScore[]; other: readonly ClassScore[]; labels?: readonly string[]; testId: string }) {
  return (
    <table className="mini-table top-list" data-testid={testId}>
      <thead><tr><th>#</th><th>class</th><th className="num">score</th></tr></thead>
      <tbody>
        {list.map((entry, rank) => {
          const mark = other[rank]?.cls === entry.cls ? '' : other.some((o) => o.cls === entry.cls) ? 'moved' : 'missing';
          return (
            <tr key={entry.cls} className={mark} data-testid="top-row" data-class={entry.cls}>
              <td>{rank + 1}</td><td>{classLabel(labels, entry.cls)}</td><td className="num">{formatNumber(entry.score)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
