/**
 * Whether a worker still answers, for the calls that would otherwise wait on it forever. A worker
 * that closes itself (`self.close()`) or whose thread is killed fires no event at all: its pending
 * Comlink calls just never settle. So while at least one call waits on the worker, the caller pings
 * it on a MessageChannel of their own (`connectLiveness`), and the worker answers from its event
 * loop (`answerPings`). A ping left unanswered for `timeoutMs` means the worker is gone.
 *
 * The timeout must be generous: one onnxruntime-web session creation or inference holds the
 * worker's thread, and so its answer, for seconds on a big model (the core yields between
 * inferences, never inside one: architecture.md, "Jobs and cancellation").
 */

/** The caller's end of the channel (a MessagePort; a stub in tests). */
export interface PingPort {
  postMessage(sequence: number): void;
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
}

export interface LivenessOptions {
  /** How long a ping may stay unanswered while a call waits before the worker counts as gone. */
  readonly timeoutMs: number;
  /** How often the silence is checked (and a new ping sent once the last one was answered). */
  readonly intervalMs?: number;
}

export class Liveness {
  private readonly intervalMs: number;
  /** Calls in flight: pings go out only while some call waits, so an idle worker costs nothing. */
  private pending = 0;
  private sequence = 0;
  /** The ping not answered yet, and for how many checks it has not been. */
  private awaiting: number | null = null;
  private missedChecks = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly port: PingPort, private readonly options: LivenessOptions, private readonly onSilent: () => void) {
    this.intervalMs = options.intervalMs ?? 1000;
    port.onmessage = (event) => {
      if (event.data === this.awaiting) this.awaiting = null;
    };
  }

  /** `call`, unchanged; while it is in flight the worker is pinged, and `onSilent` runs once if it stops answering. */
  watch<T>(call: Promise<T>): Promise<T> {
    if (this.stopped) return call;
    if (this.pending++ === 0) this.check();
    const settled = () => {
      if (--this.pending === 0) this.rest();
    };
    call.then(settled, settled);
    return call;
  }

  /** No more pings (the worker was ended, or declared gone). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.rest();
    this.port.onmessage = null;
    this.port.close();
  }

  // Silence is counted in checks of this thread's own timer, not in wall time: a caller that was
  // itself held up (a long render, a frozen background tab) never blames the worker for answers
  // still queued behind its timer.
  private check(): void {
    this.timer = undefined;
    if (this.stopped || this.pending === 0) return;
    if (this.awaiting === null) {
      this.awaiting = ++this.sequence;
      this.missedChecks = 0;
      this.port.postMessage(this.awaiting);
    } else if (++this.missedChecks * this.intervalMs >= this.options.timeoutMs) {
      this.stop();
      this.onSilent();
      return;
    }
    this.timer = setTimeout(() => this.check(), this.intervalMs);
  }

  private rest(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.awaiting = null;
    this.missedChecks = 0;
  }
}

/** The first message a watched worker gets: the far end of its ping channel. */
const PING_PORT = 'qbenchPingPort';

/** A Liveness for `worker`: the far end of a new channel goes to the worker as its first message (before any Comlink call). */
export function connectLiveness(worker: Worker, options: LivenessOptions, onSilent: () => void): Liveness {
  const channel = new MessageChannel();
  worker.postMessage({ [PING_PORT]: channel.port2 }, [channel.port2]);
  return new Liveness(channel.port1, options, onSilent);
}

/**
 * In a worker: answers the pings of `connectLiveness` on the port it sends. Comlink's own listener
 * ignores that message (it has no Comlink type).
 */
export function answerPings(scope: Pick<EventTarget, 'addEventListener'> = globalThis): void {
  scope.addEventListener('message', (event) => {
    const port = (event as MessageEvent).data?.[PING_PORT] as MessagePort | undefined;
    if (port) port.onmessage = (ping) => port.postMessage(ping.data);
  });
}
