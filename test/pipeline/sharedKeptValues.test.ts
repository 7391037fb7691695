import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8, withPrecision, type QTable } from '../../src/core/model/QTable';
import type { TensorMap } from '../../src/core/model/tensor';
import { IncrementalOutputs } from '../../src/core/sim/incremental/IncrementalOutputs';
import { Workbench } from '../../src/core/Workbench';
import { seededRandom } from '../support/GraphBuilder';

/**
 * Issue #15, "one copy between runners" (docs/architecture.md): a runner takes a sibling's kept value
 * only when the bytes are equal. On the Keras MobileNetV2 .tflite the heatmap's probe computes some
 * int8 tensors one step away from the QDQ model's (onnxruntime fuses differently in a model with
 * more readers), so sharing by signature alone moves the figures. With the bytes compared, sharing
 * changes nothing: every figure is bit for bit the one of runners that share nothing.
 */

const TFLITE = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'tflite');
const MODEL = 'keras_mobilenetv2_035_96_float.tflite';

const benches: Workbench[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(benches.splice(0).map((b) => b.dispose()));
});

async function open(): Promise<Workbench> {
  const wb = await Workbench.open(ortNodeEngine(1), new Uint8Array(readFileSync(join(TFLITE, MODEL))), MODEL);
  benches.push(wb);
  const random = seededRandom(3);
  const samples = Array.from({ length: 4 }, (): TensorMap => Object.fromEntries(wb.graph.inputs.map((input) => {
    const dims = (input.dims ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    return [input.name, { dtype: 'float32' as const, dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1) }];
  })));
  wb.setDataset({ samples, sampleNames: samples.map((_, i) => `sample ${i}`) });
  wb.setCalibrationSettings({ evaluationSamples: samples.length });
  await wb.calibrate(silentJob);
  return wb;
}

/** Every figure of a sequence of edits (outputs, heatmap, local errors in turn), as exact text. */
async function figuresOfEdits(wb: Workbench): Promise<string[]> {
  const layer = (fragment: string) => [...wb.layers.values()].find((l) => l.quantizable && l.name.includes(fragment))!.name;
  const edits: QTable[] = [];
  let qtable: QTable = ALL_INT8;
  edits.push(qtable);
  qtable = withPrecision(qtable, layer('block_12_expand_relu'), 'INT16');
  edits.push(qtable);
  qtable = withPrecision(qtable, layer('block_11_expand_relu'), 'FP32');
  edits.push(qtable, ALL_INT8);
  qtable = withPrecision(ALL_INT8, layer('block_12_project'), 'FP16');
  edits.push(qtable);
  qtable = withPrecision(qtable, layer('block_4_expand_relu'), 'INT16');
  edits.push(qtable);
  edits.push(withPrecision(qtable, layer('block_11_project'), 'FP32'));
  const figures: string[] = [];
  for (const [step, table] of edits.entries()) {
    const kinds = ['outputs', 'layers', 'local'].map((_, k, all) => all[(k + step) % 3]);
    for (const kind of kinds) {
      if (kind === 'local') figures.push(`${step} local ${JSON.stringify(await wb.localErrors(table, silentJob))}`);
      else {
        const evaluation = await wb.evaluate(table, kind as 'outputs' | 'layers', silentJob);
        figures.push(`${step} ${kind} ${JSON.stringify({ perOutput: evaluation.perOutput, layers: evaluation.layers })}`);
      }
    }
  }
  return figures;
}

describe('runners share a kept value only when its bytes are equal (issue #15)', () => {
  it('every figure on the Keras MobileNetV2 .tflite is the same bit for bit with and without sharing, and sharing saves bytes', async () => {
    const shared = await open();
    const withSharing = await figuresOfEdits(shared);
    const sharedBytes = shared.keptWhatIfBytes();

    vi.spyOn(IncrementalOutputs.prototype, 'shareKeptValuesWith').mockImplementation(() => {});
    const apart = await open();
    const withoutSharing = await figuresOfEdits(apart);
    const apartBytes = apart.keptWhatIfBytes();

    for (const [k, line] of withSharing.entries()) expect(line).toBe(withoutSharing[k]);
    expect(sharedBytes).toBeLessThan(apartBytes);
  }, 120_000);
});
