/**
 * Races each call against one promise that rejects when the worker behind the calls is lost, and
 * keeps nothing of a call once it settles.
 *
 * `Promise.race([call, lost])` looks the same but adds a reaction to `lost` per call, and `lost`
 * settles only if the worker goes: for a worker that lives, every call's reaction stays, and with it
 * the call's result and the closures it reaches. In the page's compute worker that held every
 * search context the pool was ever given (the demo's model bytes three times over and a dataset
 * replaced long ago: 34 MB after a calibration and four edits), and it grew with every call.
 *
 * @example
 * const guard = untilLost(workerLost);   // workerLost: Promise<never>, rejects when the worker dies
 * await guard(remote.evaluate(qtable));  // the evaluation, or workerLost's error if the worker dies first
 */
export function untilLost(lost: Promise<never>): <T>(call: Promise<T>) => Promise<T> {
  let reason: { readonly error: unknown } | null = null;
  const waiting = new Set<(error: unknown) => void>();
  lost.catch((error: unknown) => {
    reason = { error };
    for (const reject of waiting) reject(error);
    waiting.clear();
  });
  return <T>(call: Promise<T>) => {
    if (reason) {
      call.catch(() => {}); // the worker is gone: its answer, if any comes, is not waited for
      return Promise.reject(reason.error);
    }
    return new Promise<T>((resolve, reject) => {
      waiting.add(reject);
      call.then(
        (value) => {
          waiting.delete(reject);
          resolve(value);
        },
        (error: unknown) => {
          waiting.delete(reject);
          reject(error);
        },
      );
    });
  };
}
