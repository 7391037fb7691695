import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../../cli/ortNodeEngine';
import { GraphBuilder, randomSamples, seededRandom, type WeightStorage } from '../../../../test/support/GraphBuilder';
import { REAL_MODELS } from '../../../../test/support/models';
import type { TensorMap } from '../../model/tensor';
import { readOnnx, type OnnxModel } from './OnnxModel';
import { DataType, onnx } from './protobuf';

// Models of ai.onnx opset 7 to 10 are upgraded to opset 13 on reading (opsetUpgrade.ts). Each
// test runs a model in onnxruntime as the file is and as readOnnx(...).encode() writes it, on the
// same seeded input, and compares every output: max |a - b| <= 1e-5 * max |a|.

const engine = ortNodeEngine(1);
const INT64_MAX = 9223372036854775807n;
const differences: string[] = [];

afterAll(() => {
  if (differences.length) console.log(`max |difference| between the file and the upgraded model (relative to max |output|):\n  ${differences.join('\n  ')}`);
});

async function run(bytes: Uint8Array, feeds: TensorMap): Promise<TensorMap> {
  const session = await engine.createSession(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

/** Feeds every graph input that is not an initializer with seeded values in [-1, 1). */
function feedsFor(proto: onnx.ModelProto, seed: number): TensorMap {
  const graph = proto.graph!;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const feeds: TensorMap = {};
  for (const input of graph.input.filter((i) => !initializers.has(i.name))) {
    const dims = input.type!.tensorType!.shape!.dim.map((d) => Number(d.dimValue));
    Object.assign(feeds, randomSamples(input.name, dims, 1, seed++)[0]);
  }
  return feeds;
}

/** Runs the original bytes and the upgraded model; expects the same outputs and records the largest difference. */
async function expectSameOutputs(label: string, original: Uint8Array, model: OnnxModel, feeds: TensorMap): Promise<void> {
  const reference = await run(original, feeds);
  const upgraded = await run(model.encode(), feeds);
  expect(Object.keys(upgraded).sort()).toEqual(Object.keys(reference).sort());
  let worstAbsolute = 0;
  let worst = 0;
  for (const [name, tensor] of Object.entries(reference)) {
    const a = Array.from(tensor.data as ArrayLike<number | bigint>, Number);
    const b = Array.from(upgraded[name].data as ArrayLike<number | bigint>, Number);
    expect(upgraded[name].dims, `dims of output ${name}`).toEqual(tensor.dims);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(a[i]));
    }
    const relative = scale === 0 ? diff : diff / scale;
    worst = Math.max(worst, relative);
    worstAbsolute = Math.max(worstAbsolute, diff);
    expect(diff, `${label}: output ${name} differs by up to ${diff} (max |output| ${scale})`).toBeLessThanOrEqual(1e-5 * scale);
  }
  differences.push(`${label}: ${worstAbsolute.toExponential(2)} (${worst.toExponential(2)})`);
}

interface OperatorCase {
  readonly name: string;
  readonly opset: number;
  readonly weights?: WeightStorage;
  readonly build: (b: GraphBuilder) => void;
  /** Op types the upgraded graph must hold, and ones it must not. */
  readonly has?: readonly string[];
  readonly hasNot?: readonly string[];
  /** Nodes the upgraded graph must hold, by name (helpers the upgrade adds). */
  readonly nodes?: readonly string[];
  /** Attributes the upgraded node (named `node`) carries, as attribute name -> value. */
  readonly attributes?: Readonly<Record<string, string | number>>;
  /** Changes the builder cannot make (subgraph attributes). */
  readonly patch?: (proto: onnx.ModelProto) => void;
  /** Checks on the upgraded model beyond op types and attributes. */
  readonly check?: (model: OnnxModel) => void;
}

const f32 = (values: number[]) => new Float32Array(values);
const i64 = (values: (number | bigint)[]) => BigInt64Array.from(values.map((v) => BigInt(v)));

function upsample(opset: number, mode: string, scales: number[], dims = [1, 2, 3, 4]): (b: GraphBuilder) => void {
  return (b) => {
    const x = b.input('x', dims);
    const out = dims.map((d, i) => Math.floor(d * scales[i]));
    const inputs = opset >= 9 ? [x, b.constant(f32(scales), [scales.length])] : [x];
    const attrs: NonNullable<Parameters<GraphBuilder['node']>[2]> = { mode };
    if (opset < 9) attrs.scales = { floats: scales };
    b.output(b.node(opset >= 10 ? 'Resize' : 'Upsample', inputs, attrs, 1, out, 'node')[0]);
  };
}

