import { padValueOf, resizeModeOf, type ImagePreprocess } from './ImagePreprocess';

export type PresetId = 'imagenet' | 'yolo' | 'ppocr_det' | 'ppocr_rec' | 'minus1_1' | 'raw';

/** What a preset sets; the layout and (for a fixed-size input) the size stay the model's. */
type PresetValues = Pick<ImagePreprocess, 'mean' | 'scale' | 'pixelFormat' | 'resizeMode' | 'padValue'> & {
  /** The size the preset's models are usually run at, for a model whose height and width are dynamic. */
  readonly inputSize: readonly [number, number] | null;
};

export interface Preset {
  readonly id: PresetId;
  readonly label: string;
  /** One line saying what it does, for the form and --help. */
  readonly description: string;
  readonly values: PresetValues;
}

const third = (v: number) => [v, v, v] as const;

/**
 * The preprocessing of well-known model families, in TPU-MLIR's terms (value = (pixel - mean) * scale).
 * PaddleOCR reads images with cv2 (BGR); its det preset is the demo's (src/demo/preprocess.ts): the
 * ImageNet mean and std in B, G, R order, 320x320. Its recognizer pads with 0 after normalising,
 * which is pixel 127.5.
 */
export const PRESETS: Readonly<Record<PresetId, Preset>> = {
  imagenet: {
    id: 'imagenet', label: 'ImageNet', description: 'RGB, mean 255·[0.485, 0.456, 0.406], std 255·[0.229, 0.224, 0.225], centre crop',
    values: { mean: [123.675, 116.28, 103.53], scale: [1 / 58.395, 1 / 57.12, 1 / 57.375], pixelFormat: 'rgb', resizeMode: 'crop', inputSize: [224, 224] },
  },
  yolo: {
    id: 'yolo', label: 'YOLO', description: 'RGB, /255, letterbox padded with 114',
    values: { mean: third(0), scale: third(1 / 255), pixelFormat: 'rgb', resizeMode: 'letterbox', padValue: 114, inputSize: [640, 640] },
  },
  ppocr_det: {
    id: 'ppocr_det', label: 'PaddleOCR detector', description: 'BGR, ImageNet mean and std in B, G, R order, stretched (320×320 when dynamic)',
    values: { mean: [103.53, 116.28, 123.675], scale: [0.017429, 0.017507, 0.017125], pixelFormat: 'bgr', resizeMode: 'stretch', inputSize: [320, 320] },
  },
  ppocr_rec: {
    id: 'ppocr_rec', label: 'PaddleOCR recognizer', description: 'BGR, (x − 127.5) / 127.5, height 48 keeping the aspect, padded on the right',
    values: { mean: third(127.5), scale: third(1 / 127.5), pixelFormat: 'bgr', resizeMode: 'keep_aspect_pad', padValue: 127.5, inputSize: [48, 320] },
  },
  minus1_1: {
    id: 'minus1_1', label: '[−1, 1]', description: 'RGB, (x − 127.5) / 127.5, stretched',
    values: { mean: third(127.5), scale: third(1 / 127.5), pixelFormat: 'rgb', resizeMode: 'stretch', inputSize: null },
  },
  raw: {
    id: 'raw', label: 'Raw pixels', description: 'RGB, 0..255 as they are, stretched',
    values: { mean: third(0), scale: third(1), pixelFormat: 'rgb', resizeMode: 'stretch', inputSize: null },
  },
};

export const PRESET_IDS = Object.keys(PRESETS) as PresetId[];

/**
 * `base` (the model's preprocessing) with a preset's values: the layout stays the model's, a gray
 * model stays gray, and the preset's usual size is used only where the model leaves the size open
 * and `base` has none.
 * @example withPreset(nhwcModel, 'yolo') // layout nhwc, letterbox, pad 114, scale 1/255
 */
export function withPreset(base: ImagePreprocess, id: PresetId): ImagePreprocess {
  const { inputSize, padValue, ...values } = PRESETS[id].values;
  // The base's pad value goes: a preset without one pads with its mode's default.
  const { padValue: _dropped, ...kept } = base;
  return {
    ...kept,
    ...values,
    pixelFormat: base.pixelFormat === 'gray' ? 'gray' : values.pixelFormat,
    resizeDims: null,
    inputSize: base.inputSize ?? inputSize,
    ...(padValue !== undefined ? { padValue } : {}),
  };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));

/** The preset `p` is (mean, scale, colour order, resize mode and padding), or null for anything else. */
export function presetOf(p: ImagePreprocess): PresetId | null {
  for (const id of PRESET_IDS) {
    const v = PRESETS[id].values;
    const sameColour = p.pixelFormat === v.pixelFormat || p.pixelFormat === 'gray';
    const mode = v.resizeMode ?? 'stretch';
    if (!sameColour || resizeModeOf(p) !== mode || p.resizeDims) continue;
    if ((mode === 'letterbox' || mode === 'keep_aspect_pad') && !close(padValueOf(p), padValueOf({ ...p, padValue: v.padValue }))) continue;
    if (v.mean.every((m, i) => close(m, p.mean[i])) && v.scale.every((s, i) => close(s, p.scale[i]))) return id;
  }
  return null;
}
