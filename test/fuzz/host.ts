import { parentPort } from 'node:worker_threads';
import type { FuzzCase } from './cases';
import { runCase, type Stage } from './loaders';

/** Parent -> host: one case at a time. Host -> parent: ready once loaded, then one outcome per case, or what escaped. */
export type ToHost = { readonly type: 'case'; readonly case: FuzzCase; readonly stage: Stage };
export type FromHost =
  | { readonly type: 'ready' }
  | { readonly type: 'outcome'; readonly id: number; readonly outcome: import('./loaders').Outcome }
  | { readonly type: 'uncaught'; readonly message: string };

// The same module serves a worker thread (parentPort) and a forked child process (process.send).
const send = (message: FromHost) => (parentPort ? parentPort.postMessage(message) : process.send!(message));

// An error no loader caught (a library's asynchronous throw, an unhandled rejection) is a finding of
// its own: reported for the case in flight, then the host ends so the next case starts clean.
const escaped = (error: unknown) => {
  send({ type: 'uncaught', message: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
  setTimeout(() => process.exit(70), 50);
};
process.on('uncaughtException', escaped);
process.on('unhandledRejection', escaped);

const onMessage = (message: ToHost) => {
  if (message.type !== 'case') return;
  void runCase(message.case, message.stage).then((outcome) => send({ type: 'outcome', id: message.case.id, outcome }));
};
if (parentPort) parentPort.on('message', onMessage);
else process.on('message', onMessage);
send({ type: 'ready' });
