import type { Engine } from './Engine';
import { runError } from './engineErrors';

/** What onnxruntime says when a kernel fails, as an injected failure says it (the tests match it). */
export const INJECTED_FAILURE = "Non-zero status code returned while running Conv node. Name:'injected' Status Message: injected failure";

/**
 * The engine with a failure the tests inject: before every inference `failsNow()` is asked, and
 * when it says so that inference throws as the onnxruntime adapter does when a kernel fails
 * (`<model>: onnxruntime failed running node "injected" (Conv): injected failure`). Used by the
 * CLI's QBENCH_FAULT (cli/faultInjection.ts) and the page's ?fault= (workers/faults.ts) alike, so
 * both prove the same failure ends a job with a message.
 * @example let runs = 0; failingEngine(engine, () => ++runs === 3) // the third inference fails with INJECTED_FAILURE's node and reason
 */
export function failingEngine(engine: Engine, failsNow: () => boolean): Engine {
  return {
    name: engine.name,
    async createSession(model, options) {
      const session = await engine.createSession(model, options);
      return {
        inputNames: session.inputNames, outputNames: session.outputNames, inputInfo: session.inputInfo, outputInfo: session.outputInfo,
        dispose: () => session.dispose(),
        run(feeds, fetches) {
          if (failsNow()) throw runError(new Error(INJECTED_FAILURE), options?.modelName);
          return session.run(feeds, fetches);
        },
      };
    },
  };
}
