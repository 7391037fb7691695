import { useState } from 'react';
import { OUTPUT_TASK_LABEL } from '../../core/metrics/tasks';
import type { RgbaImage } from '../../core/io/dataset/ImageDecoder';
import type { InputView, OutputView } from '../../core/sim/sampleView/SampleOutputs';
import { useApp, type AppState } from '../../state/store';
import { formatMetric } from '../format';
import { ClassifierPanes } from './ClassifierPanes';
import { DensePanes } from './DensePanes';
import { DetectorPanes } from './DetectorPanes';
import { PICTURE_HEIGHT } from './Pane';
import { RgbaCanvas } from './RgbaCanvas';
import { SequencePanes } from './SequencePanes';
import { SeriesPanes } from './SeriesPanes';
import { useSampleOutputs } from './useSampleOutputs';
import { useClassNames } from './useClassNames';
import './outputs.css';

const IMAGE_FILE = /\.(jpe?g|png|bmp|webp)$/i;

/** How the data's images hold their colours: read as BGR, channel 0 is blue (the demo's PaddleOCR preprocessing). */
const channelOrderOf = (s: AppState): 'rgb' | 'bgr' => (s.preprocess.pixelFormat === 'bgr' && s.sources.data?.some((f) => IMAGE_FILE.test(f.name)) ? 'bgr' : 'rgb');

/**
 * "See the outputs" (issue #11): one evaluation sample at a time, the float and the quantized model
 * side by side, each output read as its task reads it (boxes, top-5 lists, maps, decoded
 * sequences, or a plot). The quantized side is the QTable of the latest evaluation: it follows
 * every edit. Class names (a class-names file, or the class folders used as labels) show beside
 * a classifier's and a detector's class indices; `labels` gives them instead.
 */
export function OutputViewer({ labels: given }: { labels?: readonly string[] }) {
  const known = useClassNames();
  const labels = given ?? known;
  const evaluation = useApp((s) => s.outputEvaluation);
  const count = useApp((s) => s.calibration?.evaluationSampleCount ?? 0);
  const channelOrder = useApp(channelOrderOf);
  const [picked, setPicked] = useState(0);
  const index = Math.max(0, Math.min(picked, count - 1));
  const { view, error, stale } = useSampleOutputs(count > 0 ? evaluation : null, index, channelOrder);
  if (!evaluation || count === 0) {
    return <div className="output-viewer empty" data-testid="output-viewer"><p className="muted">The outputs show here once the model is calibrated and evaluated.</p></div>;
  }
  const picture = view?.inputs.find((i) => i.thumbnail)?.thumbnail ?? null;
  return (
    <div className={`output-viewer${stale ? ' stale' : ''}`} data-testid="output-viewer" aria-busy={stale}>
      <aside className="sample-side">
        <div className="sample-picker">
          <button className="btn small" disabled={index === 0} onClick={() => setPicked(index - 1)} data-testid="sample-prev" aria-label="Previous sample">‹</button>
          <label className="muted">
            Sample{' '}
            <input className="input tiny" type="number" min={1} max={count} value={index + 1} data-testid="sample-input" aria-label="Sample number"
              onChange={(e) => Number.isFinite(e.target.valueAsNumber) && setPicked(Math.round(e.target.valueAsNumber) - 1)} />
            {' '}<span data-testid="sample-index" data-value={index}>/ {count}</span>
          </label>
          <button className="btn small" disabled={index >= count - 1} onClick={() => setPicked(index + 1)} data-testid="sample-next" aria-label="Next sample">›</button>
        </div>
        <div className="sample-name" data-testid="sample-name" title={view?.sampleName}>{view?.sampleName ?? '…'}</div>
        {view?.inputs.map((input) => <InputThumbnail key={input.name} input={input} />)}
        <p className="muted note">{stale ? 'Running the sample…' : 'Float and quantized under the evaluated QTable.'}</p>
        {error && <p className="note bad" data-testid="sample-error">{error}</p>}
      </aside>
      <div className="sample-outputs">
        {view?.outputs.map((output) => <OutputRow key={output.name} output={output} picture={picture} labels={labels} />)}
      </div>
    </div>
  );
}

/** A thumbnail fills the side column (a small input is scaled up, pixelated), at most 120 px high. */
const thumbnailHeight = (image: RgbaImage) => Math.min(120, (170 * image.height) / image.width);

function InputThumbnail({ input }: { input: InputView }) {
  return (
    <figure className="input-thumb" data-testid="input-thumbnail" data-input={input.name}>
      {input.thumbnail ? <RgbaCanvas image={input.thumbnail} height={thumbnailHeight(input.thumbnail)} label={`input ${input.name}`} /> : null}
      <figcaption className="muted"><code>{input.name}</code> [{input.dims.join('×')}]{input.thumbnail ? '' : ': not a picture'}</figcaption>
    </figure>
  );
}

function OutputRow({ output, picture, labels }: { output: OutputView; picture: RgbaImage | null; labels?: readonly string[] }) {
  return (
    <section className="output-row" data-testid="output-view" data-output={output.name} data-task={output.task}>
      <header className="output-head">
        <code className="output-name">{output.name}</code>
        <span className="muted">[{output.dims.join('×')}]{output.rows > 1 ? `, image 1 of ${output.rows}` : ''}</span>
        <span className="chip">{OUTPUT_TASK_LABEL[output.spec.task]}</span>
        <span className="muted" title="Cosine of the whole output on this sample, float against quantized">
          this sample: cos <b data-testid="sample-cos" data-value={output.metrics.cos}>{formatMetric('cos', output.metrics.cos)}</b> · SQNR {formatMetric('sqnr', output.metrics.sqnr)}
        </span>
      </header>
      <div className="panes" style={{ minHeight: PICTURE_HEIGHT }}>
        {output.task === 'detector' ? <DetectorPanes view={output} picture={picture} labels={labels} />
          : output.task === 'classifier' ? <ClassifierPanes view={output} labels={labels} />
          : output.task === 'dense' ? <DensePanes view={output} />
          // a CTC dictionary numbers characters from 1 (0 is the blank): class names do not read it
          : output.task === 'sequence' ? <SequencePanes view={output} />
          : <SeriesPanes view={output} />}
      </div>
    </section>
  );
}