const OPERATOR_CASES: OperatorCase[] = [
  { name: 'Upsample-7 nearest, scales attribute', opset: 7, build: upsample(7, 'nearest', [1, 1, 2, 3]), has: ['Resize'], hasNot: ['Upsample'], attributes: { coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } },
  { name: 'Upsample-7 nearest, fractional scales (where half_pixel would differ)', opset: 7, build: upsample(7, 'nearest', [1, 1, 1.3, 2.5], [1, 2, 9, 7]), has: ['Resize'], hasNot: ['Upsample'] },
  { name: 'Upsample-7 linear, scales attribute', opset: 7, build: upsample(7, 'linear', [1, 1, 2, 3]), has: ['Resize'], attributes: { coordinate_transformation_mode: 'asymmetric', mode: 'linear' } },
  { name: 'Upsample-9 nearest, scales input', opset: 9, build: upsample(9, 'nearest', [1, 1, 2, 2]), has: ['Resize'], hasNot: ['Upsample'], attributes: { nearest_mode: 'floor' } },
  { name: 'Upsample-9 linear, scales input', opset: 9, build: upsample(9, 'linear', [1, 1, 2.5, 1.5], [1, 2, 5, 7]), has: ['Resize'], hasNot: ['Upsample'] },
  { name: 'Resize-10 nearest, upsampling', opset: 10, build: upsample(10, 'nearest', [1, 1, 2, 2.5]), attributes: { nearest_mode: 'floor' } },
  { name: 'Resize-10 nearest, downsampling', opset: 10, build: upsample(10, 'nearest', [1, 1, 0.5, 0.6], [1, 2, 9, 11]), attributes: { nearest_mode: 'ceil' } },
  { name: 'Resize-10 nearest, one axis up and one down', opset: 10, build: upsample(10, 'nearest', [1, 1, 1.7, 0.6], [1, 2, 5, 11]), nodes: ['node/up'], attributes: { nearest_mode: 'ceil' } },
  { name: 'Resize-10 linear, upsampling', opset: 10, build: upsample(10, 'linear', [1, 1, 2, 1.5]), attributes: { coordinate_transformation_mode: 'asymmetric' } },
  { name: 'Resize-10 linear, downsampling', opset: 10, build: upsample(10, 'linear', [1, 1, 0.5, 0.75], [1, 2, 8, 10]) },
  {
    name: 'Slice-9 with axes (ends INT64_MAX and negative)', opset: 9, build: (b) => {
      const x = b.input('x', [2, 3, 5, 6]);
      b.output(b.node('Slice', [x], { starts: [1, -4], ends: [INT64_MAX, -1], axes: [2, 3] }, 1, [2, 3, 4, 3], 'node')[0]);
    }, attributes: {},
  },
  {
    name: 'Slice-9 without axes', opset: 9, build: (b) => {
      const x = b.input('x', [2, 3, 5]);
      b.output(b.node('Slice', [x], { starts: [1, 0, 2], ends: [2, 2, 1000] }, 1, [1, 2, 3], 'node')[0]);
    }, attributes: {},
  },
  {
    name: 'TopK-9 with attribute k', opset: 9, build: (b) => {
      const x = b.input('x', [2, 3, 7]);
      const [values, indices] = b.node('TopK', [x], { k: 3, axis: 2 }, 2, [2, 3, 3], 'node');
      b.output(values);
      b.output(indices, DataType.INT64);
    }, attributes: { axis: 2 },
  },
  ...[9, 10].flatMap((opset): OperatorCase[] => [
    {
      name: `Clip-${opset} with min and max`, opset, build: (b) => {
        const x = b.input('x', [2, 3, 4]);
        b.output(b.node('Clip', [x], { min: { float: -0.25 }, max: { float: 0.5 } }, 1, undefined, 'node')[0]);
      }, attributes: {},
    },
    {
      name: `Clip-${opset} with only max`, opset, build: (b) => {
        const x = b.input('x', [2, 3, 4]);
        b.output(b.node('Clip', [x], { max: { float: 0.1 } }, 1, undefined, 'node')[0]);
      }, attributes: {},
    },
  ]),
  {
    name: 'Pad-10 constant with value', opset: 10, build: (b) => {
      const x = b.input('x', [1, 2, 3, 4]);
      b.output(b.node('Pad', [x], { pads: [0, 0, 1, 2, 0, 0, 2, 1], value: { float: 1.5 } }, 1, [1, 2, 6, 7], 'node')[0]);
    }, attributes: {},
  },
  {
    name: 'Pad-10 reflect', opset: 10, build: (b) => {
      const x = b.input('x', [1, 2, 4, 5]);
      b.output(b.node('Pad', [x], { mode: 'reflect', pads: [0, 0, 1, 2, 0, 0, 2, 1] }, 1, [1, 2, 7, 8], 'node')[0]);
    }, attributes: { mode: 'reflect' },
  },
  {
    name: 'BatchNormalization-7 with spatial=1 (weights as IR-3 graph inputs)', opset: 7, weights: 'input-initializer', build: (b) => {
      const x = b.input('x', [2, 3, 4, 4]);
      const scale = b.weight([3], 1);
      const bias = b.weight([3], 1);
      const mean = b.weight([3], 0.5);
      const variance = b.constant(f32([0.5, 1.5, 2]), [3]);
      b.output(b.node('BatchNormalization', [x, scale, bias, mean, variance], { spatial: 1, epsilon: { float: 1e-3 } }, 1, undefined, 'node')[0]);
    }, attributes: {},
  },
  {
    name: 'Dropout-7 with ratio', opset: 7, build: (b) => {
      const x = b.input('x', [2, 5]);
      b.output(b.node('Relu', [b.node('Dropout', [x], { ratio: { float: 0.3 } }, 1, undefined, 'node')[0]])[0]);
    }, attributes: {},
  },
  {
    name: 'Softmax-9 at axis 1 on rank 4 (old 2-D coercion)', opset: 9, build: (b) => {
      const x = b.input('x', [2, 3, 4, 5]);
      b.output(b.node('Softmax', [x], { axis: 1 }, 1, undefined, 'node')[0]);
    }, has: ['Flatten', 'Reshape'],
  },
  {
    name: 'Softmax-9 at axis 1 on rank 2', opset: 9, build: (b) => {
      const x = b.input('x', [3, 7]);
      b.output(b.node('Softmax', [x], { axis: 1 }, 1, undefined, 'node')[0]);
    }, hasNot: ['Flatten'], attributes: { axis: -1 },
  },
  {
    name: 'LogSoftmax-9 on the last axis of a rank known only from the declared output', opset: 9, build: (b) => {
      const x = b.input('x', [2, 3, 6]);
      const [y] = b.node('Relu', [x]);
      b.output(b.node('LogSoftmax', [y], { axis: 2 }, 1, undefined, 'node')[0]);
    }, hasNot: ['Flatten'], attributes: { axis: -1 },
  },
  {
    name: 'Squeeze-9 and Unsqueeze-9 with attribute axes', opset: 9, build: (b) => {
      const x = b.input('x', [2, 1, 3, 1]);
      const [squeezed] = b.node('Squeeze', [x], { axes: [1, 3] }, 1, [2, 3], 'node');
      b.output(b.node('Unsqueeze', [squeezed], { axes: [0, 3] }, 1, [1, 2, 3, 1], 'unsqueeze')[0]);
    }, attributes: {},
  },
  {
    name: 'ReduceMean-9 with axes', opset: 9, build: (b) => {
      const x = b.input('x', [2, 3, 4, 5]);
      b.output(b.node('ReduceMean', [x], { axes: [1, 2], keepdims: 0 }, 1, [2, 5], 'node')[0]);
    }, attributes: { axes: '1,2' },
  },
  {
    name: 'Split-9 with split attribute', opset: 9, build: (b) => {
      const x = b.input('x', [2, 4, 3]);
      const [a, c] = b.node('Split', [x], { axis: 1, split: [1, 3] }, 2, [2, 1, 3], 'node');
      b.output(a);
      b.output(c);
    }, attributes: { axis: 1 },
  },
  ...[9, 10].map((opset): OperatorCase => ({
    name: `Scatter-${opset} to ScatterElements`, opset, build: (b) => {
      const x = b.input('x', [3, 4]);
      const updates = b.input('updates', [2, 4]);
      const indices = b.constant(i64([1, 0, 2, 1, 0, 2, 1, 0]), [2, 4]);
      b.output(b.node('Scatter', [x, indices, updates], { axis: 0 }, 1, undefined, 'node')[0]);
    }, has: ['ScatterElements'], hasNot: ['Scatter'], attributes: { axis: 0 },
  })),
  {
    name: 'If-9 with Clip-9 and Softmax-9 in its branches (rank from the outer graph)', opset: 9, build: (b) => {
      b.input('x', [3, 5]); // read by the branches
      const [yes] = b.node('Greater', [b.constant(f32([1]), [1]), b.constant(f32([0]), [1])], {}, 1, [1]);
      const [no] = b.node('Less', [b.constant(f32([1]), [1]), b.constant(f32([0]), [1])], {}, 1, [1]);
      for (const [cond, name] of [[yes, 'if_then'], [no, 'if_else']]) b.output(b.node('If', [cond], {}, 1, [3, 5], name)[0]);
    }, patch: (proto) => {
      const float = (name: string) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DataType.FLOAT } } });
      const attr = (name: string, f: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f });
      for (const node of proto.graph!.node.filter((n) => n.opType === 'If')) {
        const thenBranch = onnx.GraphProto.create({ name: 'then', node: [onnx.NodeProto.create({ opType: 'Clip', name: 'clip', input: ['x'], output: [`${node.name}_clipped`], attribute: [attr('min', -0.2), attr('max', 0.3)] })], output: [float(`${node.name}_clipped`)] });
        const elseBranch = onnx.GraphProto.create({ name: 'else', node: [onnx.NodeProto.create({ opType: 'Softmax', name: 'soft', input: ['x'], output: [`${node.name}_soft`], attribute: [onnx.AttributeProto.create({ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 })] })], output: [float(`${node.name}_soft`)] });
        node.attribute.push(onnx.AttributeProto.create({ name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: thenBranch }), onnx.AttributeProto.create({ name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: elseBranch }));
      }
    }, check: (model) => {
      const branches = model.proto.graph!.node.filter((n) => n.opType === 'If').flatMap((n) => n.attribute.map((a) => a.g!));
      const nodes = branches.flatMap((g) => g.node);
      expect(nodes.map((n) => n.opType).sort()).toEqual(['Clip', 'Clip', 'Softmax', 'Softmax']); // Softmax on the last axis of x: no Flatten
      for (const node of nodes) expect(node.attribute.map((a) => a.name)).toEqual(node.opType === 'Softmax' ? ['axis'] : []);
      const initializers = branches.flatMap((g) => g.initializer.map((t) => t.name));
      expect(new Set(initializers).size).toBe(4); // min and max of each Clip, under unique names
    },
  },
];

