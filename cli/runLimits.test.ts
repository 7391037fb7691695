import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatNpy } from '../src/core/io/dataset/npy';
import { loopModel } from '../test/support/loopModel';
import { slowModel } from '../test/support/slowModel';
import { runQbench } from '../test/support/runQbench';


/** The real `qbench` command, as a user runs it (test/support/runQbench.ts). */
const qbench = (...args: string[]) => runQbench(args, { timeoutMs: 120_000 });

/** Processes (from /proc) whose command line holds `text`, with their parent's pid. */
function processesWith(text: string): { pid: number; ppid: number }[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      if (!readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text)) return [];
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1]);
      return [{ pid: Number(d), ppid }];
    } catch {
      return []; // ended meanwhile
    }
  });
}

/** Issue #12: every inference can be stopped; a Loop that declares too many iterations never starts. */
describe('run limits in the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qbench-run-limits-'));
  const file = (name: string, bytes: Uint8Array) => {
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  };
  const data = (dims: number[]) => file(`x${dims.join('x')}.npy`, formatNpy({ dtype: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.5) }));

  it('a Loop whose constant trip count is 2^40 is refused before it runs, naming the node, the limit and the flag', async () => {
    const r = await qbench('eval', '--model', file('loop40.onnx', loopModel(2n ** 40n)), '--data', data([1, 4]));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('qbench: loop40.onnx: Loop node "the_loop" (the main graph) declares a trip count of 1099511627776 (1,099,511,627,776), over the limit of 1,000,000 iterations per Loop or Scan; raise it with --max_loop_trips N (CLI) or Data & calibration → Limits → Loop iterations (page)\n');
    // Within the limit the same model runs.
    const small = await qbench('eval', '--model', file('loop3.onnx', loopModel(3n)), '--data', data([1, 4]), '--json');
    expect(small.code, small.stderr).toBe(0);
  }, 180_000);

  it('a trip count computed at run time is stopped by the per-inference time limit: exit 1 with one line, within seconds', async () => {
    const r = await qbench('eval', '--model', file('loopComputed.onnx', loopModel(2n ** 40n, { computed: true })), '--data', data([1, 4]), '--max_run_seconds', '2');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('qbench: loopComputed.onnx: during "qbench eval", an inference ran over the limit of 2 s per inference and was stopped; raise it with --max_run_seconds N\n');
    expect(r.ms).toBeLessThan(30_000);
  }, 180_000);

  it('a search worker thread inside a long inference is stopped the same way', async () => {
    const r = await qbench('search', 'bisection', '--model', file('slow.onnx', slowModel({ channels: 64, side: 512, convs: 8 })), '--data', data([1, 1, 1, 1]), '--max_samples', '1', '-o', join(dir, 'out.qtable'), '--max_run_seconds', '1', '--workers', '1');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^qbench: slow\.onnx: during "qbench search bisection", an inference( \(search worker 1\))? ran over the limit of 1 s per inference and was stopped; raise it with --max_run_seconds N\n$/);
  }, 90_000);

  it('the CLI process killed mid-evaluation (as the out-of-memory killer does): one line naming the model, exit 1', async () => {
    const pending = qbench('eval', '--model', file('slow2.onnx', slowModel({ channels: 64, side: 512, convs: 8 })), '--data', data([1, 1, 1, 1]));
    // The launcher's child is the process that runs the model: kill it once it is inside the work.
    await new Promise((r) => setTimeout(r, 2500));
    const running = processesWith('slow2.onnx');
    const child = running.find((p) => running.some((q) => q.pid === p.ppid))?.pid;
    expect(child).toBeDefined();
    process.kill(child!, 'SIGKILL');
    const r = await pending;
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('qbench: slow2.onnx: the process was killed (out of memory, or killed from outside); nothing more was written\n');
  }, 180_000);
});
