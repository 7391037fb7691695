/**
 * Whether a worker still answers, for the calls that would otherwise wait on it forever. A worker
 * that closes itself (`self.close()`) or whose thread is killed fires no event at all: its pending
 * Comlink calls just never settle. Two signals tell the caller:
 *
 * - at once, an exit lock: the worker takes a Web Lock of its own name and never lets it go; the
 *   browser releases a lock when the context that holds it ends, so the caller's request for the
 *   same lock is granted the moment the worker is gone, however it went (`watchExitLock`);
 * - slowly, for a worker that lives but no longer answers: while at least one call waits on the
 *   worker, the caller pings it on a MessageChannel of their own (`connectLiveness`), and the worker
 *   answers from its event loop (`answerPings`). A ping left unanswered for `timeoutMs` means the
 *   worker is gone.
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

  /** Ends the request for the worker's exit lock (we end the worker ourselves: that is no loss). */
  private exitWatch: AbortController | null = null;

  /**
   * `onSilent` when the worker stops answering pings, `onExit` when its exit lock is released (it
   * ended, however: closed, killed, crashed).
   */
  constructor(private readonly port: PingPort, private readonly options: LivenessOptions, private readonly onSilent: () => void, onExit: () => void = onSilent) {
    this.intervalMs = options.intervalMs ?? 1000;
    port.onmessage = (event) => {
      if (event.data === this.awaiting) this.awaiting = null;
      else if (event.data?.[EXIT_LOCK_HELD] && !this.stopped) this.exitWatch = watchExitLock(event.data[EXIT_LOCK_HELD], () => {
        this.stop();
        onExit();
      });
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
    this.exitWatch?.abort();
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

/** The first message a watched worker gets: the far end of its ping channel, and the name of its exit lock. */
const PING_PORT = 'qbenchPingPort';
const EXIT_LOCK = 'qbenchExitLock';
/** The worker's word on its ping port that it holds its exit lock (the caller may ask for it from then on). */
const EXIT_LOCK_HELD = 'qbenchExitLockHeld';

/** The Web Locks API where this context has it (browsers; not Node). */
function webLocks(): LockManager | undefined {
  return (globalThis.navigator as Navigator | undefined)?.locks;
}

let exitLocks = 0;

/**
 * A Liveness for `worker`: the far end of a new channel goes to the worker as its first message
 * (before any Comlink call), with the name of the exit lock it is to hold.
 */
export function connectLiveness(worker: Worker, options: LivenessOptions, onSilent: () => void, onExit: () => void = onSilent): Liveness {
  const channel = new MessageChannel();
  const lock = `qbench-worker-exit-${Date.now().toString(36)}-${++exitLocks}-${Math.random().toString(36).slice(2)}`;
  worker.postMessage({ [PING_PORT]: channel.port2, [EXIT_LOCK]: lock }, [channel.port2]);
  return new Liveness(channel.port1, options, onSilent, onExit);
}

/**
 * Asks for the lock a worker holds until it ends: `onExit` runs when it is granted. Abort the
 * returned controller before ending the worker yourself.
 */
export function watchExitLock(name: string, onExit: () => void): AbortController | null {
  const locks = webLocks();
  if (!locks) return null;
  const controller = new AbortController();
  locks.request(name, { signal: controller.signal }, () => {
    if (!controller.signal.aborted) onExit();
  }).catch(() => {}); // aborted: the caller ended the worker itself
  return controller;
}

/**
 * In a worker: answers the pings of `connectLiveness` on the port it sends, and takes its exit lock
 * for good (then says so on the port). Comlink's own listener ignores that message (it has no
 * Comlink type).
 */
export function answerPings(scope: Pick<EventTarget, 'addEventListener'> = globalThis): void {
  scope.addEventListener('message', (event) => {
    const data = (event as MessageEvent).data;
    const port = data?.[PING_PORT] as MessagePort | undefined;
    if (!port) return;
    port.onmessage = (ping) => port.postMessage(ping.data);
    const lock = data[EXIT_LOCK] as string | undefined;
    const locks = webLocks();
    if (lock && locks) {
      void locks.request(lock, () => {
        port.postMessage({ [EXIT_LOCK_HELD]: lock });
        return new Promise<never>(() => {}); // held until this worker ends
      });
    }
  });
}
