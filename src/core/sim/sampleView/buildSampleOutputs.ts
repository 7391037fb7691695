import { compareTensors } from '../../metrics/similarity';
import type { TaskSpec } from '../../metrics/tasks';
import { float16BitsToFloat32 } from '../../model/float16';
import { toFloat32, type Tensor, type TensorMap } from '../../model/tensor';
import { denseMaps } from './denseMaps';
import { detectorView, type BoxImage } from './detectorView';
import { imageLayout, inputThumbnail } from './inputThumbnail';
import { argMaxPerStep, plotSeries, topK } from './readings';
import { collapseCtc } from '../../metrics/taskMetrics';
import type { InputView, OutputView, SampleOutputs } from './SampleOutputs';

export interface SampleOutputsInput {
  readonly index: number;
  readonly sampleCount: number;
  readonly sampleName: string;
  /** The sample as the model receives it. */
  readonly inputs: TensorMap;
  readonly outputNames: readonly string[];
  readonly float: TensorMap;
  readonly quantized: TensorMap;
  readonly specs: Readonly<Record<string, TaskSpec>>;
  /** How image inputs hold their colours (the data's pixel format: 'bgr' puts channel 0 in blue). */
  readonly channelOrder?: 'rgb' | 'bgr';
}

/** Classes listed per model for a classifier. */
const TOP_K = 5;
/** Decoded classes sent per sequence at most. */
const MAX_DECODED = 4096;

/**
 * The output viewer's payload for one sample (SampleOutputs.ts): the inputs as thumbnails, each
 * output read as its task reads it, in float and quantized. Its size is bounded whatever the model's
 * (images of at most MAX_IMAGE_SIDE a side, at most MAX_PLOT_POINTS points per plot, top-5 lists,
 * at most MAX_DRAWN_DETECTIONS boxes per model).
 */
export function buildSampleOutputs(input: SampleOutputsInput): SampleOutputs {
  const inputs: InputView[] = Object.entries(input.inputs).map(([name, tensor]) => {
    const layout = imageLayout(tensor.dims);
    return { name, dims: [...tensor.dims], thumbnail: inputThumbnail(tensor, input.channelOrder), size: layout ? [layout.height, layout.width] : null };
  });
  const picture = inputs.find((i) => i.size);
  const image: BoxImage | null = picture ? { name: picture.name, size: picture.size! } : null;
  const outputs = input.outputNames
    .filter((name) => input.float[name] && input.quantized[name])
    .map((name) => outputView(name, input.specs[name] ?? { task: 'other' }, input, image));
  return { index: input.index, sampleCount: input.sampleCount, sampleName: input.sampleName, inputs, outputs };
}

const values = (tensor: Tensor) => toFloat32(tensor, float16BitsToFloat32);

function outputView(name: string, spec: TaskSpec, input: SampleOutputsInput, image: BoxImage | null): OutputView {
  const dims = [...input.float[name].dims];
  const [f, q] = [values(input.float[name]), values(input.quantized[name])];
  const length = Math.min(f.length, q.length);
  const metrics = compareTensors(f.subarray(0, length), q.subarray(0, length));
  const base = { name, dims, spec, metrics, rows: Math.max(1, dims[0] ?? 1) };
  // A shape the task cannot read (a dynamic output that changed size) falls back to the plot.
  const same = f.length === q.length;
  if (same && spec.task === 'classifier' && dims.length >= 2) {
    const classes = f.length / base.rows;
    return { ...base, task: 'classifier', float: topK(f, 0, classes, TOP_K), quantized: topK(q, 0, classes, TOP_K) };
  }
  if (same && spec.task === 'detector' && dims.length === 3) {
    const boxesName = spec.layout.kind === 'ssd' ? spec.layout.boxesOutput : null;
    const boxes = boxesName && input.float[boxesName] && input.quantized[boxesName] ? { float: values(input.float[boxesName]), quantized: values(input.quantized[boxesName]) } : null;
    return { ...base, task: 'detector', ...detectorView(spec.layout, dims, f, q, boxes, image) };
  }
  if (same && spec.task === 'dense') {
    const maps = denseMaps(dims, spec.channelsLast, spec.threshold, f, q);
    if (maps) return { ...base, task: 'dense', ...maps };
  }
  if (same && spec.task === 'sequence' && dims.length === 3) {
    const [steps, batch, classes] = spec.timeFirst ? [dims[0], dims[1], dims[2]] : [dims[1], dims[0], dims[2]];
    const at = (data: Float32Array) => (spec.timeFirst ? (t: number, c: number) => data[t * batch * classes + c] : (t: number, c: number) => data[t * classes + c]);
    const [fSteps, qSteps] = [argMaxPerStep(steps, classes, at(f)), argMaxPerStep(steps, classes, at(q))];
    let changedSteps = 0;
    for (let t = 0; t < steps; t++) changedSteps += Number(fSteps[t] !== qSteps[t]);
    return {
      ...base, rows: batch, task: 'sequence', steps, changedSteps,
      float: collapseCtc(fSteps, spec.blank).slice(0, MAX_DECODED), quantized: collapseCtc(qSteps, spec.blank).slice(0, MAX_DECODED),
    };
  }
  return { ...base, task: 'other', ...plotSeries(f.subarray(0, length), q.subarray(0, length)), total: f.length };
}