function attributeText(model: OnnxModel, node: string): Record<string, string | number> {
  const found = model.graph.nodes.find((n) => n.name === node);
  if (!found) throw new Error(`no node named ${node}; nodes: ${model.graph.nodes.map((n) => n.name).join(', ')}`);
  return Object.fromEntries(Object.entries(found.attributes).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v as string | number)]));
}

describe('operators of opsets 7 to 10 compute the same after the upgrade to opset 13', () => {
  it.each(OPERATOR_CASES)('$name', async (c) => {
    const b = new GraphBuilder({ opset: c.opset, seed: 3, weights: c.weights });
    c.build(b);
    const proto = b.toModel();
    c.patch?.(proto);
    const bytes = onnx.ModelProto.encode(proto).finish();
    const model = readOnnx(bytes, 'old.onnx');
    c.check?.(model);

    expect(model.opset).toBe(13);
    expect(model.graph.upgradedFrom).toBe(c.opset);
    expect(Number(model.proto.irVersion)).toBeGreaterThanOrEqual(7);
    const ops = model.graph.nodes.map((n) => n.opType);
    for (const op of c.has ?? []) expect(ops).toContain(op);
    for (const op of c.hasNot ?? []) expect(ops).not.toContain(op);
    for (const name of c.nodes ?? []) expect(model.graph.nodes.map((n) => n.name)).toContain(name);
    // every node keeps its name; the names stay unique
    const names = model.graph.nodes.map((n) => n.name);
    for (const node of proto.graph!.node) if (node.opType !== 'Constant') expect(names).toContain(node.name);
    expect(new Set(names).size).toBe(names.length);
    if (c.attributes) {
      const attributes = attributeText(model, 'node');
      expect(attributes).toMatchObject(c.attributes);
      // no attribute that moved to an input (or left) in opsets 9..13 is still there
      for (const gone of ['scales', 'starts', 'ends', 'k', 'min', 'max', 'pads', 'value', 'spatial', 'ratio', 'split']) expect(attributes).not.toHaveProperty(gone);
      if (c.name.startsWith('Squeeze')) expect(attributeText(model, 'unsqueeze')).not.toHaveProperty('axes');
    }
    await expectSameOutputs(c.name, bytes, model, feedsFor(proto, 11));
  });
});

