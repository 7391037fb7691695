import { afterEach, describe, expect, it, vi } from 'vitest';
import { answerPings, Liveness, type PingPort } from './liveness';

/** The caller's end of a ping channel whose worker answers only when the test says so. */
function stubPort() {
  const sent: number[] = [];
  const port: PingPort & { closed: boolean } = {
    closed: false,
    onmessage: null,
    postMessage: (sequence) => void sent.push(sequence),
    close() {
      this.closed = true;
    },
  };
  const answer = () => port.onmessage?.({ data: sent[sent.length - 1] } as MessageEvent);
  return { port, sent, answer };
}

/** A call that settles when the test says so. */
function pendingCall() {
  let resolve!: () => void;
  const call = new Promise<void>((r) => {
    resolve = r;
  });
  return { call, resolve };
}

describe('Liveness', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a worker that never answers is declared silent once, after the timeout counted in checks, and the port is closed', () => {
    vi.useFakeTimers();
    const { port, sent } = stubPort();
    const onSilent = vi.fn();
    const liveness = new Liveness(port, { timeoutMs: 5000, intervalMs: 1000 }, onSilent);
    void liveness.watch(pendingCall().call);
    expect(sent).toEqual([1]); // pinged as soon as a call waits
    vi.advanceTimersByTime(4000);
    expect(onSilent).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(onSilent).toHaveBeenCalledTimes(1);
    expect(port.closed).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(onSilent).toHaveBeenCalledTimes(1);
    expect(sent).toEqual([1]);
  });

  it('a worker that answers is never declared silent, however long the call takes', () => {
    vi.useFakeTimers();
    const { port, sent, answer } = stubPort();
    const onSilent = vi.fn();
    const liveness = new Liveness(port, { timeoutMs: 5000, intervalMs: 1000 }, onSilent);
    void liveness.watch(pendingCall().call);
    for (let second = 0; second < 120; second++) {
      answer();
      vi.advanceTimersByTime(1000);
    }
    expect(onSilent).not.toHaveBeenCalled();
    expect(sent.length).toBeGreaterThan(50);
  });

  it('a worker busy for less than the timeout (one long inference) answers late and stays alive', () => {
    vi.useFakeTimers();
    const { port, answer } = stubPort();
    const onSilent = vi.fn();
    const liveness = new Liveness(port, { timeoutMs: 5000, intervalMs: 1000 }, onSilent);
    void liveness.watch(pendingCall().call);
    vi.advanceTimersByTime(4000);
    answer();
    vi.advanceTimersByTime(4000); // a new ping went out at the next check; not yet overdue
    expect(onSilent).not.toHaveBeenCalled();
  });

  it('an idle worker is not pinged, and silence counts only while a call waits', async () => {
    vi.useFakeTimers();
    const { port, sent } = stubPort();
    const onSilent = vi.fn();
    const liveness = new Liveness(port, { timeoutMs: 5000, intervalMs: 1000 }, onSilent);
    vi.advanceTimersByTime(60_000);
    expect(sent).toEqual([]);
    const first = pendingCall();
    const watched = liveness.watch(first.call);
    vi.advanceTimersByTime(3000);
    first.resolve();
    await watched; // the worker answered the call itself: the unanswered ping no longer counts
    vi.advanceTimersByTime(60_000);
    expect(onSilent).not.toHaveBeenCalled();
    void liveness.watch(pendingCall().call);
    expect(sent).toEqual([1, 2]);
    vi.advanceTimersByTime(4000);
    expect(onSilent).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1000);
    expect(onSilent).toHaveBeenCalledTimes(1);
  });

  it('a call that fails ends the pings like one that succeeds, and watch hands the call back unchanged', async () => {
    vi.useFakeTimers();
    const { port, sent } = stubPort();
    const onSilent = vi.fn();
    const liveness = new Liveness(port, { timeoutMs: 5000, intervalMs: 1000 }, onSilent);
    const failing = Promise.reject(new Error('kernel failed'));
    await expect(liveness.watch(failing)).rejects.toThrow('kernel failed');
    vi.advanceTimersByTime(60_000);
    expect(onSilent).not.toHaveBeenCalled();
    expect(sent).toEqual([1]);
  });

  it('after stop, no ping goes out and nothing is declared', () => {
    vi.useFakeTimers();
    const { port, sent } = stubPort();
    const onSilent = vi.fn();
    const liveness = new Liveness(port, { timeoutMs: 5000, intervalMs: 1000 }, onSilent);
    liveness.stop();
    void liveness.watch(pendingCall().call);
    vi.advanceTimersByTime(60_000);
    expect(sent).toEqual([]);
    expect(onSilent).not.toHaveBeenCalled();
  });

  it('over a real MessageChannel: answerPings keeps a worker alive; once its end is closed (no event says so) it is declared silent', async () => {
    const worker = new EventTarget();
    answerPings(worker);
    const channel = new MessageChannel();
    worker.dispatchEvent(new MessageEvent('message', { data: { qbenchPingPort: channel.port2 } }));
    let silent = false;
    const declared = new Promise<void>((resolve) => {
      const liveness = new Liveness(channel.port1, { timeoutMs: 200, intervalMs: 20 }, () => {
        silent = true;
        resolve();
      });
      void liveness.watch(new Promise((done) => setTimeout(done, 400))).then(() => {
        expect(silent).toBe(false);
        channel.port2.close(); // the worker closed itself
        void liveness.watch(new Promise(() => {}));
      });
    });
    await declared;
  });
});
