import { beforeAll, describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../cli/ortNodeEngine';
import { GraphBuilder } from '../../../test/support/GraphBuilder';
import { modelOf } from '../../../test/support/runModel';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { inferTensorTypes } from '../engine/tensorTypes';
import { describeLayers, type LayerInfo } from './layerInfo';
import { weightBytes } from './modelSize';
import { ALL_INT8, type Precision, type QTable } from '../model/QTable';
import { TARGET_SCHEMES } from './schemes';

/**
 * x[1,2,4,4] -> conv (W 3x2x3x3 = 54, bias 3) -> relu -> GAP -> flatten -> gemm (W 4x3 = 12, bias 4)
 *   -> m1 = MatMul(gemm, S) -> m2 = MatMul(m1, S)      S 4x4 = 16, shared by m1 and m2
 *   -> reshape(m2, shape int64 [2] = [2, 2])            2 int64 = 16 bytes whatever the precision
 *   -> add(reshape, identity(C))                       C 2x2 = 4 floats read by Identity (never quantized)
 */
function sizeModel(): OnnxModel {
  const b = new GraphBuilder({ seed: 5 });
  const x = b.input('x', [1, 2, 4, 4]);
  const conv = b.node('Conv', [x, b.weight([3, 2, 3, 3], 0.3, 'conv_w'), b.weight([3], 0.1, 'conv_b')], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 1, [1, 3, 4, 4], 'conv')[0];
  const relu = b.node('Relu', [conv], {}, 1, undefined, 'relu')[0];
  const gap = b.node('GlobalAveragePool', [relu], {}, 1, [1, 3, 1, 1], 'gap')[0];
  const flat = b.node('Flatten', [gap], { axis: 1 }, 1, [1, 3], 'flatten')[0];
  const gemm = b.node('Gemm', [flat, b.weight([4, 3], 0.5, 'gemm_w'), b.weight([4], 0.1, 'gemm_b')], { transB: 1 }, 1, [1, 4], 'gemm')[0];
  const shared = b.weight([4, 4], 0.5, 'shared_w');
  const m1 = b.node('MatMul', [gemm, shared], {}, 1, [1, 4], 'm1')[0];
  const m2 = b.node('MatMul', [m1, shared], {}, 1, [1, 4], 'm2')[0];
  const reshape = b.node('Reshape', [m2, b.constant(BigInt64Array.from([2n, 2n]), [2], 'shape')], {}, 1, [2, 2], 'reshape')[0];
  const identity = b.node('Identity', [b.weight([2, 2], 1, 'c')], {}, 1, [2, 2], 'identity')[0];
  b.output(b.node('Add', [reshape, identity], {}, 1, [2, 2], 'add')[0]);
  return modelOf(b.toBytes());
}

const table = (defaultPrecision: Precision, layers: Record<string, Precision> = {}): QTable => ({ defaultPrecision, layers: new Map(Object.entries(layers)) });

describe('weightBytes', () => {
  let model: OnnxModel;
  let layers: Map<string, LayerInfo>;
  const ortQdq = TARGET_SCHEMES['ort-qdq'];

  beforeAll(async () => {
    model = sizeModel();
    layers = describeLayers(model.graph, await inferTensorTypes(model, ortNodeEngine(1)));
  });

  it('the model is what the byte counts below assume', () => {
    expect(layers.get('identity')?.quantizable).toBe(false);
    expect(['conv', 'gemm', 'm1', 'm2', 'reshape', 'add'].every((l) => layers.get(l)?.quantizable)).toBe(true);
    expect(model.graph.weights.map((w) => w.name).sort()).toEqual(['c', 'conv_b', 'conv_w', 'gemm_b', 'gemm_w', 'shape', 'shared_w']);
  });

  it('all INT8: weights 1 byte, biases int32, the int64 shape and the Identity constant as stored', () => {
    // conv_w 54*1 + conv_b 3*4 + gemm_w 12*1 + gemm_b 4*4 + shared_w 16*1 + shape 2*8 + c 4*4
    expect(weightBytes(model, layers, ALL_INT8, ortQdq)).toBe(54 + 12 + 12 + 16 + 16 + 16 + 16);
  });

  it('all FP32: every float 4 bytes, the shared weight once', () => {
    // (54 + 3 + 12 + 4 + 16) * 4 + 16 + 16
    expect(weightBytes(model, layers, table('FP32'), ortQdq)).toBe(89 * 4 + 16 + 16);
  });

  it('FP16 on the Conv only: its weight and bias take 2 bytes each, the rest stays INT8', () => {
    // conv_w 54*2 + conv_b 3*2, rest as all INT8
    expect(weightBytes(model, layers, table('INT8', { conv: 'FP16' }), ortQdq)).toBe(108 + 6 + 12 + 16 + 16 + 16 + 16);
  });

  it('a weight shared by two layers is counted once, at the wider of their precisions', () => {
    const int8 = 54 + 12 + 12 + 16 + 16 + 16; // everything but shared_w under all INT8
    expect(weightBytes(model, layers, table('INT8', { m1: 'FP16' }), ortQdq)).toBe(int8 + 16 * 2);
    expect(weightBytes(model, layers, table('INT8', { m2: 'FP16' }), ortQdq)).toBe(int8 + 16 * 2);
    expect(weightBytes(model, layers, table('INT8', { m1: 'FP16', m2: 'FP32' }), ortQdq)).toBe(int8 + 16 * 4);
    expect(weightBytes(model, layers, table('INT8', { m1: 'INT4' }), ortQdq)).toBe(int8 + 16 * 1);
  });

  it('all INT16: weights 2 bytes, biases 4', () => {
    // conv_w 108 + conv_b 12 + gemm_w 24 + gemm_b 16 + shared_w 32 + shape 16 + c 16
    expect(weightBytes(model, layers, table('INT16'), ortQdq)).toBe(108 + 12 + 24 + 16 + 32 + 16 + 16);
  });

  it('all INT4: weights half a byte, biases int32', () => {
    // conv_w 27 + conv_b 12 + gemm_w 6 + gemm_b 16 + shared_w 8 + shape 16 + c 16
    expect(weightBytes(model, layers, table('INT4'), ortQdq)).toBe(27 + 12 + 6 + 16 + 8 + 16 + 16);
  });

  it('all FP16: floats 2 bytes except the constant of the never-quantized Identity', () => {
    // (54 + 3 + 12 + 4 + 16) * 2 + shape 16 + c 4*4
    expect(weightBytes(model, layers, table('FP16'), ortQdq)).toBe(89 * 2 + 16 + 16);
  });

  it('a precision set on a non-quantizable layer changes nothing', () => {
    expect(weightBytes(model, layers, table('INT8', { identity: 'FP16' }), ortQdq)).toBe(weightBytes(model, layers, ALL_INT8, ortQdq));
  });
});
