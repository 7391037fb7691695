import { fork, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import type { FuzzCase } from './cases';
import type { FromHost, ToHost } from './host';
import type { Outcome, Stage } from './loaders';

const HOST_ENTRY = new URL('./hostEntry.js', import.meta.url);
/** A host that cannot even start (tsx, onnxruntime's load) within this is broken, not a case. */
const START_LIMIT_MS = 60_000;
/** Memory one host may take: a loader that allocates past it (a size it trusted) is a finding, not a reason to swap the machine. */
const HOST_HEAP_MB = 1024;

/**
 * One host: a worker thread for the loaders (cheap to start, and `terminate()` stops a synchronous
 * parser that never returns), or a child process for the engine stage (onnxruntime-node aborts the
 * whole process on some native errors, and a thread must not be terminated inside a native call).
 */
interface Host {
  post(message: ToHost): void;
  /** Ends the host at once (a hang); its death is then not reported as an abort. */
  kill(): void;
  onMessage(listener: (message: FromHost) => void): void;
  /** Called once when the host ends by itself: exit code or signal, or an error event (out of memory). */
  onDeath(listener: (detail: string) => void): void;
}

function threadHost(): Host {
  const worker = new Worker(HOST_ENTRY, { resourceLimits: { maxOldGenerationSizeMb: HOST_HEAP_MB }, stdout: true, stderr: true });
  // Library logging (HDF5 diagnostics) would bury the summary; what is printed is not what the suite asserts.
  worker.stdout.resume();
  worker.stderr.resume();
  let dead = false;
  let errorText = '';
  return {
    post: (m) => worker.postMessage(m),
    kill: () => {
      dead = true;
      void worker.terminate();
    },
    onMessage: (l) => worker.on('message', l),
    onDeath: (l) => {
      worker.on('error', (error) => {
        errorText = `${error.name}: ${error.message}${'code' in error ? ` (${String(error.code)})` : ''}`;
      });
      worker.on('exit', (code) => {
        if (!dead) l(errorText || `worker thread exited with code ${code}`);
        dead = true;
      });
    },
  };
}

function processHost(): Host {
  const child: ChildProcess = fork(HOST_ENTRY, [], { serialization: 'advanced', execArgv: [`--max-old-space-size=${HOST_HEAP_MB}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-400);
  });
  let dead = false;
  return {
    post: (m) => child.send(m),
    kill: () => {
      dead = true;
      child.kill('SIGKILL');
    },
    onMessage: (l) => child.on('message', (m) => l(m as FromHost)),
    onDeath: (l) => child.on('exit', (code, signal) => {
      if (!dead) l(`process ${signal ? `killed by ${signal}` : `exited with code ${code}`}${stderrTail ? `; stderr ends: ${stderrTail.replace(/\s+/g, ' ').trim().slice(-200)}` : ''}`);
      dead = true;
    }),
  };
}

/**
 * One slot of the pool: a host started on demand, given one case at a time with a time limit.
 * A case over its limit ends the host ('hang'); a host that dies under a case ('abort') or reports an
 * escaped error ('uncaught') is replaced before the next case.
 */
class Slot {
  private host: Promise<Host> | null = null;
  private pending: ((outcome: Outcome) => void) | null = null;

  constructor(private readonly kind: 'thread' | 'process') {}

  private start(): Promise<Host> {
    return new Promise((resolve, reject) => {
      const host = this.kind === 'thread' ? threadHost() : processHost();
      const timer = setTimeout(() => {
        host.kill();
        reject(new Error(`the fuzz ${this.kind} host did not start within ${START_LIMIT_MS / 1000} s`));
      }, START_LIMIT_MS);
      host.onDeath((detail) => {
        clearTimeout(timer);
        this.host = null;
        if (this.pending) this.settle({ status: 'abort', detail });
        else reject(new Error(`the fuzz ${this.kind} host died while starting: ${detail}`));
      });
      host.onMessage((message) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          resolve(host);
        } else if (message.type === 'outcome') this.settle(message.outcome);
        else if (message.type === 'uncaught') {
          this.settle({ status: 'uncaught', message: message.message });
          this.retire(host);
        }
      });
    });
  }

  private settle(outcome: Outcome): void {
    const pending = this.pending;
    this.pending = null;
    pending?.(outcome);
  }

  private retire(host: Host): void {
    host.kill();
    this.host = null;
  }

  async run(c: FuzzCase, stage: Stage, limitMs: number): Promise<Outcome> {
    this.host ??= this.start();
    const host = await this.host;
    return new Promise((resolve) => {
      const started = Date.now();
      const timer = setTimeout(() => {
        this.retire(host);
        this.settle({ status: 'hang', ms: Date.now() - started });
      }, limitMs);
      this.pending = (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      host.post({ type: 'case', case: c, stage });
    });
  }

  async close(): Promise<void> {
    if (!this.host) return;
    const host = await this.host.catch(() => null);
    if (host) this.retire(host);
  }
}

/** `size` hosts of one kind, each running cases in turn; run() takes a free one. */
export class HostPool {
  private readonly slots: Slot[];
  private readonly free: Slot[];
  private readonly waiting: ((slot: Slot) => void)[] = [];

  constructor(kind: 'thread' | 'process', size: number, private readonly limitMs: number) {
    this.slots = Array.from({ length: size }, () => new Slot(kind));
    this.free = [...this.slots];
  }

  async run(c: FuzzCase, stage: Stage): Promise<Outcome> {
    const slot = this.free.pop() ?? (await new Promise<Slot>((resolve) => this.waiting.push(resolve)));
    try {
      return await slot.run(c, stage, this.limitMs);
    } finally {
      const next = this.waiting.shift();
      if (next) next(slot);
      else this.free.push(slot);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.close()));
  }
}
