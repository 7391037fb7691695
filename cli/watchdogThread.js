// The watchdog thread of the CLI (runWatchdog.ts): checks the run deadlines of every thread of the
// process 5 times a second; past one, reports on the launcher's channel (fd 3) and ends the process,
// whose main thread may be inside onnxruntime and will not come back by itself.
import { writeSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

const { buffer, limitSeconds, fileName, step, laneSlots } = workerData;
// The layout of runWatchdog.ts: a deadline per slot, then what each slot runs (WATCHED_WORK).
const SLOTS = buffer.byteLength / 12;
const deadlines = new BigInt64Array(buffer, 0, SLOTS);
const kinds = new Int32Array(buffer, 8 * SLOTS, SLOTS);
const WORK = ['an inference', 'reading the data'];

setInterval(() => {
  const now = BigInt(Date.now());
  for (let slot = 0; slot < deadlines.length; slot++) {
    const deadline = Atomics.load(deadlines, slot);
    if (deadline === 0n || now <= deadline) continue;
    // The engine threads' slots (the last ones) run the command's own inferences: told as the main thread's.
    const who = slot === 0 || slot >= SLOTS - laneSlots ? '' : ` (search worker ${slot})`;
    const what = WORK[Atomics.load(kinds, slot)] ?? 'an inference';
    const message = `${fileName}: during ${step}, ${what}${who} ran over the limit of ${limitSeconds} s per inference and was stopped; raise it with --max_run_seconds N`;
    if (process.env.QBENCH_REPORT_FD === '3') {
      try {
        writeSync(3, `timeout ${message}\n`);
      } catch {
        writeSync(2, `qbench: ${message}\n`);
      }
    } else {
      writeSync(2, `qbench: ${message}\n`);
    }
    process.kill(process.pid, 'SIGKILL');
  }
}, 200);
