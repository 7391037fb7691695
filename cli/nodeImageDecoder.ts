import { PNG } from 'pngjs';
import { FormatError, errorMessage } from '../src/core/errors';
import { decodeJpeg, isJpeg } from '../src/core/io/dataset/decodeJpeg';
import type { ImageDecoder, RgbaImage } from '../src/core/io/dataset/loadDataset';

const isPng = (b: Uint8Array) => b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
const isBmp = (b: Uint8Array) => b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d; // "BM"
const isWebp = (b: Uint8Array) => b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP';

/**
 * The CLI's ImageDecoder: PNG with pngjs (16-bit scaled to 8, palette and grey expanded to RGBA),
 * JPEG with jpeg-js (the page's decoder too: src/core/io/dataset/decodeJpeg.ts), both pure
 * JavaScript, so the CLI needs no native image library. The format is sniffed from the bytes. BMP and WebP have no decoder here: FormatError saying to
 * convert them. Unlike cv2.imread and browsers, EXIF orientation is not applied.
 */
export const nodeImageDecoder: ImageDecoder = {
  async decode(bytes: Uint8Array, fileName: string): Promise<RgbaImage> {
    if (isBmp(bytes) || isWebp(bytes) || (!isPng(bytes) && !isJpeg(bytes) && /\.(bmp|webp)$/i.test(fileName))) {
      throw new FormatError(fileName, `the CLI cannot decode ${isWebp(bytes) || /\.webp$/i.test(fileName) ? 'WebP' : 'BMP'} images; convert them to PNG or JPEG (or load them in the page)`);
    }
    if (isJpeg(bytes)) return decodeJpeg(bytes, fileName);
    try {
      if (isPng(bytes)) {
        const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
      }
    } catch (error) {
      throw new FormatError(fileName, `cannot decode the image (damaged?): ${errorMessage(error)}`);
    }
    throw new FormatError(fileName, 'is neither a PNG nor a JPEG image (its first bytes match neither)');
  },
};
