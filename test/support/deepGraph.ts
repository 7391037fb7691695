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

/**
 * deepResidualModel with PyTorch-style scoped names (`/block12/conv1/Conv`): each residual block is
 * a name scope, so the graph view can collapse it into one box (issue 13).
 */
export function scopedResidualModel(nodes: number, seed = 1): Uint8Array {
  const b = new GraphBuilder({ seed });
  let x = b.input('x', [1, 4, 8, 8]);
  x = b.node('Relu', [b.conv(x, 4, 3, { name: '/stem/conv/Conv' })], {}, 1, undefined, '/stem/relu/Relu')[0];
  for (let i = 0; i < Math.floor((nodes - 2) / 5); i++) {
    const s = `/block${i}`;
    const y1 = b.node('Relu', [b.conv(x, 4, 3, { name: `${s}/conv1/Conv` })], {}, 1, undefined, `${s}/relu1/Relu`)[0];
    const y = b.conv(y1, 4, 3, { name: `${s}/conv2/Conv` });
    x = b.node('Relu', [b.node('Add', [x, y], {}, 1, undefined, `${s}/add/Add`)[0]], {}, 1, undefined, `${s}/relu2/Relu`)[0];
  }
  b.output(x);
  return b.toBytes();
}
