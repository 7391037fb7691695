/**
 * Issue #12's performance figure: the checks cost nothing measurable. In one run, alternating:
 * the demo's float inference on every sample through the plain engine and through the CLI's
 * watched engine (two atomic stores around each run, cli/runWatchdog.ts), and the model-open check
 * of Loop and Scan lengths (io/onnx/loopLimits.ts) against the whole of readOnnx.
 * `npm run bench -- --sections=robustness --node-only`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeImageDecoder } from '../cli/nodeImageDecoder';
import { ortNodeEngine } from '../cli/ortNodeEngine';
import { startRunWatchdog, watchedEngine } from '../cli/runWatchdog';
import { loadDataset } from '../src/core/io/dataset/loadDataset';
import { DEFAULT_LIMITS } from '../src/core/io/limits';
import { refuseLongLoops } from '../src/core/io/onnx/loopLimits';
import { readOnnx } from '../src/core/io/onnx/OnnxModel';
import { DEMO_PREPROCESS } from '../src/demo/preprocess';

import { REAL_MODELS } from '../test/support/models';
import { median, ratio, round } from './figures';

const ROUNDS = 7;

export async function benchRobustnessNode(demoImageDir: string) {
  const bytes = REAL_MODELS.ppocrDet();
  const model = readOnnx(bytes, 'demo.onnx');
  const files = readdirSync(demoImageDir).map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(demoImageDir, name))) }));
  const dataset = await loadDataset(files, model.graph.inputs, DEMO_PREPROCESS, nodeImageDecoder);
  const watchdog = startRunWatchdog(DEFAULT_LIMITS.runSeconds, 'demo.onnx', 'bench');
  const plain = await ortNodeEngine(0).createSession(model.encode());
  const watched = await watchedEngine(ortNodeEngine(0), watchdog.buffer, 0, DEFAULT_LIMITS.runSeconds).createSession(model.encode());
  const pass = async (session: typeof plain) => {
    const started = performance.now();
    for (const sample of dataset.samples) await session.run(sample);
    return performance.now() - started;
  };
  await pass(plain);
  await pass(watched);
  const plainMs: number[] = [];
  const watchedMs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    plainMs.push(await pass(plain));
    watchedMs.push(await pass(watched));
  }
  await plain.dispose();
  await watched.dispose();
  await watchdog.stop();
  const loopMs: number[] = [];
  const readMs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let started = performance.now();
    refuseLongLoops(model.proto, 'demo.onnx', DEFAULT_LIMITS);
    loopMs.push(performance.now() - started);
    started = performance.now();
    readOnnx(bytes, 'demo.onnx');
    readMs.push(performance.now() - started);
  }
  return {
    model: 'ppocr-v4-det (demo)',
    samples: dataset.samples.length,
    floatPassMs: { plain: round(median(plainMs)), watched: round(median(watchedMs)), watchedOverPlain: ratio(median(watchedMs) / median(plainMs)) },
    loopLimitCheckMs: round(median(loopMs)),
    readOnnxMs: round(median(readMs)),
  };
}
