import { padValueOf, resizeModeOf, type ImagePreprocess } from './ImagePreprocess';

/**
 * Where a source image goes in the model's input, by resize mode (ImagePreprocess.ts): the size it
 * is resized to, the part of the resized image kept (a centre crop keeps less than it has) and the
 * rectangle of the input that part fills. Whatever the rectangle leaves is padding.
 */
export interface ImageFit {
  /** [H, W] the whole image is resized to (bilinear, as cv2.resize). */
  readonly resize: readonly [number, number];
  /** Top-left of the part kept, in the resized image; its size is the placement's. */
  readonly cropTop: number;
  readonly cropLeft: number;
  /** The rectangle of the input the kept part fills. */
  readonly top: number;
  readonly left: number;
  readonly height: number;
  readonly width: number;
  /** The pixel value around it (only used when the rectangle leaves a border). */
  readonly pad: number;
}

/** Python 3's round(): half to even (ultralytics' letterbox rounds its new size with it). */
function pyRound(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * How a `srcH` x `srcW` image fills a `dstH` x `dstW` input under `preprocess`:
 * - stretch: resized to dstH x dstW;
 * - crop: TPU-MLIR's --resize_dims then centre crop (each side at least the input's), or without
 *   resize dims the aspect kept until the shorter side fits; the crop starts at
 *   floor(size / 2) - floor(crop / 2), as TPU-MLIR's __center_crop;
 * - letterbox: ultralytics' LetterBox (auto=False, scaleup=True): r = min(dstH/srcH, dstW/srcW),
 *   new size round(src * r), borders round(d - 0.1) above and left of centre;
 * - keep_aspect_pad: PaddleOCR's resize_norm_img: height dstH, width ceil(dstH * srcW / srcH),
 *   at most dstW, placed at the left.
 * @example fitImage(100, 200, 64, 64, { ...DEFAULT_PREPROCESS, resizeMode: 'letterbox' }) // resize [32, 64], top 16, left 0, pad 114
 */
export function fitImage(srcH: number, srcW: number, dstH: number, dstW: number, preprocess: ImagePreprocess): ImageFit {
  const pad = padValueOf(preprocess);
  const whole = (h: number, w: number, top = 0, left = 0): ImageFit => ({ resize: [h, w], cropTop: 0, cropLeft: 0, top, left, height: h, width: w, pad });
  switch (resizeModeOf(preprocess)) {
    case 'stretch':
      return whole(dstH, dstW);
    case 'crop': {
      let h: number;
      let w: number;
      if (preprocess.resizeDims) {
        h = Math.max(preprocess.resizeDims[0], dstH);
        w = Math.max(preprocess.resizeDims[1], dstW);
      } else {
        const s = Math.max(dstH / srcH, dstW / srcW);
        h = Math.max(dstH, pyRound(srcH * s));
        w = Math.max(dstW, pyRound(srcW * s));
      }
      return { resize: [h, w], cropTop: (h >> 1) - (dstH >> 1), cropLeft: (w >> 1) - (dstW >> 1), top: 0, left: 0, height: dstH, width: dstW, pad };
    }
    case 'letterbox': {
      const r = Math.min(dstH / srcH, dstW / srcW);
      const h = Math.min(dstH, Math.max(1, pyRound(srcH * r)));
      const w = Math.min(dstW, Math.max(1, pyRound(srcW * r)));
      // (d - 0.1) is never a half, so Math.round is Python's round here.
      return whole(h, w, Math.max(0, Math.round((dstH - h) / 2 - 0.1)), Math.max(0, Math.round((dstW - w) / 2 - 0.1)));
    }
    case 'keep_aspect_pad': {
      const w = Math.ceil(dstH * (srcW / srcH));
      return whole(dstH, Math.min(dstW, Math.max(1, w)));
    }
  }
}
