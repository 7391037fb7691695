import type { ReactNode } from 'react';
import type { Detection } from '../../core/metrics/detections';
import type { RgbaImage } from '../../core/io/dataset/ImageDecoder';
import type { DetectorView } from '../../core/sim/sampleView/SampleOutputs';
import { classLabel, Figure, formatNumber, Pane, PICTURE_HEIGHT } from './Pane';
import { RgbaCanvas } from './RgbaCanvas';

/** Detections listed when the boxes cannot be drawn (anchor offsets): the best few of each model. */
const LISTED = 8;

type Side = 'float' | 'quantized';

/**
 * A detector's boxes: the float model's on the picture, the quantized model's, and both together
 * (float in blue, quantized in orange), with how many each found and how well they match. Boxes
 * in units that are no picture's (anchor offsets) are listed instead.
 */
export function DetectorPanes({ view, picture, labels }: { view: DetectorView; picture: RgbaImage | null; labels?: readonly string[] }) {
  const found = (side: Side) => <Figure name="found" value={side === 'float' ? view.floatCount : view.quantizedCount} testId={`detections-${side}-count`} />;
  if (view.units === 'raw') {
    return (
      <>
        <Pane side="float" figures={found('float')}><DetectionList detections={view.float} labels={labels} /></Pane>
        <Pane side="quantized" figures={found('quantized')}><DetectionList detections={view.quantized} labels={labels} /></Pane>
        <p className="muted note pane-note">Box coordinates are offsets from anchors, not positions in the picture: listed, not drawn. Score ≥ {view.threshold}; detection F1 {view.f1.toFixed(3)}.</p>
      </>
    );
  }
  const image = view.image === null ? null : picture;
  const aspect = view.extent[0] / Math.max(view.extent[1], 1e-9);
  const drawn = (label: string, sets: readonly (readonly [readonly Detection[], Side])[]): ReactNode => (
    <RgbaCanvas image={image} aspect={aspect} height={PICTURE_HEIGHT} label={label}>
      <svg className="boxes" viewBox={`${view.origin[0]} ${view.origin[1]} ${view.extent[0]} ${view.extent[1]}`} preserveAspectRatio="none">
        {sets.map(([detections, side]) => detections.map((d) => (
          <rect key={`${side}${d.anchor}`} className={`box ${side}`} data-testid={`box-${side}`} x={d.box[0]} y={d.box[1]} width={Math.max(0, d.box[2] - d.box[0])} height={Math.max(0, d.box[3] - d.box[1])}>
            <title>{`${side}: ${classLabel(labels, d.cls)} ${d.score.toFixed(3)}`}</title>
          </rect>
        )))}
      </svg>
    </RgbaCanvas>
  );
  const cut = view.float.length < view.floatCount || view.quantized.length < view.quantizedCount;
  return (
    <>
      <Pane side="float" figures={found('float')}>{drawn('float detections', [[view.float, 'float']])}</Pane>
      <Pane side="quantized" figures={found('quantized')}>{drawn('quantized detections', [[view.quantized, 'quantized']])}</Pane>
      <Pane side="both" title="Both" figures={<Figure name="detection F1" value={view.f1} text={view.f1.toFixed(3)} testId="detections-f1" />}>
        {drawn('float and quantized detections', [[view.float, 'float'], [view.quantized, 'quantized']])}
      </Pane>
      <p className="muted note pane-note">
        <span className="key float">float</span> <span className="key quantized">quantized</span> score ≥ {view.threshold}{cut ? `; the ${Math.max(view.float.length, view.quantized.length)} best of each drawn` : ''}.
        {image ? '' : " No picture input: boxes on a blank canvas, in the output's units."}
      </p>
    </>
  );
}

function DetectionList({ detections, labels }: { detections: readonly Detection[]; labels?: readonly string[] }) {
  return (
    <table className="mini-table detections">
      <thead><tr><th>class</th><th>score</th><th>box</th></tr></thead>
      <tbody>
        {detections.slice(0, LISTED).map((d) => (
          <tr key={d.anchor}><td>{classLabel(labels, d.cls)}</td><td className="num">{d.score.toFixed(3)}</td><td className="num">{d.box.map(formatNumber).join(', ')}</td></tr>
        ))}
      </tbody>
    </table>
  );
}
