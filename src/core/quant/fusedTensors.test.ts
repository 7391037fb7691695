import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../test/support/GraphBuilder';
import { readOnnx } from '../io/onnx/OnnxModel';
import type { Precision } from '../model/QTable';
import { fusedTensors, quantizerAbsence } from './fusedTensors';

function convRelu() {
  const b = new GraphBuilder({ seed: 2 });
  const x = b.input('x', [1, 3, 6, 6]);
  const conv = b.conv(x, 4, 3, { name: 'conv' });
  const relu = b.relu(conv);
  b.output(b.conv(relu, 2, 1, { name: 'head' }));
  const graph = readOnnx(b.toBytes(), 'm.onnx').graph;
  const reluName = graph.nodes.find((n) => n.opType === 'Relu')!.name;
  const precisions = (conv: Precision, relu: Precision) => new Map<string, Precision>([['conv', conv], [reluName, relu], ['head', 'INT8']]);
  return { graph, tensor: graph.nodes.find((n) => n.name === 'conv')!.outputs[0], reluName, precisions };
}

describe('tensors with no quantizer', () => {
  it('a Conv output read only by its Relu at the same integer precision is fused: no quantizer, and the inspector can name the Relu', () => {
    const { graph, tensor, reluName, precisions } = convRelu();
    expect(fusedTensors(graph, precisions('INT8', 'INT8')).has(tensor)).toBe(true);
    expect(quantizerAbsence(graph, tensor, precisions('INT8', 'INT8'))).toEqual({ fusedInto: expect.objectContaining({ name: reluName }) });
    expect(quantizerAbsence(graph, tensor, precisions('INT8', 'INT16'))).toBeUndefined();
    expect(quantizerAbsence(graph, tensor, precisions('FP32', 'INT8'))).toBeUndefined(); // the Relu quantizes its input
  });

  it('made and read by float layers only: no quantizer either', () => {
    const { graph, tensor, precisions } = convRelu();
    expect(quantizerAbsence(graph, tensor, precisions('FP32', 'FP16'))).toEqual({ float: true });
  });
});
