import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import { writeCorpusData } from './corpusData';
import type { CorpusModel } from './corpusModels';

const run = promisify(execFile);
const bin = resolve(import.meta.dirname, '..', '..', 'cli', 'qbench.js');

/** Every command the corpus run gives each model (issue #9), with its own flags. */
export const CORPUS_COMMANDS = [
  'calibrate max', 'calibrate kl', 'eval', 'eval int16', 'export',
  'search sensitive', 'search qtable', 'search run_qtable', 'search bisection', 'search fp_forward', 'search pattern', 'search pattern_resolver',
] as const;
export type CorpusCommand = (typeof CORPUS_COMMANDS)[number];

/** What one command did: ran (with its figure), refused with a named message, or crashed. */
export interface CommandOutcome {
  readonly command: CorpusCommand;
  readonly status: 'ok' | 'refused' | 'crashed';
  /** The figure it gave (output cos, or the search's result cos), or its message. */
  readonly summary: string;
  readonly exitCode: number | string;
  readonly stderr: string;
  readonly elapsedMs: number;
}

export interface CorpusRow {
  readonly model: CorpusModel;
  readonly opset: string;
  readonly ops: number;
  readonly layers: number;
  readonly quantizable: number;
  readonly int8Cos: number | null;
  /** The task `eval --json` gave each output (issue #11). */
  readonly tasks: Readonly<Record<string, string>>;
  /** Output cos of the all-INT16 QTable (every quantizable layer INT16). */
  readonly int16Cos: number | null;
  readonly outcomes: readonly CommandOutcome[];
  /** All-INT8 and all-INT16 output cos with other numbers of calibration samples (null: the command failed). */
  readonly int16BySamples: readonly { readonly samples: number; readonly int8: number | null; readonly int16: number | null; readonly stderr: string }[];
  /** The exported model's measured output cos (written file loaded again by onnxruntime), and the prediction. */
  readonly exported: { readonly measured: number; readonly predicted: number; readonly reloaded: boolean } | null;
}

