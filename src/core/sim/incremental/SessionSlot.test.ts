import { describe, expect, it } from 'vitest';
import type { Session } from '../../engine/Engine';
import { SessionSlot } from './SessionSlot';

/** A session that records when it is created and let go, in one shared log. */
function recordedSession(name: string, log: string[]): Promise<Session> {
  log.push(`create ${name}`);
  return Promise.resolve({
    inputNames: [], outputNames: [], inputInfo: [], outputInfo: [],
    run: () => Promise.resolve({}),
    dispose: () => { log.push(`dispose ${name}`); return Promise.resolve(); },
  } as unknown as Session);
}

describe('SessionSlot: the one session of a worker\'s what-if runners', () => {
  it('keeps the session of the same key, and lets the last one go before the next one is created', async () => {
    const slot = new SessionSlot();
    const log: string[] = [];
    const a = await slot.open('a', () => recordedSession('a', log));
    expect(await slot.open('a', () => recordedSession('a again', log))).toBe(a);
    await slot.open('b', () => recordedSession('b', log));
    await slot.dispose();
    expect(log).toEqual(['create a', 'dispose a', 'create b', 'dispose b']);
  });

  it('a session that fails to load is not kept: the next open creates one', async () => {
    const slot = new SessionSlot();
    const log: string[] = [];
    await expect(slot.open('a', () => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    await slot.open('a', () => recordedSession('a', log));
    expect(log).toEqual(['create a']);
  });

  it('runs one at a time, in the order given, whether the earlier ones succeed or fail', async () => {
    const slot = new SessionSlot();
    const log: string[] = [];
    let release!: () => void;
    const first = slot.exclusive(async () => {
      log.push('first starts');
      await new Promise<void>((resolve) => { release = resolve; });
      log.push('first ends');
      throw new Error('first failed');
    });
    const second = slot.exclusive(async () => { log.push('second runs'); return 2; });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(log).toEqual(['first starts']);
    release();
    await expect(first).rejects.toThrow('first failed');
    expect(await second).toBe(2);
    expect(log).toEqual(['first starts', 'first ends', 'second runs']);
  });
});
