import { untilLost } from '../../jobs/untilLost';
import type { RunnerPort } from './SearchPool';

/**
 * A runner port whose calls fail, instead of waiting forever, when the worker behind it dies
 * (killed, out of memory, a native error): `died` rejects with the reason, and every call in flight
 * or made later rejects with it. `inFlight` counts the calls the worker is still running, so that a
 * pool is closed only once none is inside the engine.
 */
export interface GuardedPort extends RunnerPort {
  readonly inFlight: () => Promise<void>;
}

export function guardedPort(port: RunnerPort, died: Promise<never>): GuardedPort {
  const running = new Set<Promise<unknown>>();
  // `died` may reject while nothing waits on it; that is not an unhandled rejection.
  died.catch(() => {});
  const untilDied = untilLost(died);
  const guard = <T>(call: () => Promise<T>): Promise<T> => {
    const inner = call();
    running.add(inner);
    const settle = () => running.delete(inner);
    inner.then(settle, settle);
    return untilDied(inner);
  };
  return {
    rankChunk: (units, options, jobId, onResult) => guard(() => port.rankChunk(units, options, jobId, onResult)),
    scoreQTables: (qtables, table, metric, indices, jobId) => guard(() => port.scoreQTables(qtables, table, metric, indices, jobId)),
    localChunk: (units, jobId, onResult) => guard(() => port.localChunk(units, jobId, onResult)),
    outputErrors: (qtable, indices, jobId, onSample) => guard(() => port.outputErrors(qtable, indices, jobId, onSample)),
    layerSums: (qtable, indices, jobId) => guard(() => port.layerSums(qtable, indices, jobId)),
    noteQTable: (qtable, depth) => guard(() => port.noteQTable(qtable, depth)),
    localSums: (qtable, indices, jobId) => guard(() => port.localSums(qtable, indices, jobId)),
    cancel: (jobId) => port.cancel(jobId),
    inFlight: async () => {
      await Promise.race([Promise.allSettled(running), died.catch(() => {})]);
    },
  };
}
