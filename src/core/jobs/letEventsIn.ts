/**
 * Lets queued events (a cancel request, a progress message) run in the middle of a long loop of
 * engine runs. onnxruntime-web resolves `run` without giving the event loop a turn, so a worker
 * looping over hundreds of runs would not see a cancel until it finished. Yields at most every
 * 25 ms (a macrotask: MessageChannel in browsers, setImmediate in Node), so the loop loses nothing
 * measurable.
 */
let lastYield = 0;
const waiting: (() => void)[] = [];
/** The part of a MessagePort used here (typed apart: Node's typings of its MessagePort lack onmessage). */
interface Port {
  onmessage: ((event: unknown) => void) | null;
  postMessage(message: unknown): void;
}
let channel: { readonly port1: Port; readonly port2: Port } | null = null;

/** Node's setImmediate, looked up at run time (core is typed without Node). */
const setImmediateOfNode = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;

function macrotask(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (setImmediateOfNode) {
      setImmediateOfNode(resolve);
      return;
    }
    if (!channel) {
      channel = new MessageChannel() as unknown as { port1: Port; port2: Port };
      channel.port1.onmessage = () => waiting.shift()?.();
    }
    waiting.push(resolve);
    channel.port2.postMessage(0);
  });
}

export async function letEventsIn(): Promise<void> {
  const now = performance.now();
  if (now - lastYield < 25) return;
  lastYield = now;
  await macrotask();
}
