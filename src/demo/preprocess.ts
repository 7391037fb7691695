import type { ImagePreprocess } from '../core/io/dataset/loadDataset';

/**
 * PaddleOCR's det preprocessing in TPU-MLIR's terms: BGR, mean 255*[0.485,0.456,0.406] and
 * scale 1/(255*[0.229,0.224,0.225]) in BGR order, input 320x320 (the model's H and W are dynamic;
 * PaddleOCR wants multiples of 32). The CLI equivalent:
 *   --pixel_format bgr --mean 103.53,116.28,123.675 --scale 0.017429,0.017507,0.017125 --input_size 320,320
 */
export const DEMO_PREPROCESS: ImagePreprocess = {
  resizeDims: null,
  inputSize: [320, 320],
  mean: [103.53, 116.28, 123.675],
  scale: [0.017429, 0.017507, 0.017125],
  pixelFormat: 'bgr',
  layout: 'nchw',
};