describe('what cannot be converted is refused with a message naming the node', () => {
  it('BatchNormalization-7 with spatial=0', () => {
    const b = new GraphBuilder({ opset: 7, seed: 1 });
    const x = b.input('x', [2, 3, 4]);
    const weights = [b.weight([3, 4], 1), b.weight([3, 4], 1), b.weight([3, 4], 1), b.constant(f32(Array(12).fill(1)), [3, 4])];
    b.output(b.node('BatchNormalization', [x, ...weights], { spatial: 0 }, 1, undefined, 'bn_per_element')[0]);
    expect(() => readOnnx(b.toBytes(), 'bn.onnx')).toThrow(/^bn\.onnx: node "bn_per_element": BatchNormalization with spatial=0 .*cannot be converted/);
  });

  it('Scan-8 (batch-major, with sequence_lens)', () => {
    const b = new GraphBuilder({ opset: 8, seed: 1 });
    const x = b.input('x', [1, 4, 2]);
    const init = b.input('init', [1, 2]);
    const float2 = (name: string, dims?: number[]) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: dims ? { dim: dims.map((d) => ({ dimValue: d })) } : undefined } } });
    const body = onnx.GraphProto.create({
      name: 'body',
      node: [onnx.NodeProto.create({ opType: 'Add', input: ['s_in', 'x_t'], output: ['s_out'], name: 'body_add' }), onnx.NodeProto.create({ opType: 'Identity', input: ['s_out'], output: ['y_t'], name: 'body_id' })],
      input: [float2('s_in', [2]), float2('x_t', [2])],
      output: [float2('s_out', [2]), float2('y_t', [2])],
    });
    const [, y] = b.node('Scan', ['', init, x], { num_scan_inputs: 1 }, 2, [1, 4, 2], 'running_sum');
    b.output(y);
    const proto = b.toModel();
    proto.graph!.node.find((n) => n.name === 'running_sum')!.attribute.push(onnx.AttributeProto.create({ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body }));
    expect(() => readOnnx(onnx.ModelProto.encode(proto).finish(), 'scan.onnx')).toThrow(/^scan\.onnx: node "running_sum": Scan of opset 8 .*cannot be converted/);
  });

  it('a model of opset 6', () => {
    const b = new GraphBuilder({ opset: 6 });
    b.output(b.relu(b.input('x', [1, 4])));
    expect(() => readOnnx(b.toBytes(), 'six.onnx')).toThrow('six.onnx: the model uses ai.onnx opset 6; qbench reads opsets 7 to 23');
  });
});

