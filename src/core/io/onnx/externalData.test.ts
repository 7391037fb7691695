import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../../cli/ortNodeEngine';
import { externalDataModel, makeExternal, unreadableFile, wasRead, type ExternalPlace } from '../../../../test/support/externalData';
import { GraphBuilder } from '../../../../test/support/GraphBuilder';
import { Workbench } from '../../Workbench';
import { externalTensors } from './externalData';
import { readOnnx } from './OnnxModel';
import { AttributeType, DataType, onnx } from './protobuf';

const SECRET = 'secrets/token.bin';
const WHAT_TO_DO = 'qbench reads weights only from inside the .onnx file and never opens a file it was not given. Save the model with its weights inside (onnx.save(model, path, save_as_external_data=False)) and open that file.';

const externalTensor = (name: string, location = SECRET) => {
  const t = onnx.TensorProto.create({ name, dims: [2], dataType: DataType.FLOAT, rawData: new Uint8Array(8) });
  makeExternal(t, location);
  return t;
};

describe('externalTensors: every place a tensor can sit', () => {
  it('finds the tensor of an If branch initializer, an If branch Constant and a main-graph Constant, each with where it is', () => {
    expect(externalTensors(onnx.ModelProto.decode(externalDataModel(['if-initializer', 'main-constant'], SECRET)))).toEqual([
      { tensor: 'w_0', location: SECRET, where: 'an initializer in the_if/then_branch' },
      { tensor: 'bias', location: SECRET, where: 'attribute "value" of Constant node "bias_const" in the main graph' },
    ]);
    expect(externalTensors(onnx.ModelProto.decode(externalDataModel(['if-constant'], SECRET)))).toEqual([
      { tensor: 'w_0', location: SECRET, where: 'attribute "value" of Constant node "w_0_const" in the_if/then_branch' },
    ]);
    expect(externalTensors(onnx.ModelProto.decode(externalDataModel([], SECRET)))).toEqual([]);
  });

  it('sparse initializers, sparse and list attributes, a Loop body inside an If branch, functions and training graphs', () => {
    const b = new GraphBuilder();
    b.output(b.relu(b.input('x', [2])));
    const model = b.toModel();
    const loopBody = onnx.GraphProto.create({
      name: 'body',
      sparseInitializer: [onnx.SparseTensorProto.create({ values: externalTensor('sparse_w'), indices: onnx.TensorProto.create({ name: 'i', dims: [2], dataType: DataType.INT64, int64Data: [0, 1] }), dims: [4] })],
      node: [onnx.NodeProto.create({ opType: 'Constant', output: ['s'], attribute: [{ name: 'sparse_value', type: AttributeType.SPARSE_TENSOR, sparseTensor: { values: externalTensor(''), indices: onnx.TensorProto.create({ dims: [2], dataType: DataType.INT64, int64Data: [0, 1] }), dims: [4] } }] })],
    });
    const branch = onnx.GraphProto.create({ name: 'then', node: [onnx.NodeProto.create({ opType: 'Loop', name: 'the_loop', attribute: [{ name: 'body', type: AttributeType.GRAPH, g: loopBody }] })] });
    model.graph!.node.push(
      onnx.NodeProto.create({ opType: 'If', name: 'the_if', attribute: [{ name: 'then_branch', type: AttributeType.GRAPH, g: branch }] }),
      onnx.NodeProto.create({ opType: 'Custom', domain: 'x.y', name: 'listed', attribute: [{ name: 'tables', type: AttributeType.TENSORS, tensors: [externalTensor('table_0')] }] }),
    );
    model.functions = [onnx.FunctionProto.create({ name: 'f', node: [onnx.NodeProto.create({ opType: 'Constant', output: ['k'], attribute: [{ name: 'value', type: AttributeType.TENSOR, t: externalTensor('k') }] })] })];
    model.trainingInfo = [onnx.TrainingInfoProto.create({ initialization: onnx.GraphProto.create({ initializer: [externalTensor('init_w', '/etc/passwd')] }) })];
    expect(externalTensors(onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish()))).toEqual([
      { tensor: 'sparse_w', location: SECRET, where: 'a sparse initializer in the_if/then_branch/the_loop/body' },
      { tensor: 's', location: SECRET, where: 'attribute "sparse_value" of Constant node "s" in the_if/then_branch/the_loop/body' },
      { tensor: 'table_0', location: SECRET, where: 'attribute "tables" of Custom node "listed" in the main graph' },
      { tensor: 'k', location: SECRET, where: 'attribute "value" of Constant node "k" in function "f"' },
      { tensor: 'init_w', location: '/etc/passwd', where: 'an initializer in training_info[0].initialization' },
    ]);
    expect(() => readOnnx(onnx.ModelProto.encode(model).finish(), 'many.onnx')).toThrow(`many.onnx: tensor "sparse_w" (a sparse initializer in the_if/then_branch/the_loop/body) keeps its data in an external file (secrets/token.bin) (and 4 more tensors); ${WHAT_TO_DO}`);
  });
});

describe('a model with external data is refused before any engine sees it (issue #12)', () => {
  const engine = ortNodeEngine(1);
  const home = process.cwd();
  afterEach(() => process.chdir(home));

  const cases: [ExternalPlace, string][] = [
    ['if-initializer', 'tensor "w_0" (an initializer in the_if/then_branch)'],
    ['if-constant', 'tensor "w_0" (attribute "value" of Constant node "w_0_const" in the_if/then_branch)'],
    ['main-constant', 'tensor "bias" (attribute "value" of Constant node "bias_const" in the main graph)'],
  ];

  it.each(cases)('%s: run from the folder that holds the named file, the open is refused and the file is never read', async (place, tensor) => {
    const dir = mkdtempSync(join(tmpdir(), 'qbench-external-'));
    const secret = unreadableFile(dir, SECRET);
    const bytes = externalDataModel([place], SECRET);
    process.chdir(dir);
    await expect(Workbench.open(engine, bytes, 'branchy.onnx')).rejects.toThrow(`branchy.onnx: ${tensor} keeps its data in an external file (secrets/token.bin); ${WHAT_TO_DO}`);
    expect(wasRead(secret)).toBe(false);
    // The model is a real threat: given the same bytes in the same folder, onnxruntime alone goes for the file
    // (it reads it as root, whom mode 000 does not stop, and fails on the permission otherwise). Without
    // graph optimizations, as qbench runs body probes: with them, a main-graph Constant stops it earlier.
    const alone = await engine.createSession(bytes, { graphOptimization: 'disabled' }).then((session) => session.dispose().then(() => 'loaded'), (error: Error) => error.message);
    expect(wasRead(secret) || /token\.bin/.test(alone)).toBe(true);
  });
});
