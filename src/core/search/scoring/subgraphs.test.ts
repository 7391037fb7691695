import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../../cli/ortNodeEngine';
import { GraphBuilder, randomSamples } from '../../../../test/support/GraphBuilder';
import { modelOf, runModel } from '../../../../test/support/runModel';
import type { Engine, Session, ValueInfo } from '../../engine/Engine';
import type { OnnxModel } from '../../io/onnx/OnnxModel';
import { AttributeType, DataType, onnx } from '../../io/onnx/protobuf';
import type { TensorMap } from '../../model/tensor';
import { exposeAllTensors, inferTensorTypes } from '../../engine/tensorTypes';
import { descendantCone, prefixModel, subModel, typedValueInfo, type Cone } from './subgraphs';

/**
 * x -> conv1 -> relu1 (r1) -> conv2 -> relu2 (r2) -> add(r2, r1) -> conv3      -> out1
 *                        r1 -> conv4 -> reshape(conv4, shape(r1))              -> out2 (shape is int64)
 * flag -> if: then Neg(r2), else Identity(r2) (r2 read only inside the bodies,
 *         each through a tensor local to the body)                                     -> out3
 */
function coneModel(): OnnxModel {
  const b = new GraphBuilder({ seed: 17 });
  const x = b.input('x', [1, 2, 4, 4]);
  const r1 = b.node('Relu', [b.conv(x, 2, 3, { name: 'conv1' })], {}, 1, undefined, 'relu1')[0];
  const r2 = b.node('Relu', [b.conv(r1, 2, 3, { name: 'conv2' })], {}, 1, undefined, 'relu2')[0];
  const add = b.node('Add', [r2, r1], {}, 1, undefined, 'add')[0];
  b.output(b.conv(add, 2, 3, { name: 'conv3' }));
  const c4 = b.conv(r1, 2, 1, { name: 'conv4' });
  const s = b.node('Shape', [r1], {}, 1, [4], 'shape')[0];
  b.output(b.node('Reshape', [c4, s], {}, 1, [1, 2, 4, 4], 'reshape')[0]);
  const proto = b.toModel();
  const graph = proto.graph!;
  const floatInfo = (name: string) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [1, 2, 4, 4].map((d) => ({ dimValue: d })) } } } });
  // each body: opType(r2) -> a tensor local to the body -> Identity -> the body's output
  const body = (opType: string, out: string) => onnx.GraphProto.create({
    name: `${out}_body`,
    node: [
      onnx.NodeProto.create({ opType, input: [r2], output: [`${out}_local`], name: `${out}_node` }),
      onnx.NodeProto.create({ opType: 'Identity', input: [`${out}_local`], output: [out], name: `${out}_identity` }),
    ],
    output: [floatInfo(out)],
  });
  graph.input.push(onnx.ValueInfoProto.create({ name: 'flag', type: { tensorType: { elemType: DataType.BOOL, shape: { dim: [] } } } }));
  graph.node.push(onnx.NodeProto.create({
    opType: 'If', name: 'if', input: ['flag'], output: ['out3'],
    attribute: [
      { name: 'then_branch', type: AttributeType.GRAPH, g: body('Neg', 'then_out') },
      { name: 'else_branch', type: AttributeType.GRAPH, g: body('Identity', 'else_out') },
    ],
  }));
  graph.output.push(floatInfo('out3'));
  return modelOf(onnx.ModelProto.encode(proto).finish());
}

const tensorOf = (model: OnnxModel, node: string, k = 0) => model.graph.nodes.find((n) => n.name === node)!.outputs[k];

