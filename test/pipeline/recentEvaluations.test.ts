import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { silentJob } from '../../src/core/jobs/Job';
import { ALL_INT8, withPrecision } from '../../src/core/model/QTable';
import type { Engine } from '../../src/core/engine/Engine';
import { Workbench } from '../../src/core/Workbench';
import type { TensorMap } from '../../src/core/model/tensor';
import { seededRandom } from '../support/GraphBuilder';

/**
 * Returning to a QTable evaluated before (an undo, a redo) answers from memory: no run, the same
 * figures; any change besides the QTable (here a layer's calibration method) makes it run again.
 * On Keras' MobileNetV2 (the shared corpus's TFLite float model).
 */

const MOBILENET = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'tflite', 'keras_mobilenetv2_035_96_float.tflite');

/** onnxruntime-node, counting the runs of every session it creates. */
function countingEngine(): { engine: Engine; runs: () => number } {
  const inner = ortNodeEngine(0);
  let runs = 0;
  const engine: Engine = {
    ...inner,
    async createSession(bytes, options) {
      const session = await inner.createSession(bytes, options);
      return {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        inputInfo: session.inputInfo,
        outputInfo: session.outputInfo,
        run: (feeds, fetches) => {
          runs++;
          return session.run(feeds, fetches);
        },
        dispose: () => session.dispose(),
      };
    },
  };
  return { engine, runs: () => runs };
}

/** Keras MobileNetV2 on `engine`, calibrated on three seeded random images (the samples returned for a second workbench). */
async function calibratedMobileNet(engine: Engine, seed: number, samples?: TensorMap[]): Promise<{ wb: Workbench; samples: TensorMap[] }> {
  const wb = await Workbench.open(engine, new Uint8Array(readFileSync(MOBILENET)), 'keras_mobilenetv2_035_96_float.tflite');
  const random = seededRandom(seed);
  const data = samples ?? Array.from({ length: 3 }, () => Object.fromEntries(wb.graph.inputs.map((input) => {
    const dims = (input.dims ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    return [input.name, { dtype: 'float32' as const, dims, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1) }];
  })));
  wb.setDataset({ samples: data, sampleNames: data.map((_, i) => `s${i}`) });
  wb.setCalibrationSettings({ evaluationSamples: 3 });
  await wb.calibrate(silentJob);
  return { wb, samples: data };
}

let bench: Workbench | null = null;
afterEach(async () => {
  await bench?.dispose();
  bench = null;
});

describe('recent evaluations', () => {
  it('an undo, a redo and the heatmap of a QTable seen before run nothing and give the same figures; a method change runs again', async () => {
    const { engine, runs } = countingEngine();
    const opened = await calibratedMobileNet(engine, 4);
    bench = opened.wb;
    const layer = [...bench.layers.values()].filter((l) => l.quantizable)[5].name;
    const edited = withPrecision(ALL_INT8, layer, 'FP32');

    const int8 = await bench.evaluate(ALL_INT8, 'layers', silentJob);
    const fp32 = await bench.evaluate(edited, 'layers', silentJob);
    // (the model's 10-class output saturates on these inputs; the heatmap moves)
    expect(fp32.layers.map((l) => l.cos)).not.toEqual(int8.layers.map((l) => l.cos));
    const ran = runs();
    // undo, redo, undo: outputs first then the heatmap, as the page asks
    for (const [qtable, expected] of [[ALL_INT8, int8], [edited, fp32], [withPrecision(edited, layer, 'INT8'), int8]] as const) {
      const outputs = await bench.evaluate(qtable, 'outputs', silentJob);
      const layers = await bench.evaluate(qtable, 'layers', silentJob);
      expect(outputs.output.cos).toBe(expected.output.cos);
      expect(layers.layers.map((l) => l.cos)).toEqual(expected.layers.map((l) => l.cos));
    }
    expect(runs()).toBe(ran);

    // A new calibration method for the model's first quantized activation: a new cali table, measured again.
    const tensor = int8.layers[2].tensor;
    bench.setTensorOverride(tensor, { method: 'mse' });
    const again = await bench.evaluate(ALL_INT8, 'layers', silentJob);
    expect(runs()).toBeGreaterThan(ran);
    const { wb: fresh } = await calibratedMobileNet(ortNodeEngine(0), 4, opened.samples);
    try {
      fresh.setTensorOverride(tensor, { method: 'mse' });
      expect(again.layers.map((l) => l.cos)).toEqual((await fresh.evaluate(ALL_INT8, 'layers', silentJob)).layers.map((l) => l.cos));
      expect(again.layers.map((l) => l.cos)).not.toEqual(int8.layers.map((l) => l.cos));
    } finally {
      await fresh.dispose();
    }
  }, 120_000);

  it('ranges observed later for tensors no remembered table quantized (the page\'s background pass) keep the remembered figures', async () => {
    const { engine, runs } = countingEngine();
    const opened = await calibratedMobileNet(engine, 5);
    bench = opened.wb;
    const int8 = await bench.evaluate(ALL_INT8, 'layers', silentJob);
    // the Convs before their Relu6 were fused: observed now
    expect(await bench.calibrateRemainingTensors(silentJob)).toBeGreaterThan(0);
    // an edit, then back: the runners now keep the edit's values, so only memory spares the run
    const layer = [...bench.layers.values()].filter((l) => l.quantizable)[8].name;
    await bench.evaluate(withPrecision(ALL_INT8, layer, 'FP16'), 'layers', silentJob);
    const ran = runs();
    const again = await bench.evaluate(ALL_INT8, 'layers', silentJob);
    expect(runs()).toBe(ran);
    expect(again.layers.map((l) => l.cos)).toEqual(int8.layers.map((l) => l.cos));
    // the same figures a workbench that observed every tensor from the start measures
    const { wb: fresh } = await calibratedMobileNet(ortNodeEngine(0), 5, opened.samples);
    try {
      await fresh.calibrateRemainingTensors(silentJob);
      const measured = await fresh.evaluate(ALL_INT8, 'layers', silentJob);
      expect(again.output).toEqual(measured.output);
      expect(again.layers.map((l) => l.cos)).toEqual(measured.layers.map((l) => l.cos));
    } finally {
      await fresh.dispose();
    }
  }, 120_000);
});
