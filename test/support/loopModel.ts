import { onnx } from '../../src/core/io/onnx/protobuf';
import { GraphBuilder } from './GraphBuilder';

const AttributeType = onnx.AttributeProto.AttributeType;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const info = (name: string, elemType: number, dims: number[]) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });

/**
 * x [1, 4] -> Loop(trips) { h -> Relu -> h } -> y: a Loop whose trip count is a constant of the
 * file (`computed`: an Add of two constants, which nothing can read before running it). With
 * 2^40 trips, one inference never ends (issue #12).
 */
export function loopModel(trips: bigint, { computed = false }: { computed?: boolean } = {}): Uint8Array {
  const main = new GraphBuilder({ seed: 3, opset: 13 });
  main.input('x', [1, 4]);
  let count = main.constant(new BigInt64Array([computed ? trips - 1n : trips]), []);
  if (computed) count = main.node('Add', [count, main.constant(new BigInt64Array([1n]), [])], {}, 1, [], 'trip_count')[0];
  const model = main.toModel();
  const body = onnx.GraphProto.create({
    name: 'body',
    node: [
      onnx.NodeProto.create({ name: 'keep_going', opType: 'Identity', input: ['cond_in'], output: ['cond_out'] }),
      onnx.NodeProto.create({ name: 'step', opType: 'Relu', input: ['h_in'], output: ['h_out'] }),
    ],
    input: [info('iter', onnx.TensorProto.DataType.INT64, []), info('cond_in', onnx.TensorProto.DataType.BOOL, []), info('h_in', FLOAT, [1, 4])],
    output: [info('cond_out', onnx.TensorProto.DataType.BOOL, []), info('h_out', FLOAT, [1, 4])],
  });
  model.graph!.node.push(onnx.NodeProto.create({ name: 'the_loop', opType: 'Loop', input: [count, '', 'x'], output: ['y'], attribute: [{ name: 'body', type: AttributeType.GRAPH, g: body }] }));
  model.graph!.output = [info('y', FLOAT, [1, 4])];
  return onnx.ModelProto.encode(model).finish();
}

/**
 * A Loop of 3 iterations whose body carries h: h -> Conv -> Relu -> Add(h) -> h, and also reads x
 * from the main graph; then a Conv after the Loop.
 */
export function convLoopModel(): Uint8Array {
  const main = new GraphBuilder({ seed: 3, opset: 13 });
  const x = main.input('x', [1, 4, 6, 6]);
  const trips = main.constant(new BigInt64Array([3n]), []);
  const model = main.toModel();
  const f = onnx.TensorProto.DataType.FLOAT;
  const info = (name: string, elemType: number, dims: number[]) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const b = new GraphBuilder({ seed: 8, opset: 13 });
  b.input('h_in', [1, 4, 6, 6]);
  const r = b.node('Relu', [b.conv('h_in', 4, 3, { name: 'body_conv' })], {}, 1, undefined, 'body_relu')[0];
  const mixed = b.node('Add', [r, x], {}, 1, undefined, 'body_add')[0];
  const bodyProto = b.toModel();
  const condOut = onnx.NodeProto.create({ name: 'body_cond', opType: 'Identity', input: ['cond_in'], output: ['cond_out'] });
  const body = onnx.GraphProto.create({
    name: 'loop_body',
    node: [...bodyProto.graph!.node, condOut],
    initializer: bodyProto.graph!.initializer,
    input: [info('iter', onnx.TensorProto.DataType.INT64, []), info('cond_in', onnx.TensorProto.DataType.BOOL, []), info('h_in', f, [1, 4, 6, 6])],
    output: [info('cond_out', onnx.TensorProto.DataType.BOOL, []), info(mixed, f, [1, 4, 6, 6])],
  });
  model.graph!.node.push(onnx.NodeProto.create({ name: 'the_loop', opType: 'Loop', input: [trips, '', x], output: ['h_final'], attribute: [{ name: 'body', type: onnx.AttributeProto.AttributeType.GRAPH, g: body }] }));
  model.graph!.node.push(onnx.NodeProto.create({ name: 'after_conv', opType: 'Conv', input: ['h_final', 'after_w'], output: ['y'], attribute: [{ name: 'pads', type: AttributeType.INTS, ints: [1, 1, 1, 1] }] }));
  model.graph!.initializer.push(onnx.TensorProto.create({ name: 'after_w', dims: [2, 4, 3, 3], dataType: f, floatData: Array.from({ length: 72 }, (_, i) => Math.cos(i) * 0.3) }));
  model.graph!.output = [info('y', f, [1, 2, 6, 6])];
  return onnx.ModelProto.encode(model).finish();
}
