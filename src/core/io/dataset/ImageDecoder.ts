/** An 8-bit RGBA image, row-major, alpha not premultiplied (alpha is ignored, as cv2.imread does). */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray | Uint8Array;
}

/**
 * Turns image file bytes into RGBA. Core never decodes images itself: the worker passes one built on
 * createImageBitmap (workers/browserImageDecoder.ts), the CLI one built on jpeg-js and pngjs
 * (cli/nodeImageDecoder.ts). A file it cannot decode is a FormatError naming the file.
 */
export interface ImageDecoder {
  decode(bytes: Uint8Array, fileName: string): Promise<RgbaImage>;
}
