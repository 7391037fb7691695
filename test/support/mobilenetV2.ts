import { GraphBuilder } from './GraphBuilder';

/**
 * MobileNetV2's architecture (Sandler et al. 2018: inverted residual blocks, ReLU6, BatchNorm
 * folded into the convolutions) with seeded random weights: 52 Conv + 1 Gemm, 3.5 M parameters,
 * input 1x3x224x224. For timing: the same shapes and operator mix as the real network.
 */
export function mobileNetV2(seed = 1): Uint8Array {
  const b = new GraphBuilder({ seed, opset: 13 });
  let x = b.input('input', [1, 3, 224, 224]);
  x = b.relu6(b.conv(x, 32, 3, { stride: 2 }));
  let channels = 32;
  const settings: [number, number, number, number][] = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];
  for (const [expansion, out, repeats, firstStride] of settings) {
    for (let i = 0; i < repeats; i++) {
      const stride = i === 0 ? firstStride : 1;
      const hidden = channels * expansion;
      let y = x;
      if (expansion !== 1) y = b.relu6(b.conv(y, hidden, 1));
      y = b.relu6(b.conv(y, hidden, 3, { stride, group: hidden }));
      y = b.conv(y, out, 1);
      x = stride === 1 && channels === out ? b.add(x, y) : y;
      channels = out;
    }
  }
  x = b.relu6(b.conv(x, 1280, 1));
  x = b.flatten(b.globalAveragePool(x));
  b.output(b.gemm(x, 1000));
  return b.toBytes();
}
