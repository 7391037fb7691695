import { QbenchError } from '../errors';
import type { CaliEntry } from '../model/CaliTable';
import { circleModelOf, packCircle } from './circle/writeCircle';
import * as circle from './circle/generated/circle';
import { isQuantizedModel } from './tflite/convertFlatModel';
import { convertedTensorNames, readFlatModel } from './tflite/flatModel';
import { TensorType } from './tflite/flatTensors';

/** What `writeRecordMinmax` wrote. */
export interface RecordMinmaxCircle {
  /** The .circle, identifier CIR0. */
  readonly bytes: Uint8Array;
  /** How many tensors of the main subgraph got their min/max. */
  readonly recorded: number;
  /** Float activations the calibration has no range for (they stay without min/max; circle-quantizer leaves them float). */
  readonly missing: readonly string[];
}

/**
 * The calibration as ONE's record-minmax leaves it (docs/formats.md "record-minmax .circle"): the
 * model as a .circle (a .tflite converted as tflite2circle does, a .circle as it is) where every
 * float activation of the main subgraph (each graph input and each operator's output that is not a
 * constant) carries `quantization { min: [min], max: [max] }` and nothing else, one value each (per
 * tensor), which is what circle-quantizer `--quantize_with_minmax` reads (luci's QuantizeActivation:
 * asymmetric uint8 from min and max, symmetric int16 from the larger magnitude). Constants keep no
 * quantization: circle-quantizer quantizes weights itself.
 *
 * `ranges` is the calibration by the converted model's tensor names (the file's names; see
 * convertedTensorNames). A quantized file is refused: circle-quantizer takes min/max only on a float
 * model, and the file's own scales would be lost.
 */
export function writeRecordMinmax(bytes: Uint8Array, fileName: string, ranges: ReadonlyMap<string, CaliEntry>): RecordMinmaxCircle {
  const flat = readFlatModel(bytes, fileName);
  if (isQuantizedModel(flat)) {
    throw new QbenchError('the file is already quantized: record-minmax writes min/max into a float model, which circle-quantizer then quantizes; open the float .tflite/.circle the file was made from (the calibration table and the QDQ ONNX are exported as for any model)', fileName);
  }
  const names = convertedTensorNames(flat.tensors);
  const activations = new Set<number>(flat.inputs);
  for (const op of flat.operators) for (const t of op.outputs) if (t >= 0) activations.add(t);
  const model = circleModelOf(bytes, fileName);
  const tensors = model.subgraphs[0].tensors;
  let recorded = 0;
  const missing: string[] = [];
  for (const index of [...activations].sort((a, b) => a - b)) {
    const t = flat.tensors[index];
    if (!t || t.data !== null || t.isVariable || t.type !== TensorType.FLOAT32) continue;
    const entry = ranges.get(names[index]);
    if (!entry || !Number.isFinite(entry.min) || !Number.isFinite(entry.max)) {
      missing.push(names[index]);
      continue;
    }
    tensors[index].quantization = new circle.QuantizationParametersT([entry.min], [entry.max]);
    recorded++;
  }
  return { bytes: packCircle(model, bytes.length + (1 << 16)), recorded, missing };
}
