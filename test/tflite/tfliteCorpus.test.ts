import * as ort from 'onnxruntime-node';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as circle from '../../src/core/io/circle/generated/circle';
import * as tflite from '../../src/core/io/tflite/generated/tflite';
import { readOnnx } from '../../src/core/io/onnx/OnnxModel';
import { readFlatModel } from '../../src/core/io/tflite/flatModel';
import { readFlatbufferModel } from '../../src/core/io/tflite/readFlatbufferModel';
import { Workbench } from '../../src/core/Workbench';
import { ortNodeEngine } from '../../cli/ortNodeEngine';
import type { NpyArray } from '../../src/core/io/dataset/npy';
import { packTflite, readReference, tfliteToCircle, unpackTflite } from './flatbufferFixtures';
import { exportTable } from '../../src/core/export/tables';

const CORPUS = new URL('../../../shared/corpus/tflite/', import.meta.url).pathname;
const present = existsSync(CORPUS);
const models = present ? readdirSync(CORPUS).filter((f) => f.endsWith('.tflite') && existsSync(CORPUS + f.replace(/\.tflite$/, '.ref.npz'))).sort() : [];
const read = (file: string) => new Uint8Array(readFileSync(CORPUS + file));

/**
 * Output quantization steps a quantized model may be off by (1 for a file not listed). The
 * simulation rounds at the file's quantizers; int8 CONV_2D, DEPTHWISE_CONV_2D and ADD compute
 * XNNPACK's integer arithmetic (the references' interpreter), so MobileNetV2 is held exact: a deep
 * network passes on any one-step flip (3 flips of one ADD once grew to 7 steps in its logits).
 * int8 UNIDIRECTIONAL_SEQUENCE_LSTM computes TensorFlow Lite's integer kernel (int16 gates,
 * gemmlowp's fixed-point sigmoid and tanh), so the LSTMs are held exact too: simulated in float,
 * DTLN's second LSTM was one step off on 2 of 128 values, which became 23 of its 257 outputs one
 * or two steps off after the FULLY_CONNECTED and the final LOGISTIC (output scale 1/256).
 */
const STEPS: Record<string, number> = {
  'mobilenet_v2_quantized_1x3x224x224.tflite': 0,
  'dtln_noise_suppression.tflite': 0,
  'trained_lstm_int8.tflite': 0,
};

interface Run {
  readonly got: Float32Array;
  readonly want: Float32Array;
  readonly step: number | null;
}

