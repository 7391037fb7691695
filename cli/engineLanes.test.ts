import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeImageDecoder } from './nodeImageDecoder';
import { ortNodeEngine } from './ortNodeEngine';
import { ortNodeLanes } from './engineLanes';
import type { Engine } from '../src/core/engine/Engine';
import { failingEngine } from '../src/core/engine/failingEngine';
import { loadDataset } from '../src/core/io/dataset/loadDataset';
import { silentJob } from '../src/core/jobs/Job';
import { ALL_INT8 } from '../src/core/model/QTable';
import { Workbench } from '../src/core/Workbench';
import { DEMO_PREPROCESS } from '../src/demo/preprocess';
import { DEMO_IMAGE_DIR, REAL_MODELS } from '../test/support/models';

/**
 * The CLI's calibration pass on two engine threads (engineLanes.ts, statisticsPass.ts): the samples
 * after the first run two at a time while the main thread takes in the statistics, and the
 * calibration is the one a single engine gives, bit for bit, on the demo (PP-OCRv4 det) and its 12
 * images.
 */

const lanes = ortNodeLanes(2, 'det.onnx');
afterAll(() => lanes.close());

/** `engine` with the most runs it ever had going at once. */
function counted(engine: Engine): { engine: Engine; most: () => number } {
  let going = 0;
  let most = 0;
  return {
    most: () => most,
    engine: {
      ...engine,
      async createSession(bytes, options) {
        const session = await engine.createSession(bytes, options);
        return {
          inputNames: session.inputNames, outputNames: session.outputNames, inputInfo: session.inputInfo, outputInfo: session.outputInfo,
          dispose: () => session.dispose(),
          run: async (feeds, fetches) => {
            most = Math.max(most, ++going);
            try {
              return await session.run(feeds, fetches);
            } finally {
              going--;
            }
          },
        };
      },
    },
  };
}

async function calibratedDemo(statisticsEngine?: Engine): Promise<Workbench> {
  const bench = await Workbench.open(ortNodeEngine(0), REAL_MODELS.ppocrDet(), 'det.onnx', statisticsEngine ? { statisticsEngine } : {});
  const files = readdirSync(DEMO_IMAGE_DIR).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, name))) }));
  bench.setDataset(await loadDataset(files, bench.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder));
  bench.setCalibrationSettings({ method: 'kl', collect: 'all' });
  await bench.calibrate(silentJob);
  return bench;
}

describe('the calibration pass on engine threads', () => {
  it('keeps two samples running and gives the statistics, every method\'s thresholds and the figures of one engine, bit for bit', async () => {
    const threaded = counted(lanes);
    const [one, two] = [await calibratedDemo(), await calibratedDemo({ ...threaded.engine, lanes: 2 })];
    try {
      expect(threaded.most()).toBeGreaterThanOrEqual(2);
      for (const method of ['kl', 'max', 'percentile9999', 'mse', 'kl_tensorrt'] as const) {
        one.setCalibrationSettings({ method });
        two.setCalibrationSettings({ method });
        expect([...two.caliTable().entries], method).toEqual([...one.caliTable().entries]);
      }
      const [a, b] = [await one.evaluate(ALL_INT8, 'outputs', silentJob), await two.evaluate(ALL_INT8, 'outputs', silentJob)];
      expect(b.output).toEqual(a.output);
    } finally {
      await Promise.all([one.dispose(), two.dispose()]);
    }
  });

  /** A calibration of the demo on engine threads with QBENCH_LANE_FAULT set while the threads start. */
  async function calibrationWithFault(fault: string): Promise<unknown> {
    const faulty = ortNodeLanes(2, 'det.onnx');
    process.env.QBENCH_LANE_FAULT = fault;
    try {
      const bench = await calibratedDemo({ ...faulty, lanes: 2 });
      await bench.dispose();
      return null;
    } catch (error) {
      return error;
    } finally {
      delete process.env.QBENCH_LANE_FAULT;
      await faulty.close();
    }
  }

  it('an inference that fails in a thread ends the calibration with the model, the step and the sample named', async () => {
    const error = await calibrationWithFault('1:throw:1');
    expect(String(error)).toMatch(/det\.onnx: calibrating, sample \d+ \(.+\): onnxruntime failed running node "injected" \(Conv\): injected failure/);
  });

  it('an engine that throws before giving its promise (one lane) is told with the sample too', async () => {
    let runs = 0;
    const error = await calibratedDemo(failingEngine(ortNodeEngine(0), () => ++runs === 3)).then(async (bench) => void (await bench.dispose()), (e: unknown) => e);
    expect(String(error)).toMatch(/det\.onnx: calibrating, sample \d+ \(.+\): onnxruntime failed running node "injected" \(Conv\): injected failure/);
  });

  it('a thread that dies fails the calibration with a message naming the model, never a hang', async () => {
    const error = await calibrationWithFault('0:exit:0');
    expect(String(error)).toMatch(/det\.onnx: .*engine thread 1 of 2 stopped unexpectedly \(exit code 70\)/);
  });
});
