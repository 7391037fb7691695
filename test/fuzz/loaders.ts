import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import type { Engine, Session } from '../../src/core/engine/Engine';
import { QbenchError } from '../../src/core/errors';
import { parseCaliTable } from '../../src/core/io/caliTable';
import { DEFAULT_PREPROCESS, DEFAULT_LIMITS, loadDataset } from '../../src/core/io/dataset/loadDataset';
import { parseOneConfig } from '../../src/core/io/oneConfig';
import { parseQTable } from '../../src/core/io/qtable';
import type { ValueDesc } from '../../src/core/model/ModelGraph';
import type { DType, Tensor, TensorMap } from '../../src/core/model/tensor';
import { Workbench } from '../../src/core/Workbench';
import type { FuzzCase } from './cases';

/**
 * What one case did, as the host saw it from inside. `refused` carries what the verdict needs:
 * whether the error was one of qbench's own classes (checked here, where the class exists; only
 * the name and message cross the thread). The runner adds 'hang', 'abort' and 'uncaught'.
 */
export type Outcome =
  | { readonly status: 'loaded'; readonly detail: string }
  | { readonly status: 'refused'; readonly errorName: string; readonly message: string; readonly qbench: boolean }
  | { readonly status: 'hang'; readonly ms: number }
  | { readonly status: 'abort'; readonly detail: string }
  | { readonly status: 'uncaught'; readonly message: string };

/** The two depths a case runs at: the loaders alone (a worker thread), or the CLI's open with onnxruntime and one inference (a child process). */
export type Stage = 'load' | 'engine';

/**
 * An engine that accepts every model and infers nothing: Workbench.open runs its whole path (readOnnx,
 * de-quantization, the If/Loop branches loaded on their own, the layer table) without onnxruntime, which a
 * worker thread must not hold (terminating a thread inside a native call aborts the process).
 */
const acceptingEngine: Engine = {
  name: 'fuzz-accepting',
  async createSession(): Promise<Session> {
    return { inputNames: [], outputNames: [], inputInfo: [], outputInfo: [], run: async () => ({}), dispose: async () => {} };
  },
};

const textOf = (bytes: Uint8Array) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes); // as the CLI's readRegularText

async function loadCase(c: FuzzCase, stage: Stage): Promise<string> {
  switch (c.format) {
    case 'onnx': {
      const engine = stage === 'engine' ? ortNodeEngine(1) : acceptingEngine;
      const bench = await Workbench.open(engine, c.bytes, c.fileName, { dequantize: c.dequantize === true });
      const layers = `${bench.layers.size} layers`;
      if (stage === 'load') return `${layers}, ${bench.findings.notes.length} notes`;
      return `${layers}; ${await runOnce(engine, bench, c.fileName)}`;
    }
    case 'npy': case 'npz': case 'h5': case 'png': case 'jpeg': {
      const dataset = await loadDataset([{ name: c.fileName, bytes: c.bytes }], c.inputs ?? [], DEFAULT_PREPROCESS, nodeImageDecoder, DEFAULT_LIMITS);
      return `${dataset.samples.length} samples`;
    }
    case 'cali_table':
      return `${parseCaliTable(textOf(c.bytes), c.fileName, c.nodes).table.entries.size} entries`;
    case 'qtable':
      return `${parseQTable(textOf(c.bytes), c.fileName, c.nodes).table.layers.size} layers`;
    case 'one_config':
      return `${parseOneConfig(textOf(c.bytes), c.fileName, c.nodes).table.layers.size} layers`;
  }
}

/** Above this many input elements the inference is skipped: a model that asks for it is valid, and running it only costs time. */
const MAX_FEED_ELEMENTS = 1 << 20;

/** One inference of the opened model on seeded values, as calibration's first sample would run it. */
async function runOnce(engine: Engine, bench: Workbench, fileName: string): Promise<string> {
  const feeds: TensorMap = {};
  for (const input of bench.graph.inputs) {
    const tensor = feedFor(input);
    if (!tensor) return `inference skipped (input "${input.name}" is ${input.dtype ?? 'untyped'} ${JSON.stringify(input.dims)})`;
    feeds[input.name] = tensor;
  }
  const session = await engine.createSession(bench.model.encode(), { modelName: fileName });
  try {
    const outputs = await session.run(feeds);
    return `ran: ${Object.keys(outputs).length} outputs`;
  } finally {
    await session.dispose();
  }
}

function feedFor(input: ValueDesc): Tensor | null {
  const dims = (input.dims ?? [1]).map((d) => d ?? 1);
  const count = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count) || count > MAX_FEED_ELEMENTS || dims.some((d) => d < 0)) return null;
  const dtype: DType | null = input.dtype === 'other' ? null : input.dtype;
  switch (dtype) {
    case 'float32': case null: return { dtype: 'float32', dims, data: Float32Array.from({ length: count }, (_, i) => Math.sin(i)) };
    case 'int64': return { dtype: 'int64', dims, data: new BigInt64Array(count) };
    case 'int32': return { dtype: 'int32', dims, data: new Int32Array(count) };
    case 'bool': return { dtype: 'bool', dims, data: new Uint8Array(count) };
    case 'uint8': return { dtype: 'uint8', dims, data: new Uint8Array(count) };
    case 'int8': return { dtype: 'int8', dims, data: new Int8Array(count) };
    default: return null;
  }
}

/** Runs one case; any error it throws becomes 'refused' (the verdict decides whether the refusal was a proper one). */
export async function runCase(c: FuzzCase, stage: Stage): Promise<Outcome> {
  try {
    return { status: 'loaded', detail: await loadCase(c, stage) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return { status: 'refused', errorName: e.name, message: e.message, qbench: error instanceof QbenchError };
  }
}