async function qbench(args: readonly string[]): Promise<{ code: number | string; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { maxBuffer: 256 << 20, timeout: 600_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; signal?: string; stdout?: string; stderr?: string };
    return { code: e.code ?? e.signal ?? 'unknown', stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/**
 * A deliberate refusal: exit 1 and one `qbench: <file>: ...` line, no native abort, no raw engine
 * dump. Anything else that is not exit 0 is a crash.
 */
export function classify(code: number | string, stderr: string, fileName: string): 'ok' | 'refused' | 'crashed' {
  if (code === 0) return 'ok';
  const lines = stderr.trim().split('\n');
  const named = lines.length === 1 && lines[0].startsWith(`qbench: ${fileName}: `);
  const native = /Napi::Error|terminate called|Aborted|core dumped|\bat .+\.ts:\d+/.test(stderr);
  return code === 1 && named && !native ? 'refused' : 'crashed';
}

/** Runs every command on one model with `samples` generated samples; `dir` is its scratch folder. */
/** The commands that read, calibrate, evaluate and export a model (no search): CorpusModel.ciOpenOnly. */
export const OPEN_COMMANDS: readonly CorpusCommand[] = ['calibrate max', 'calibrate kl', 'eval', 'eval int16', 'export'];

export async function runCorpusModel(model: CorpusModel, dir: string, samples: number, methods = 'MAX,KL', int16Counts: readonly number[] = [], commands: readonly CorpusCommand[] = CORPUS_COMMANDS): Promise<CorpusRow> {
  const data = [...await writeCorpusData(model, join(dir, 'data'), Math.max(samples, ...int16Counts)), '--max_samples', String(samples)];
  const fileName = model.file.split('/').pop()!;
  const single = ['--model', model.file, ...data];
  const common = [...single, '--workers', '2'];
  const outcomes: CommandOutcome[] = [];
  let info: { opset: string; ops: number; layers: number; quantizable: number; int8Cos: number | null; tasks: Record<string, string>; midLayer?: string; quantizableNames?: string[] } = { opset: '?', ops: 0, layers: 0, quantizable: 0, int8Cos: null, tasks: {} };
  let int16Cos: number | null = null;
  let exported: CorpusRow['exported'] = null;
  // Two processes at a time: most of a command's time is loading the model on one core.
  const runCommand = async (command: CorpusCommand): Promise<CommandOutcome | null> => {
    const [verb, what] = command.split(' ');
    const args: string[] = [verb];
    if (verb === 'calibrate') args.push(...single, '--cali_method', what, '-o', join(dir, `${what}.cali_table`), '--json');
    if (verb === 'eval') args.push(...single, '--json');
    if (command === 'eval int16') {
      if (!info.quantizableNames?.length) return null;
      writeFileSync(join(dir, 'all16.qtable'), `# every quantizable layer at INT16\n${info.quantizableNames.map((l) => `${l} INT16`).join('\n')}\n`);
      args.push('--qtable', join(dir, 'all16.qtable'));
    }
    if (verb === 'export') args.push(...single, '--out', join(dir, 'model.qdq.onnx'));
    if (verb === 'search') {
      args.push(what, ...common, '-o', join(dir, `${what}.qtable`), '--json');
      if (what === 'sensitive' || what === 'qtable') args.push('--quantize_method_list', methods);
      if (what === 'fp_forward') args.push('--fpfwd_outputs', model.fpForwardFrom ?? info.midLayer ?? 'none');
    }
    const started = performance.now();
    const { code, stdout, stderr } = await qbench(args);
    const status = classify(code, stderr, fileName);
    let summary = status === 'ok' ? 'ok' : stderr.trim().replace(/^qbench: /, '');
    if (status === 'ok' && command === 'eval int16') {
      int16Cos = JSON.parse(stdout).output.cos;
      summary = `cos ${int16Cos!.toFixed(6)}`;
    } else if (status === 'ok' && verb === 'eval') {
      const result = JSON.parse(stdout);
      const quantizable = result.layers.filter((l: { precision: string }) => l.precision !== 'FP32');
      info = {
        opset: result.upgradedFrom ? `${result.upgradedFrom} -> ${result.opset}` : String(result.opset),
        ops: new Set(result.layers.map((l: { op: string }) => l.op)).size,
        layers: result.layers.length,
        quantizable: result.quantizableLayers,
        int8Cos: result.output.cos,
        tasks: Object.fromEntries(result.outputs.map((o: { name: string; task: string }) => [o.name, o.task])),
        midLayer: quantizable[Math.floor(quantizable.length / 2)]?.name,
        quantizableNames: quantizable.map((l: { name: string }) => l.name),
      };
      summary = result.output.cos === null ? (result.note ?? 'nothing quantized') : `cos ${result.output.cos.toFixed(4)}`;
    }
    if (status === 'ok' && verb === 'export') {
      const verified = /gives output cos (\S+) \(predicted (\S+)\)/.exec(stdout);
      const reloaded = await reloads(join(dir, 'model.qdq.onnx'));
      if (verified) exported = { measured: Number(verified[1]), predicted: Number(verified[2]), reloaded };
      summary = verified ? `measured ${verified[1].slice(0, 6)} = predicted` : stdout.trim().split('\n').pop() ?? 'ok';
    }
    if (status === 'ok' && verb === 'search') {
      const result = JSON.parse(stdout);
      summary = `${result.qtable.length} not INT8, cos ${result.outputCos === null ? '?' : result.outputCos.toFixed(4)}`;
    }
    if (status === 'ok' && verb === 'calibrate') summary = `${JSON.parse(stdout).tensors} tensors`;
    return { command, status, summary, exitCode: code, stderr, elapsedMs: performance.now() - started };
  };
  // eval first (the later commands need its layer names), beside the two calibrations; then the rest.
  const first: readonly CorpusCommand[] = ['calibrate max', 'calibrate kl', 'eval'];
  const byCommand = new Map<CorpusCommand, CommandOutcome | null>();
  for (const group of [first, commands.filter((c) => !first.includes(c))]) {
    const results = await inPairs(group, runCommand);
    group.forEach((c, i) => byCommand.set(c, results[i]));
  }
  for (const command of commands) {
    const outcome = byCommand.get(command);
    if (outcome) outcomes.push(outcome);
  }
  // All-INT16 against all-INT8 with other numbers of calibration samples (INT16 is what searches fall back to).
  const int16BySamples = !info.quantizableNames?.length ? [] : await inPairs(int16Counts, async (count) => {
    const base = ['eval', '--model', model.file, ...data.slice(0, -2), '--max_samples', String(count), '--json'];
    const [int8, int16] = await Promise.all([qbench(base), qbench([...base, '--qtable', join(dir, 'all16.qtable')])]);
    return {
      samples: count,
      int8: int8.code === 0 ? JSON.parse(int8.stdout).output.cos as number : null,
      int16: int16.code === 0 ? JSON.parse(int16.stdout).output.cos as number : null,
      stderr: `${int8.stderr}${int16.stderr}`,
    };
  }, 1);
  return { model, opset: info.opset, ops: info.ops, layers: info.layers, quantizable: info.quantizable, int8Cos: info.int8Cos, tasks: info.tasks, int16Cos, outcomes, exported, int16BySamples };
}

/** Maps `items` through `fn` with at most `width` calls in flight, keeping their order. */
async function inPairs<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, width = 2): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return results;
}

/** The written QDQ file loads again in a fresh onnxruntime session. */
async function reloads(path: string): Promise<boolean> {
  try {
    const session = await ortNodeEngine(1).createSession(new Uint8Array(readFileSync(path)));
    await session.dispose();
    return true;
  } catch {
    return false;
  }
}

/** The README's table: one row per model, one column per command. */
export function corpusTable(rows: readonly CorpusRow[]): string {
  const head = ['model', 'source', 'opset', 'ops', 'layers (quantizable)', 'all-INT8 output cos', 'all-INT16 output cos', ...CORPUS_COMMANDS.filter((c) => !c.startsWith('eval'))];
  const cell = (o: CommandOutcome) => (o.status === 'ok' ? o.summary : `${o.status}: ${o.summary.replace(/\|/g, '\\|').slice(0, 120)}`);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const outcomes = row.outcomes.filter((o) => !o.command.startsWith('eval'));
    const evalOutcome = row.outcomes.find((o) => o.command === 'eval')!;
    lines.push(`| ${row.model.id} | ${row.model.source} | ${row.opset} | ${row.ops} | ${row.layers} (${row.quantizable}) | ${row.int8Cos === null ? evalOutcome.summary.replace(/\|/g, '\\|').slice(0, 120) : row.int8Cos.toFixed(4)} | ${row.int16Cos === null ? '-' : row.int16Cos.toFixed(6)} | ${outcomes.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}
