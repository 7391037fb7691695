import { afterEach, describe, expect, it } from 'vitest';
import type { Dataset } from '../src/core/io/dataset/Dataset';
import { inSharedMemory } from './sharedSamples';

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
});
