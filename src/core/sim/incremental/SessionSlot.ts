import type { Session } from '../../engine/Engine';

/**
 * The one onnxruntime session the what-if runners of a worker keep, by what it computes, and their
 * runs, one at a time. Each session holds its own weights in onnxruntime-web's heap, which never
 * shrinks. The demo's worker heap after four edits (Node, 15 samples, probes at level 'extended'):
 * 87 MB with two sessions a runner, 73 with one, 60 with one for all three. An edit changes what every runner computes, so it needs
 * new sessions anyway; a toggle back pays a session's creation again (the demo's heatmap part:
 * 100-300 ms). The last session goes before the next one loads, so the two never hold the heap at
 * once; a run may therefore let go of the session another run is inside, hence one run at a time.
 */
export class SessionSlot {
  private current: { readonly key: string; readonly session: Promise<Session> } | null = null;
  private running: Promise<void> = Promise.resolve();

  /** Runs `work` once every run given before it has settled. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const result = this.running.then(work);
    this.running = result.then(() => undefined, () => undefined);
    return result;
  }

  /** The session computing `key`: the kept one, or the last one let go and `create`'s. */
  async open(key: string, create: () => Promise<Session>): Promise<Session> {
    if (this.current?.key === key) return this.current.session;
    await this.dispose();
    const session = create();
    this.current = { key, session };
    session.catch(() => {
      if (this.current?.session === session) this.current = null;
    });
    return session;
  }

  async dispose(): Promise<void> {
    const last = this.current;
    this.current = null;
    await last?.session.then((session) => session.dispose()).catch(() => {});
  }
}