describe('descendantCone', () => {
  const model = coneModel();
  const [r1, c2, r2, add, c4, s] = [tensorOf(model, 'relu1'), tensorOf(model, 'conv2'), tensorOf(model, 'relu2'), tensorOf(model, 'add'), tensorOf(model, 'conv4'), tensorOf(model, 'shape')];
  const [out1, out2] = model.graph.outputs.map((o) => o.name);
  const sorted = (cone: Cone) => ({ nodes: [...cone.nodes].sort(), boundary: cone.boundary, outputs: cone.outputs });

  it('the model is in the order the cones below assume', () => {
    expect(model.graph.nodes.filter((n) => !n.scope).map((n) => n.name)).toEqual(['conv1', 'relu1', 'conv2', 'relu2', 'add', 'conv3', 'conv4', 'shape', 'reshape', 'if']);
    // the If's branches are layers too, listed after the main graph with their scope
    expect(model.graph.nodes.filter((n) => n.scope).map((n) => `${n.scope}:${n.name}`)).toEqual(['if/then_branch:then_out_node', 'if/then_branch:then_out_identity', 'if/else_branch:else_out_node', 'if/else_branch:else_out_identity']);
    expect(model.graph.outputs.map((o) => o.name)).toEqual([tensorOf(model, 'conv3'), tensorOf(model, 'reshape'), 'out3']);
  });

  it('conv2: its descendants, the If that reads relu2 only inside its bodies; fed by relu1 and the flag', () => {
    expect(sorted(descendantCone(model, ['conv2']))).toEqual({
      nodes: ['add', 'conv2', 'conv3', 'if', 'relu2'],
      boundary: [r1, 'flag'],
      outputs: [out1, 'out3'],
    });
  });

  it('the first layer: the whole graph, fed by the graph inputs, computing every output', () => {
    expect(sorted(descendantCone(model, ['conv1']))).toEqual({
      nodes: ['add', 'conv1', 'conv2', 'conv3', 'conv4', 'if', 'relu1', 'relu2', 'reshape', 'shape'],
      boundary: ['x', 'flag'],
      outputs: [out1, out2, 'out3'],
    });
  });

  it('conv4: an int64 tensor computed outside (the shape) crosses the boundary too; weights never do', () => {
    const cone = descendantCone(model, ['conv4']);
    expect(sorted(cone)).toEqual({ nodes: ['conv4', 'reshape'], boundary: [r1, s], outputs: [out2] });
    const weights = model.graph.nodes.find((n) => n.name === 'conv4')!.inputs.slice(1);
    expect(weights.every((w) => model.isInitializer(w))).toBe(true);
    expect(cone.boundary.some((t) => weights.includes(t))).toBe(false);
  });

  it('a seed in the middle of a chain: every input it and its descendants read from outside, in graph order, once', () => {
    expect(sorted(descendantCone(model, ['relu2']))).toEqual({ nodes: ['add', 'conv3', 'if', 'relu2'], boundary: [c2, r1, 'flag'], outputs: [out1, 'out3'] });
  });

  it('several seeds: the union of their cones', () => {
    expect(sorted(descendantCone(model, ['add', 'conv4']))).toEqual({ nodes: ['add', 'conv3', 'conv4', 'reshape'], boundary: [r2, r1, s], outputs: [out1, out2] });
  });

  it('a tensor computed inside the cone is never in its boundary', () => {
    const cone = descendantCone(model, ['conv2']);
    expect(cone.boundary).not.toContain(c2);
    expect(cone.boundary).not.toContain(r2);
    expect(cone.boundary).not.toContain(add);
    expect(cone.boundary).not.toContain(c4);
  });
});

