// The ambient module declaration for jpeg-js/lib/decoder.js, for every project that compiles this file.
// oxlint-disable-next-line typescript/triple-slash-reference
/// <reference path="./jpeg-js.d.ts" />
import decode from 'jpeg-js/lib/decoder.js';
import { FormatError, errorMessage } from '../../errors';
import type { RgbaImage } from './ImageDecoder';

export const isJpeg = (b: Uint8Array) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/**
 * JPEG to RGBA with jpeg-js, in the page's worker and in the CLI alike. JPEG decoders disagree in
 * their IDCT and chroma upsampling (Chromium's libjpeg-turbo and jpeg-js move the PP-OCR demo's
 * all-INT8 cosine from 0.9272 to 0.9309); one decoder everywhere means the page and the CLI
 * calibrate on the same pixels and report the same numbers.
 */
export function decodeJpeg(bytes: Uint8Array, fileName: string): RgbaImage {
  try {
    const image = decode(bytes, { useTArray: true, formatAsRGBA: true });
    return { width: image.width, height: image.height, data: image.data };
  } catch (error) {
    // jpeg-js says what is wrong with plain Errors ("unknown JPEG marker ff"); on some damaged data its
    // own code fails instead (a TypeError reading past a table), whose text tells the user nothing.
    const detail = error instanceof TypeError || error instanceof RangeError ? 'its JPEG data is damaged (the decoder found tables or markers that do not fit together)' : errorMessage(error);
    throw new FormatError(fileName, `cannot decode the image (damaged?): ${detail}`);
  }
}