/** ../shared/corpus beside the repository (CI lays it there). */
const CORPUS = join(fileURLToPath(new URL('../../../../', import.meta.url)), '..', 'shared', 'corpus', 'onnx-opset9');
const CORPUS_FILES = ['light_bvlc_alexnet', 'light_densenet121', 'light_inception_v1', 'light_inception_v2', 'light_resnet50', 'light_shufflenet', 'light_squeezenet', 'light_vgg19', 'light_zfnet512'];
const hasCorpus = existsSync(CORPUS);

/** One seeded random input of the given shape for the model's only graph input. */
async function checkRealModel(fileName: string, bytes: Uint8Array, dims: number[]): Promise<OnnxModel> {
  const model = readOnnx(bytes, fileName);
  expect(model.opset).toBe(13);
  expect(model.graph.upgradedFrom).toBe(9);
  expect(model.graph.inputs).toHaveLength(1);
  const random = seededRandom(17);
  const size = dims.reduce((a, b) => a * b, 1);
  const feeds: TensorMap = { [model.graph.inputs[0].name]: { dtype: 'float32', dims, data: Float32Array.from({ length: size }, () => random() * 2 - 1) } };
  await expectSameOutputs(fileName, bytes, model, feeds);
  return model;
}

describe('real opset-9 models compute the same after the upgrade to opset 13', () => {
  it.skipIf(!hasCorpus).each(CORPUS_FILES)('%s from ../shared/corpus/onnx-opset9 (skipped where the corpus is absent)', async (name) => {
    await checkRealModel(`${name}.onnx`, new Uint8Array(readFileSync(join(CORPUS, `${name}.onnx`))), [1, 3, 224, 224]);
  });

  it('PP-OCRv4 recognizer (Constant weights, Slice/Clip/Squeeze/ReduceMean attribute forms) at [1,3,48,160]', async () => {
    const model = await checkRealModel('ch_PP-OCRv4_rec_infer.onnx', REAL_MODELS.ppocrRec(), [1, 3, 48, 160]);
    const attributes = model.graph.nodes.filter((n) => ['Slice', 'Clip', 'Squeeze'].includes(n.opType)).flatMap((n) => Object.keys(n.attributes));
    expect(attributes).toEqual([]);
  });

  it('PP-OCR direction classifier at [1,3,48,192]', async () => {
    await checkRealModel('ch_ppocr_mobile_v2.0_cls_infer.onnx', REAL_MODELS.ppocrCls(), [1, 3, 48, 192]);
  });
});