/** Runs a converted model on the stored inputs (a quantized input de-quantized with its scale) and returns its first output next to the stored one, both real. */
async function runOnReference(bytes: Uint8Array, fileName: string, onnxModel: Uint8Array, inputs: readonly NpyArray[], outputs: readonly NpyArray[]): Promise<Run> {
  const model = readFlatModel(bytes, fileName);
  const real = (array: NpyArray, index: number) => {
    const q = model.tensors[index].quantization;
    return Float32Array.from(array.data as ArrayLike<number>, (v) => (q ? (Number(v) - q.zeroPoint[0]) * q.scale[0] : Number(v)));
  };
  const session = await ort.InferenceSession.create(onnxModel);
  const feeds = Object.fromEntries(inputs.map((array, k) => [session.inputNames[k], new ort.Tensor('float32', real(array, model.inputs[k]), array.dims)]));
  const result = await session.run(feeds);
  const out = model.tensors[model.outputs[0]];
  return { got: result[session.outputNames[0]].data as Float32Array, want: real(outputs[0], model.outputs[0]), step: out.quantization?.scale[0] ?? null };
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.skipIf(!present)('TensorFlow Lite corpus: converted models give TensorFlow Lite\'s outputs', () => {
  it.each(models)('%s', async (file) => {
    const bytes = read(file);
    const converted = readFlatbufferModel(bytes, file);
    const { inputs, outputs } = readReference(CORPUS + file.replace(/\.tflite$/, '.ref.npz'));
    // The float model is what qbench works on: it reads as any ONNX model.
    const graph = readOnnx(converted.float, file).graph;
    expect(graph.nodes.length).toBeGreaterThan(0);
    const run = await runOnReference(bytes, file, converted.quantized ?? converted.float, inputs, outputs);
    expect(run.got.length).toBe(run.want.length);
    const error = maxAbs(run.got, run.want);
    if (run.step === null) {
      const scale = run.want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(error / scale).toBeLessThanOrEqual(1e-4);
    } else {
      expect(error / run.step).toBeLessThanOrEqual((STEPS[file] ?? 1) + 1e-3);
    }
  });
});

describe.skipIf(!present)('Circle', () => {
  it('a .circle written from a corpus .tflite with the circle schema converts the same way', async () => {
    for (const file of ['hello_world_int8.tflite', 'micro_speech_quantized.tflite', 'trained_lstm.tflite']) {
      const bytes = read(file);
      const circleBytes = tfliteToCircle(bytes);
      expect(String.fromCharCode(...circleBytes.subarray(4, 8))).toBe('CIR0');
      const fromCircle = readFlatbufferModel(circleBytes, file.replace(/\.tflite$/, '.circle'));
      expect(fromCircle.format).toBe('circle');
      const fromTflite = readFlatbufferModel(bytes, file);
      const { inputs, outputs } = readReference(CORPUS + file.replace(/\.tflite$/, '.ref.npz'));
      const a = await runOnReference(circleBytes, file, fromCircle.quantized ?? fromCircle.float, inputs, outputs);
      const b = await runOnReference(bytes, file, fromTflite.quantized ?? fromTflite.float, inputs, outputs);
      expect(maxAbs(a.got, b.got)).toBe(0);
      expect(readOnnx(fromCircle.float, file).graph.nodes.map((n) => n.name)).toEqual(readOnnx(fromTflite.float, file).graph.nodes.map((n) => n.name));
    }
  });

  it('a Circle-only operator the conversion lacks is refused with the operator and the tensor named', () => {
    const bytes = tfliteToCircle(read('hello_world_float.tflite'), (model) => {
      model.operatorCodes[model.subgraphs[0].operators[0].opcodeIndex].builtinCode = circle.BuiltinOperator.INSTANCE_NORM;
      model.operatorCodes[model.subgraphs[0].operators[0].opcodeIndex].deprecatedBuiltinCode = 127;
    });
    expect(() => readFlatbufferModel(bytes, 'm.circle')).toThrow(/m\.circle: operator INSTANCE_NORM \(#0, writing tensor "[^"]+"\) is not supported/);
  });
});

describe.skipIf(!present)('reading', () => {
  it('an unknown operator: the message names it and the tensor it writes, and nothing is converted', () => {
    const model = unpackTflite(read('hello_world_float.tflite'));
    const op = model.subgraphs[0].operators[1];
    // A new operator code for the second layer only (CUMSUM = 128, past the deprecated int8 field's range).
    model.operatorCodes.push(new tflite.OperatorCodeT(127, null, 1, 128 as tflite.BuiltinOperator));
    op.opcodeIndex = model.operatorCodes.length - 1;
    const name = model.subgraphs[0].tensors[op.outputs[0]].name as string;
    expect(() => readFlatbufferModel(packTflite(model), 'm.tflite')).toThrow(`m.tflite: operator CUMSUM (#1, writing tensor "${name}") is not supported`);
  });

  it('keeps the file\'s tensor names: every node is named after the tensor its operator writes (or a part of it), graph inputs and outputs keep theirs', () => {
    for (const file of models) {
      const bytes = read(file);
      const flat = readFlatModel(bytes, file);
      const names = new Set(flat.tensors.map((t) => t.name));
      const graph = readOnnx(readFlatbufferModel(bytes, file).float, file).graph;
      for (const node of graph.nodes) {
        const origin = [...names].some((n) => node.name === n || node.name.startsWith(`${n}/`));
        expect(origin, `${file}: node ${node.name}`).toBe(true);
      }
      expect(graph.inputs.map((i) => i.name)).toEqual(flat.inputs.map((i) => flat.tensors[i].name));
      expect(graph.outputs.map((o) => o.name)).toEqual(flat.outputs.map((o) => flat.tensors[o].name));
    }
  });

  it('opens by content: a quantized .tflite under any name opens as float with the file\'s scales imported and its own quantized model kept', async () => {
    const bytes = read('hello_world_int8.tflite');
    const bench = await Workbench.open(ortNodeEngine(1), bytes, 'model.bin');
    expect(bench.quantizedOriginal).not.toBeNull();
    expect(bench.findings.notes.some((n) => /converted from TensorFlow Lite/.test(n))).toBe(true);
    expect(bench.graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
  });
});

describe.skipIf(!present)('exports name the file\'s operators', () => {
  it('ONE\'s circle-quantizer configuration and the AI Edge Quantizer recipe name only tensors of the original file (read back)', async () => {
    // A .tflite, and a .circle written from one (read back from the .circle).
    for (const [file, bytes] of [['keras_mobilenetv2_035_96_float.tflite', read('keras_mobilenetv2_035_96_float.tflite')], ['trained_lstm.circle', tfliteToCircle(read('trained_lstm.tflite'))]] as const) {
      const model = readOnnx(readFlatbufferModel(bytes, file).float, file);
      // Every layer set to INT16 but the default: each must come out under a name the file has.
      const qtable = { defaultPrecision: 'INT8' as const, layers: new Map(model.graph.nodes.map((n) => [n.name, 'INT16' as const])) };
      const original = new Set(readFlatModel(bytes, file).tensors.map((t) => t.name));
      const source = { model, graph: model.graph, caliTable: { entries: new Map() } };
      const config = JSON.parse(exportTable('one_config', source, qtable, null).text) as { layers: { name?: string; names?: string[] }[] };
      const configNames = config.layers.flatMap((l) => [...(l.name ? [l.name] : []), ...(l.names ?? [])]);
      expect(configNames.length).toBeGreaterThan(0);
      for (const name of configNames) expect(original.has(name), `${file}: ${name}`).toBe(true);
      const recipe = JSON.parse(exportTable('ai_edge_recipe', source, qtable, null).text) as { regex: string; algorithm_key: string }[];
      expect(recipe[0]).toMatchObject({ regex: '.*', algorithm_key: 'min_max_uniform_quantize' });
      for (const entry of recipe.slice(1)) {
        const matched = [...original].filter((name) => new RegExp(entry.regex).test(name));
        expect(matched, `${file}: ${entry.regex}`).toHaveLength(1);
      }
    }
  });
});
