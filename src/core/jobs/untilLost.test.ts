import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { untilLost } from './untilLost';

function lostPromise(): { lost: Promise<never>; lose: (error: Error) => void } {
  let lose!: (error: Error) => void;
  const lost = new Promise<never>((_, reject) => {
    lose = reject;
  });
  lost.catch(() => {});
  return { lost, lose };
}

describe('untilLost', () => {
  it('gives the call\'s value or error while the worker lives', async () => {
    const { lost } = lostPromise();
    const guard = untilLost(lost);
    await expect(guard(Promise.resolve(42))).resolves.toBe(42);
    await expect(guard(Promise.reject(new Error('bad model')))).rejects.toThrow('bad model');
  });

  it('rejects the calls in flight, and every later one, with the loss', async () => {
    const { lost, lose } = lostPromise();
    const guard = untilLost(lost);
    const inFlight = guard(new Promise(() => {}));
    lose(new Error('worker 1 ended'));
    await expect(inFlight).rejects.toThrow('worker 1 ended');
    await expect(guard(Promise.resolve(1))).rejects.toThrow('worker 1 ended');
  });

  it('keeps nothing of a settled call while the worker lives (Promise.race with the loss kept every result)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { lost } = lostPromise();
    const guard = untilLost(lost);
    const refs: WeakRef<object>[] = [];
    const call = async () => refs.push(new WeakRef(await guard(Promise.resolve({ values: new Float32Array(1024) }))));
    for (let k = 0; k < 5; k++) await call();
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    expect(guard).toBeTypeOf('function'); // the guard, and `lost`, are still alive
  });
});
