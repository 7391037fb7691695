/*
 * The width and height an image file declares, read from the few header bytes that hold them, so
 * that an image too large to decode is refused before a decoder allocates its pixels (a 68-byte
 * PNG can declare 2^31 x 2^31). This reads sizes only; decoding stays with pngjs, jpeg-js and the
 * browser. Offsets from the formats' specifications: PNG's IHDR (W3C PNG §11.2.2), JPEG's SOFn
 * segment (ITU T.81 §B.2.2), BMP's BITMAPCOREHEADER / BITMAPINFOHEADER, WebP's VP8, VP8L and VP8X
 * headers (RFC 9649 §2.5-2.7).
 */

export type ImageFormat = 'png' | 'jpeg' | 'bmp' | 'webp';

/** What the header says: the size, or that the file is cut off before it; null for no known signature. */
export type DeclaredSize =
  | { readonly format: ImageFormat; readonly width: number; readonly height: number }
  | { readonly format: ImageFormat; readonly truncated: true }
  | null;

const ascii = (b: Uint8Array, at: number, text: string) => [...text].every((c, i) => b[at + i] === c.charCodeAt(0));
const u16be = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const u16le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u24le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
const u32be = (b: Uint8Array, at: number) => ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
const u32le = (b: Uint8Array, at: number) => (u24le(b, at) + b[at + 3] * 0x1000000);
const i32le = (b: Uint8Array, at: number) => u24le(b, at) | (b[at + 3] << 24);

/**
 * The size `bytes` declare, by the signature they start with.
 * @example declaredSize(pngHeader(20000, 20000)) // { format: 'png', width: 20000, height: 20000 }
 */
export function declaredSize(bytes: Uint8Array): DeclaredSize {
  if (bytes.length >= 8 && bytes[0] === 0x89 && ascii(bytes, 1, 'PNG\r\n\x1a\n')) return pngSize(bytes);
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return jpegSize(bytes);
  if (bytes.length >= 2 && ascii(bytes, 0, 'BM')) return bmpSize(bytes);
  if (bytes.length >= 12 && ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WEBP')) return webpSize(bytes);
  return null;
}

function pngSize(b: Uint8Array): DeclaredSize {
  // IHDR is the first chunk: length (4), "IHDR", width (4), height (4), big-endian.
  if (b.length < 24 || !ascii(b, 12, 'IHDR')) return { format: 'png', truncated: true };
  return { format: 'png', width: u32be(b, 16), height: u32be(b, 20) };
}

/** SOF0-SOF15 but DHT (C4), JPG (C8) and DAC (CC), which share the range. */
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

function jpegSize(b: Uint8Array): DeclaredSize {
  // Walk the marker segments (each FF xx, then a big-endian length that counts itself) to the first SOFn.
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return { format: 'jpeg', truncated: true };
    const marker = b[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // TEM, RSTn: no length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // EOI or SOS before any frame header
    if (isStartOfFrame(marker)) {
      if (at + 9 > b.length) break;
      return { format: 'jpeg', height: u16be(b, at + 5), width: u16be(b, at + 7) };
    }
    at += 2 + u16be(b, at + 2);
  }
  return { format: 'jpeg', truncated: true };
}

function bmpSize(b: Uint8Array): DeclaredSize {
  if (b.length < 18) return { format: 'bmp', truncated: true };
  // BITMAPCOREHEADER (12 bytes) holds 16-bit sizes; every later header 32-bit signed ones (negative height: top-down rows).
  if (u32le(b, 14) === 12) return b.length < 22 ? { format: 'bmp', truncated: true } : { format: 'bmp', width: u16le(b, 18), height: u16le(b, 20) };
  if (b.length < 26) return { format: 'bmp', truncated: true };
  return { format: 'bmp', width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
}

function webpSize(b: Uint8Array): DeclaredSize {
  if (b.length < 30) return { format: 'webp', truncated: true };
  if (ascii(b, 12, 'VP8X')) return { format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 }; // canvas size minus one, 24 bits each
  if (ascii(b, 12, 'VP8L')) {
    // After the 0x2f signature byte: 14 bits width - 1, 14 bits height - 1.
    const bits = u32le(b, 21);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (ascii(b, 12, 'VP8 ')) return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff }; // after the 3-byte frame tag and the 9d 01 2a start code
  return { format: 'webp', truncated: true };
}
