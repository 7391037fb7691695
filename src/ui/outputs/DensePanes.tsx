import type { DenseView } from '../../core/sim/sampleView/SampleOutputs';
import { Figure, formatNumber, Pane, PICTURE_HEIGHT } from './Pane';
import { RgbaCanvas } from './RgbaCanvas';

/**
 * A dense map, float and quantized on the same colour scale (one channel: viridis over the float
 * range; several: a colour per arg-max class), and where they differ.
 */
export function DensePanes({ view }: { view: DenseView }) {
  const classes = view.channels > 1;
  const on = classes ? 'not class 0' : `> ${formatNumber(view.spec.task === 'dense' ? view.spec.threshold : 0)}`;
  const picture = (image: DenseView['float'], label: string) => <RgbaCanvas image={image} height={PICTURE_HEIGHT} label={label} />;
  return (
    <>
      <Pane side="float" figures={<><Figure name={`px ${on}`} value={view.floatOn} testId="dense-float-on" /><Figure name="range" value={view.floatRange[1]} text={`${formatNumber(view.floatRange[0])} … ${formatNumber(view.floatRange[1])}`} /></>}>
        {picture(view.float, 'float map')}
      </Pane>
      <Pane side="quantized" figures={<><Figure name={`px ${on}`} value={view.quantizedOn} testId="dense-quantized-on" /><Figure name="IoU" value={view.iou} text={view.iou.toFixed(4)} testId="dense-iou" /></>}>
        {picture(view.quantized, 'quantized map')}
      </Pane>
      <Pane side="difference" title={classes ? 'Class changed' : '|Difference|'}
        figures={<>{classes && view.changed !== null && <Figure name="changed" value={view.changed} text={`${(100 * view.changed).toFixed(2)} %`} />}<Figure name="max" value={view.maxDifference} testId="dense-max-difference" /><Figure name="mean" value={view.meanDifference} /></>}>
        {picture(view.difference, classes ? 'pixels whose class changed' : 'absolute difference map')}
      </Pane>
      <p className="muted note pane-note">
        {view.size[0]}×{view.size[1]}{view.float.width < view.size[1] ? ` shown at ${view.float.width}×${view.float.height} (the difference keeps each block's largest)` : ''}.
        {classes ? ` ${view.channels} channels: each pixel's arg-max class as a colour.` : ' Both maps on the float range; the difference on 0 … max.'}
      </p>
    </>
  );
}
