import type { Engine } from '../src/core/engine/Engine';
import { failingEngine } from '../src/core/engine/failingEngine';

/**
 * Failures the tests inject into one search worker thread, to prove that a failing or dying worker
 * ends the search with a message instead of a hang or an abort. `QBENCH_FAULT` is
 * `<worker index>:exit:<ms>` (the thread exits that long after it starts) or
 * `<worker index>:throw:<n>` (the n-th inference of that worker throws, as onnxruntime does when a
 * kernel fails). Unset in normal use: the engine is returned unchanged.
 */
export function injectedFault(engine: Engine, index: number, spec: string | undefined): Engine {
  const match = spec ? /^(\d+):(exit|throw):(\d+)$/.exec(spec) : null;
  if (!match || Number(match[1]) !== index) return engine;
  const [, , kind, argument] = match;
  if (kind === 'exit') {
    setTimeout(() => process.exit(70), Number(argument));
    return engine;
  }
  let runs = 0;
  return failingEngine(engine, () => ++runs === Number(argument));
}
