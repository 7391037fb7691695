import { describe, expect, it } from 'vitest';
import { ortNodeEngine } from '../../../../cli/ortNodeEngine';
import { GraphBuilder, randomSamples } from '../../../../test/support/GraphBuilder';
import { upgradeGraph } from './opsetUpgrade';
import { onnx } from './protobuf';

const engine = ortNodeEngine(1);

/** An opset-11 model with every operator whose signature changed between 11 and 21. */
function opset11Model(): onnx.ModelProto {
  const b = new GraphBuilder({ opset: 11, seed: 9 });
  const x = b.input('x', [2, 3, 4, 5]);
  const [mean] = b.node('ReduceMean', [x], { axes: [2, 3], keepdims: 1 }, 1, [2, 3, 1, 1]);
  const [sum] = b.node('ReduceSum', [x], { axes: [1], keepdims: 1 }, 1, [2, 1, 4, 5]);
  const [squeezed] = b.node('Squeeze', [mean], { axes: [2, 3] }, 1, [2, 3]);
  const [unsqueezed] = b.node('Unsqueeze', [squeezed], { axes: [2] }, 1, [2, 3, 1]);
  const [a, c] = b.node('Split', [x], { axis: 3, split: [2, 3] }, 2, [2, 3, 4, 2]);
  const [even0, even1] = b.node('Split', [x], { axis: 2 }, 2, [2, 3, 2, 5]);
  const [soft] = b.node('Softmax', [x], { axis: 1 }, 1, [2, 3, 4, 5]); // old meaning: over the flattened 3x4x5
  const [logSoft] = b.node('LogSoftmax', [x], { axis: 3 }, 1, [2, 3, 4, 5]);
  for (const t of [mean, sum, unsqueezed, a, c, even0, even1, soft, logSoft]) b.output(t);
  return b.toModel();
}

async function outputs(model: onnx.ModelProto) {
  const session = await engine.createSession(onnx.ModelProto.encode(model).finish());
  const [feeds] = randomSamples('x', [2, 3, 4, 5], 1, 3);
  const result = await session.run(feeds);
  await session.dispose();
  return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
}

describe('opset upgrade from 11', () => {
  it.each([13, 18, 21])('to %i keeps every output identical', async (to) => {
    const original = opset11Model();
    const reference = await outputs(original);
    const upgraded = onnx.ModelProto.create({
      ...original,
      irVersion: to >= 21 ? 10 : 8,
      opsetImport: [{ domain: '', version: to }],
      graph: upgradeGraph(original.graph as onnx.GraphProto, 11, to),
    });
    const ops = upgraded.graph!.node.map((n) => n.opType);
    expect(ops).toContain('Flatten'); // the rank-unknown Softmax(axis=1) keeps its 2-D meaning
    const withAxesAttribute = upgraded.graph!.node.filter((n) => n.attribute.some((a) => a.name === 'axes')).map((n) => n.opType);
    expect(withAxesAttribute).toEqual(to >= 18 ? [] : ['ReduceMean']); // ReduceMean keeps the attribute until opset 18
    if (to >= 18) expect(upgraded.graph!.node.filter((n) => n.opType === 'Split' && n.input.length === 1).every((n) => n.attribute.some((a) => a.name === 'num_outputs'))).toBe(true);
    expect(await outputs(upgraded)).toEqual(reference);
  });
});
