import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Engine } from '../src/core/engine/Engine';
import { FaultInjector, faultSpecOf, nameWithFault, parseFault } from './faults';

describe('page fault specs (?fault=)', () => {
  it.each([
    ['compute:close:300', 'compute', { kind: 'close', argument: 300 }],
    ['compute:throw:3', 'compute', { kind: 'throw', argument: 3 }],
    ['search:1:close:300', 1, { kind: 'close', argument: 300 }],
    ['search:0:throw:2', 0, { kind: 'throw', argument: 2 }],
    ['search:1:throw:2', 0, null],
    ['search:1:throw:2', 'compute', null],
    ['compute:close:300', 0, null],
    ['compute:exit:300', 'compute', null],
    ['search:close:300', 0, null],
    ['compute:throw:0', 'compute', null],
    ['', 'compute', null],
    [null, 0, null],
  ] as const)('%s for worker %s: %o', (spec, target, fault) => {
    expect(parseFault(spec, target)).toEqual(fault);
  });

  it('travels in the worker name and back; without one the name is unchanged', () => {
    expect(nameWithFault('qbench-search-2', 'search:1:close:300')).toBe('qbench-search-2 fault=search:1:close:300');
    expect(faultSpecOf('qbench-search-2 fault=search:1:close:300')).toBe('search:1:close:300');
    expect(nameWithFault('qbench-compute', null)).toBe('qbench-compute');
    expect(faultSpecOf('qbench-compute')).toBeNull();
  });
});

/** An engine whose sessions answer every run with an empty result. */
const engine: Engine = {
  name: 'stub',
  createSession: async () => ({
    inputNames: [], outputNames: [], inputInfo: [], outputInfo: [],
    run: async () => ({}),
    dispose: async () => {},
  }),
};

describe('FaultInjector', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('throw:2 fails the second inference after the first job starts, once; inferences before it do not count', async () => {
    const faults = new FaultInjector({ kind: 'throw', argument: 2 }, () => {});
    const session = await faults.engine(engine).createSession(new Uint8Array());
    for (let i = 0; i < 5; i++) await session.run({});
    faults.jobStarted();
    await session.run({});
    await expect(async () => session.run({})).rejects.toThrow('onnxruntime failed running node "injected" (Conv): injected failure');
    await session.run({});
  });

  it('close:200@evaluate waits for the first evaluate job: other jobs do not arm it', () => {
    expect(parseFault('compute:close:200@evaluate', 'compute')).toEqual({ kind: 'close', argument: 200, atJob: 'evaluate' });
    vi.useFakeTimers();
    const close = vi.fn();
    const faults = new FaultInjector(parseFault('compute:close:200@evaluate', 'compute'), close);
    faults.jobStarted('calibrate');
    vi.advanceTimersByTime(10_000);
    expect(close).not.toHaveBeenCalled();
    faults.jobStarted('evaluate');
    vi.advanceTimersByTime(200);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('close:300 closes the worker 300 ms after the first job starts, and only once', () => {
    vi.useFakeTimers();
    const close = vi.fn();
    const faults = new FaultInjector({ kind: 'close', argument: 300 }, close);
    expect(faults.engine(engine)).toBe(engine);
    vi.advanceTimersByTime(10_000);
    expect(close).not.toHaveBeenCalled();
    faults.jobStarted();
    vi.advanceTimersByTime(299);
    expect(close).not.toHaveBeenCalled();
    faults.jobStarted();
    vi.advanceTimersByTime(10_000);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('without a fault the engine is the same object and nothing is armed', () => {
    const close = vi.fn();
    const faults = new FaultInjector(null, close);
    expect(faults.engine(engine)).toBe(engine);
    faults.jobStarted();
    expect(close).not.toHaveBeenCalled();
  });
});