describe('subModel and prefixModel run on onnxruntime-node and reproduce the full model', () => {
  const engine: Engine = ortNodeEngine(1);
  const model = coneModel();
  const samples: TensorMap[] = randomSamples('x', [1, 2, 4, 4], 2, 23).map((sample, i) => ({
    ...sample,
    flag: { dtype: 'bool', dims: [], data: Uint8Array.from([i % 2]) },
  }));
  let types: Map<string, ValueInfo>;
  /** Every tensor of the full float model, per sample. */
  let all: TensorMap[];

  beforeAll(async () => {
    types = await inferTensorTypes(model, engine);
    const session: Session = await engine.createSession(onnx.ModelProto.encode(exposeAllTensors(model.proto)).finish());
    try {
      all = [];
      for (const sample of samples) all.push({ ...sample, ...(await session.run(sample)) });
    } finally {
      await session.dispose();
    }
  });

  afterAll(() => {
    all = [];
  });

  const feed = (names: readonly string[], s: number): TensorMap => Object.fromEntries(names.map((n) => [n, all[s][n]]));

  function expectSame(results: readonly TensorMap[], names: readonly string[]): void {
    results.forEach((result, s) => {
      expect(Object.keys(result).sort()).toEqual([...names].sort());
      for (const name of names) {
        expect(result[name].dims, name).toEqual(all[s][name].dims);
        expect(Array.from(result[name].data as ArrayLike<number>), name).toEqual(Array.from(all[s][name].data as ArrayLike<number>));
      }
    });
  }

  it('the two samples take both branches of the If (the comparisons below mean something)', () => {
    const r2 = tensorOf(model, 'relu2');
    expect(Array.from(all[0].out3.data as Float32Array)).toEqual(Array.from(all[0][r2].data as Float32Array));
    expect(Array.from(all[1].out3.data as Float32Array)).toEqual(Array.from(all[1][r2].data as Float32Array, (v) => -v));
  });

  for (const seeds of [['conv2'], ['conv4'], ['relu2'], ['add', 'conv4'], ['conv1']]) {
    it(`the cone of ${seeds.join(' + ')}, fed with float activations, gives the full model's outputs`, async () => {
      const cone = descendantCone(model, seeds);
      const part = subModel(model, cone.nodes, cone.boundary, cone.outputs, types);
      expect(part.graph.inputs.map((i) => i.name)).toEqual(cone.boundary);
      expect(part.graph.outputs.map((o) => o.name)).toEqual(cone.outputs);
      const main = (nodes: typeof model.graph.nodes) => nodes.filter((n) => !n.scope).map((n) => n.name);
      expect(main(part.graph.nodes)).toEqual(main(model.graph.nodes).filter((n) => cone.nodes.has(n)));
      expectSame(await runModel(engine, part, samples.map((_, s) => feed(cone.boundary, s))), cone.outputs);
    });
  }

  it('a sub-model types the inputs it takes from inside the graph with the inferred types (float32 and int64)', () => {
    const cone = descendantCone(model, ['conv4']);
    const part = subModel(model, cone.nodes, cone.boundary, cone.outputs, types);
    expect(part.graph.inputs.map((i) => [i.name, i.dtype, i.dims])).toEqual([
      [tensorOf(model, 'relu1'), 'float32', [1, 2, 4, 4]],
      [tensorOf(model, 'shape'), 'int64', [4]],
    ]);
  });

  it('a sub-model can compute inner tensors too, and shares (not copies) only the initializers its nodes read', async () => {
    const cone = descendantCone(model, ['conv2']);
    const inner = [tensorOf(model, 'conv2'), tensorOf(model, 'add')];
    const part = subModel(model, cone.nodes, cone.boundary, [...inner, ...cone.outputs], types);
    expectSame(await runModel(engine, part, samples.map((_, s) => feed(cone.boundary, s))), [...inner, ...cone.outputs]);
    const read = new Set(model.graph.nodes.filter((n) => cone.nodes.has(n.name)).flatMap((n) => n.inputs).filter((t) => model.isInitializer(t)));
    const initializers = part.proto.graph!.initializer;
    expect(initializers.map((t) => t.name).sort()).toEqual([...read].sort());
    for (const t of initializers) expect(t).toBe(model.initializerProto(t.name));
  });

  it('prefixModel keeps only what computes the tensors asked for, from the graph inputs it needs', async () => {
    const [r2, s] = [tensorOf(model, 'relu2'), tensorOf(model, 'shape')];
    const prefix = prefixModel(model, [r2, s]);
    expect(prefix.graph.nodes.map((n) => n.name)).toEqual(['conv1', 'relu1', 'conv2', 'relu2', 'shape']);
    expect(prefix.graph.inputs.map((i) => i.name)).toEqual(['x']);
    expect(prefix.graph.outputs.map((o) => o.name)).toEqual([r2, s]);
    expectSame(await runModel(engine, prefix, samples.map((_, i) => feed(['x'], i))), [r2, s]);

    const out2 = tensorOf(model, 'reshape');
    expect(prefixModel(model, [out2]).graph.nodes.map((n) => n.name)).toEqual(['conv1', 'relu1', 'conv4', 'shape', 'reshape']);
  });

  it('prefixModel follows the names an If body reads from the outer graph, and its inputs', async () => {
    const prefix = prefixModel(model, ['out3']);
    expect(prefix.graph.nodes.filter((n) => !n.scope).map((n) => n.name)).toEqual(['conv1', 'relu1', 'conv2', 'relu2', 'if']);
    expect(prefix.graph.inputs.map((i) => i.name)).toEqual(['x', 'flag']);
    expectSame(await runModel(engine, prefix, samples.map((_, i) => feed(['x', 'flag'], i))), ['out3']);
  });
});

describe('typedValueInfo', () => {
  /** What a reader sees after a round trip through the protobuf encoding. */
  const decoded = (info: onnx.ValueInfoProto) => {
    const v = onnx.ValueInfoProto.decode(onnx.ValueInfoProto.encode(info).finish());
    const tensorType = v.type?.tensorType;
    return {
      name: v.name,
      elemType: tensorType?.elemType ?? null,
      dims: tensorType?.shape ? tensorType.shape.dim.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue))) : null,
    };
  };

  it('element type and shape; an unknown dimension gets a name of its own', () => {
    expect(decoded(typedValueInfo('t', { name: 't', dtype: 'float32', dims: [null, 3] }))).toEqual({ name: 't', elemType: DataType.FLOAT, dims: ['t_dim0', 3] });
    expect(decoded(typedValueInfo('i', { name: 'i', dtype: 'int64', dims: null }))).toEqual({ name: 'i', elemType: DataType.INT64, dims: null });
  });

  it('no type, or a type qbench does not know: the name only', () => {
    expect(decoded(typedValueInfo('u', undefined))).toEqual({ name: 'u', elemType: null, dims: null });
    expect(decoded(typedValueInfo('o', { name: 'o', dtype: 'other', dims: [2] }))).toEqual({ name: 'o', elemType: null, dims: null });
  });
});
