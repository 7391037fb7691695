import { afterEach, describe, expect, it } from 'vitest';
import type { Dataset } from '../src/core/io/dataset/Dataset';
import { nodeImageDecoder } from '../cli/nodeImageDecoder';
import { ortNodeEngine } from '../cli/ortNodeEngine';
import { DEFAULT_PREPROCESS } from '../src/core/io/dataset/loadDataset';
import { formatNpy } from '../src/core/io/dataset/npy';
import { GraphBuilder, randomSamples } from '../test/support/GraphBuilder';
import { inSharedMemory } from './sharedSamples';
import { WorkbenchService } from './WorkbenchService';

const dataset = (): Dataset => ({
  samples: [{ image: { dtype: 'float32', dims: [1, 3], data: new Float32Array([0.5, -1, 2]) }, rate: { dtype: 'int64', dims: [1], data: new BigInt64Array([16000n]) } }],
  sampleNames: ['a.png'],
});

const isolated = Object.getOwnPropertyDescriptor(globalThis, 'crossOriginIsolated');
afterEach(() => {
  if (isolated) Object.defineProperty(globalThis, 'crossOriginIsolated', isolated);
  else delete (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
});

describe('inSharedMemory', () => {
  it('moves every sample into shared memory when the page is cross-origin isolated: a worker given it reads the same memory', () => {
    Object.defineProperty(globalThis, 'crossOriginIsolated', { value: true, configurable: true });
    const shared = inSharedMemory(dataset());
    const { image, rate } = shared.samples[0];
    expect(image.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(rate.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect([...image.data as Float32Array]).toEqual([0.5, -1, 2]);
    expect(rate.data).toBeInstanceOf(BigInt64Array);
    expect(shared.sampleNames).toEqual(['a.png']);
    // What postMessage does to it: the same memory on the other side, not a copy.
    const received = structuredClone(shared.samples[0]);
    (received.image.data as Float32Array)[0] = 7;
    expect((image.data as Float32Array)[0]).toBe(7);
  });

  it('leaves the dataset as it is where memory cannot be shared', () => {
    Object.defineProperty(globalThis, 'crossOriginIsolated', { value: false, configurable: true });
    const plain = dataset();
    expect(inSharedMemory(plain)).toBe(plain);
  });

  it('the compute worker\'s loadDataset job gives the workbench its samples in shared memory', async () => {
    Object.defineProperty(globalThis, 'crossOriginIsolated', { value: true, configurable: true });
    const engine = ortNodeEngine(1);
    const service = new WorkbenchService({ wasm: async () => engine, webgpu: async () => engine }, nodeImageDecoder, async () => false);
    const g = new GraphBuilder({ seed: 9, opset: 13 });
    g.output(g.conv(g.input('x', [1, 3, 8, 8]), 2, 3));
    await service.run('openModel', { source: { name: 'shared.onnx', bytes: g.toBytes() }, engineKind: 'wasm' });
    const sources = randomSamples('x', [1, 3, 8, 8], 2, 2).map((sample, i) => ({ name: `s${i}.npy`, bytes: formatNpy(sample.x) }));
    await service.run('loadDataset', { sources, preprocess: DEFAULT_PREPROCESS });
    const held = (service.bench as unknown as { state: { dataset: Dataset } }).state.dataset;
    expect(held.samples.map((sample) => sample.x.data.buffer instanceof SharedArrayBuffer)).toEqual([true, true]);
  });
});
