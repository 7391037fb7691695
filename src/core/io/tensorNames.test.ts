import { describe, expect, it } from 'vitest';
import type { GraphNode } from '../model/ModelGraph';
import { layerResolver, tensorResolver, tpuMlirOpName } from './tensorNames';

const node = (name: string, opType: string, inputs: string[], outputs: string[]): GraphNode => ({ name, opType, domain: '', inputs, outputs, attributes: {} });
const nodes = [node('Conv_0', 'Conv', ['images', 'w'], ['input.4']), node('input.8_Relu', 'Relu', ['input.4'], ['input.8']), node('split', 'Split', ['input.8'], ['a', 'b'])];

describe('names other toolchains use for qbench tensors and layers', () => {
  it("TPU-MLIR's op name is <tensor>_<OpType>", () => {
    expect(tpuMlirOpName('input.4', 'Conv')).toBe('input.4_Conv');
  });

  it('tensorResolver: a tensor name, then a TPU-MLIR op name, then a node name (its first output)', () => {
    const resolve = tensorResolver(nodes);
    expect(['images', 'w', 'input.4', 'input.4_Conv', 'Conv_0', 'b_Split', 'split', 'input.8_Relu', 'nope'].map(resolve)).toEqual([
      'images', 'w', 'input.4', 'input.4', 'input.4', 'b', 'a', 'input.8', undefined,
    ]);
  });

  it('layerResolver: a node name, then an output tensor, then a TPU-MLIR op name', () => {
    const resolve = layerResolver(nodes);
    expect(['Conv_0', 'input.4', 'input.4_Conv', 'b', 'b_Split', 'input.8_Relu', 'images'].map(resolve)).toEqual([
      'Conv_0', 'Conv_0', 'Conv_0', 'split', 'split', 'input.8_Relu', undefined,
    ]);
  });
});
