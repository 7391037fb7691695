import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeImageDecoder } from '../cli/nodeImageDecoder';
import { loadDataset } from '../src/core/io/dataset/loadDataset';
import { withPreset } from '../src/core/io/dataset/presets';
import { DEFAULT_PREPROCESS } from '../src/core/io/dataset/ImagePreprocess';
import { browserImageDecoder } from './browserImageDecoder';

/**
 * The page (its worker's decoder) and the CLI read an image into the same tensor, letterbox and
 * keep-aspect padding included: both decode JPEG with jpeg-js and share the resize code, so a
 * figure from the page and one from `qbench` are on the same inputs. (PNG goes through the
 * browser's createImageBitmap in the page, which Node has not; the e2e preview covers it.)
 */
describe('page and CLI decoders give the same tensor', () => {
  const name = 'book_columns.jpg';
  const bytes = new Uint8Array(readFileSync(join(import.meta.dirname, '..', 'demo', 'images', name)));
  const input = { name: 'x', dtype: 'float32' as const, dims: [1, 3, 96, 160] };

  for (const preset of ['yolo', 'ppocr_rec'] as const) {
    it(`${preset}`, async () => {
      const preprocess = withPreset({ ...DEFAULT_PREPROCESS, inputSize: null }, preset);
      const page = await loadDataset([{ name, bytes }], [input], preprocess, browserImageDecoder);
      const cli = await loadDataset([{ name, bytes }], [input], preprocess, nodeImageDecoder);
      const [a, b] = [page.samples[0].x.data as Float32Array, cli.samples[0].x.data as Float32Array];
      expect(a.length).toBe(3 * 96 * 160);
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
      // the padding is there: the last column is the pad value, normalised
      const pad = preset === 'yolo' ? Math.fround(114 / 255) : 0;
      expect(preset === 'yolo' ? a[0] : a[159]).toBeCloseTo(pad, 6);
    });
  }
});
