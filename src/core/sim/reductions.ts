import type { GraphWriter } from '../io/onnx/GraphWriter';

/**
 * Appends `op` (a Reduce* over all axes, keepdims, or Size) on `tensor` and returns the name of
 * its one-element result, to be exposed as a graph output. Results stay separate outputs: a
 * Concat of hundreds of scalars costs more session-creation time than the outputs it saves.
 */
export function addReduction(writer: GraphWriter, op: 'ReduceMin' | 'ReduceMax' | 'ReduceSumSquare' | 'Size', tensor: string): string {
  const output = writer.uniqueName(`${tensor}/qbench_${op}`);
  writer.addNode(op, [tensor], [output], `${tensor}/qbench_${op}`);
  return output;
}

/** The first element of a one-element tensor as a number. */
export function scalarOf(data: unknown): number {
  const value = (data as ArrayLike<number | bigint>)[0];
  return typeof value === 'bigint' ? Number(value) : value;
}
