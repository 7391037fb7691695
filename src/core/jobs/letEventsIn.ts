/**
 * Lets queued events (a cancel request, a progress message) run in the middle of a long loop of
 * engine runs. onnxruntime-web resolves `run` without giving the event loop a turn, so a worker
 * looping over hundreds of runs would not see a cancel until it finished. Yields at most every
 * 25 ms (a macrotask: MessageChannel in browsers, setImmediate in Node), so the loop loses nothing
 * measurable.
 */
let lastYield = 0;
const waiting: (() => void)[] = [];
let channel: MessageChannel | null = null;

function macrotask(): Promise<void> {
  return new Promise<void>((resolve) => {
    if (typeof setImmediate === 'function') {
      setImmediate(resolve);
      return;
    }
    if (!channel) {
      channel = new MessageChannel();
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
