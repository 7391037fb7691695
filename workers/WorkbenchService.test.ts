import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../cli/nodeImageDecoder';
import { ortNodeEngine } from '../cli/ortNodeEngine';
import { isCancelled } from '../src/core/errors';
import { DEFAULT_PREPROCESS } from '../src/core/io/dataset/loadDataset';
import { formatNpy } from '../src/core/io/dataset/npy';
import type { JobProgress } from '../src/core/jobs/Job';
import { ALL_INT8 } from '../src/core/model/QTable';
import { GraphBuilder, randomSamples } from '../test/support/GraphBuilder';
import { WorkbenchService } from './WorkbenchService';

function service(): WorkbenchService {
  const engine = ortNodeEngine(1);
  return new WorkbenchService({ wasm: async () => engine, webgpu: async () => engine }, nodeImageDecoder, async () => false);
}

function modelBytes(): Uint8Array {
  const g = new GraphBuilder({ seed: 9, opset: 13 });
  const x = g.input('x', [1, 3, 8, 8]);
  g.output(g.conv(g.node('Relu', [g.conv(x, 4, 3, { name: 'c1' })], {}, 1, undefined, 'r1')[0], 2, 3, { name: 'c2' }));
  return g.toBytes();
}

async function opened(): Promise<WorkbenchService> {
  const s = service();
  await s.run('openModel', { source: { name: 'bridge.onnx', bytes: modelBytes() }, engineKind: 'wasm' });
  const sources = randomSamples('x', [1, 3, 8, 8], 3, 2).map((sample, i) => ({ name: `s${i}.npy`, bytes: formatNpy(sample.x) }));
  await s.run('loadDataset', { sources, preprocess: DEFAULT_PREPROCESS });
  return s;
}

/**
 * Issue #10: the page reaches its compute worker through one typed entry point, run(job, args),
 * with progress, cancel by id and failures as messages; every job of workers/jobs.ts goes through it.
 */
describe('the compute worker bridge (WorkbenchService.run)', () => {
  it('runs a job with progress reports and returns its result as plain data', async () => {
    const s = await opened();
    const progress: JobProgress[] = [];
    const summary = await s.run('calibrate', { qtable: ALL_INT8 }, 'job-1', (p) => progress.push(p));
    expect(summary.sampleCount).toBe(3);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.done).toBe(progress.at(-1)!.total);
    const evaluation = await s.run('evaluate', { qtable: ALL_INT8, depth: 'outputs' }, 'job-2');
    expect(evaluation.output.cos).toBeGreaterThan(0.9);
    expect(structuredClone(evaluation)).toEqual(evaluation);
  });

  it('cancels a job by its id, also while it waits behind another', async () => {
    const s = await opened();
    const calibrating = s.run('calibrate', { qtable: ALL_INT8 }, 'job-1');
    const waiting = s.run('evaluate', { qtable: ALL_INT8, depth: 'layers' }, 'job-2');
    s.cancel('job-2');
    await calibrating;
    const error = await waiting.then(() => null, (e: unknown) => e);
    expect(isCancelled(error)).toBe(true);
    // the bridge goes on: the next job runs
    expect((await s.run('evaluate', { qtable: ALL_INT8, depth: 'outputs' }, 'job-3')).output.cos).toBeGreaterThan(0.9);
  });

  it('a failing job rejects with a message naming the file, and the next job runs', async () => {
    const s = await opened();
    await expect(s.run('importTable', { source: { name: 'broken.qtable', bytes: new TextEncoder().encode('no_such_layer INT9\n') } })).rejects.toThrow(/broken\.qtable/);
    await expect(service().run('evaluate', { qtable: ALL_INT8, depth: 'outputs' })).rejects.toThrow(/no model is open/);
    const summary = await s.run('calibrate', { qtable: ALL_INT8 }, 'job-4');
    expect(summary.tensorCount).toBeGreaterThan(0);
  });
});
