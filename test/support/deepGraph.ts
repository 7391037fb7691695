import { GraphBuilder } from './GraphBuilder';

/**
 * A real ONNX model of about `nodes` nodes (ResNet-like blocks of Conv, Relu, Conv, Add, Relu on a
 * tiny 4x8x8 tensor): as deep and as wide a graph as a large network, cheap to run.
 */
export function deepResidualModel(nodes: number, seed = 1): Uint8Array {
  const b = new GraphBuilder({ seed });
  let x = b.input('x', [1, 4, 8, 8]);
  x = b.relu(b.conv(x, 4, 3));
  for (let i = 0; i < Math.floor((nodes - 2) / 5); i++) {
    const y = b.conv(b.relu(b.conv(x, 4, 3)), 4, 3);
    x = b.relu(b.add(x, y));
  }
  b.output(x);
  return b.toBytes();
}
