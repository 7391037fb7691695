import { FormatError, errorMessage } from '../src/core/errors';
import { decodeJpeg, isJpeg } from '../src/core/io/dataset/decodeJpeg';
import type { ImageDecoder, RgbaImage } from '../src/core/io/dataset/loadDataset';

/**
 * The page's ImageDecoder, usable in a Web Worker. JPEG goes through jpeg-js, the CLI's decoder, so
 * the page and the CLI calibrate on the same pixels (JPEG decoders differ; lossless formats do not).
 * Everything else: createImageBitmap decodes whatever the browser can (PNG, BMP, WebP...), an
 * OffscreenCanvas hands back the pixels. colorSpaceConversion
 * 'none' keeps the file's values as cv2.imread does (no ICC conversion); premultiplyAlpha 'none'
 * keeps colour unscaled by alpha. EXIF orientation is applied (the default), as cv2.imread does.
 * A canvas stores pixels premultiplied, so semi-transparent pixels may come back off by a level;
 * opaque images (nearly all calibration photos) come back exact.
 */
export const browserImageDecoder: ImageDecoder = {
  async decode(bytes: Uint8Array, fileName: string): Promise<RgbaImage> {
    if (isJpeg(bytes)) return decodeJpeg(bytes, fileName);
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    } catch (error) {
      throw new FormatError(fileName, `cannot decode the image (damaged, or a format this browser does not read): ${errorMessage(error)}`);
    }
    try {
      const { width, height } = bitmap;
      const canvas = new OffscreenCanvas(width, height);
      const context = canvas.getContext('2d', { willReadFrequently: true });
      if (!context) throw new FormatError(fileName, 'cannot decode the image: no 2D canvas in this worker');
      context.drawImage(bitmap, 0, 0);
      return { width, height, data: context.getImageData(0, 0, width, height).data };
    } finally {
      bitmap.close();
    }
  },
};
