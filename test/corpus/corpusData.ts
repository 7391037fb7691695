import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { nodeImageDecoder } from '../../cli/nodeImageDecoder';
import { formatNpy } from '../../src/core/io/dataset/npy';
import { resizeBilinear } from '../../src/core/io/dataset/resize';
import type { Tensor } from '../../src/core/model/tensor';
import { seededRandom } from '../../src/core/seededRandom';
import { DEMO_IMAGE_DIR } from '../support/models';
import type { CorpusArray, CorpusModel } from './corpusModels';

/**
 * Writes `count` calibration samples for a corpus model into `dir` and returns the CLI flags that
 * feed them: demo images (with the model's preprocessing flags), or one .npy/.npz per sample made
 * to fit each input.
 */
export async function writeCorpusData(model: CorpusModel, dir: string, count: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const images = readdirSync(DEMO_IMAGE_DIR).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort().slice(0, count);
  if (model.data.kind === 'images') {
    for (const name of images) copyFileSync(join(DEMO_IMAGE_DIR, name), join(dir, name));
    return ['--data', dir, ...model.data.flags];
  }
  const random = seededRandom(11);
  for (let s = 0; s < count; s++) {
    const tensors = await Promise.all(model.data.inputs.map((input) => arrayFor(input, images[s % images.length], random)));
    if (tensors.length === 1) writeFileSync(join(dir, `sample${s}.npy`), formatNpy(tensors[0]));
    else writeFileSync(join(dir, `sample${s}.npz`), zipSync(Object.fromEntries(model.data.inputs.map((input, k) => [`${input.name}.npy`, formatNpy(tensors[k])]))));
  }
  return ['--data', dir];
}

async function arrayFor(input: CorpusArray, image: string, random: () => number): Promise<Tensor> {
  const size = input.dims.reduce((a, b) => a * b, 1);
  const { fill } = input;
  if (input.dtype === 'int64') return { dtype: 'int64', dims: [...input.dims], data: BigInt64Array.from({ length: size }, () => BigInt(fill.kind === 'value' ? fill.value : 0)) };
  const data = new Float32Array(size);
  if (fill.kind === 'value') data.fill(fill.value);
  else if (fill.kind === 'normal') {
    for (let i = 0; i < size; i += 2) {
      // Box-Muller: two seeded normals per pair of uniforms
      const r = Math.sqrt(-2 * Math.log(1 - random())) * fill.scale;
      const t = 2 * Math.PI * random();
      data[i] = r * Math.cos(t);
      if (i + 1 < size) data[i + 1] = r * Math.sin(t);
    }
  } else {
    const [, h, w, c] = fill.layout === 'nhwc' ? input.dims : [input.dims[0], input.dims[2], input.dims[3], input.dims[1]];
    const rgba = await nodeImageDecoder.decode(new Uint8Array(readFileSync(join(DEMO_IMAGE_DIR, image))), image);
    const resized = resizeBilinear(rgba, h, w);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < c; k++) {
          const value = k < 3 ? resized.data[(y * w + x) * 4 + k] / 255 : 1;
          const index = fill.layout === 'nhwc' ? (y * w + x) * c + k : k * h * w + y * w + x;
          data[index] = fill.lo + value * (fill.hi - fill.lo);
        }
      }
    }
  }
  return { dtype: 'float32', dims: [...input.dims], data };
}
