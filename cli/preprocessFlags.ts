import { RESIZE_MODES, type ResizeMode } from '../src/core/io/dataset/ImagePreprocess';
import { DEFAULT_PREPROCESS, type ImagePreprocess } from '../src/core/io/dataset/loadDataset';
import { PRESET_IDS, withPreset, type PresetId } from '../src/core/io/dataset/presets';
import type { Limits } from '../src/core/io/limits';
import { FlagError, sizeFlag } from './limitFlags';

/** The image preprocessing flags, as parseArgs gives them. */
export interface PreprocessFlags {
  readonly preset?: string;
  readonly resize_mode?: string;
  readonly pad_value?: string;
  readonly mean?: string;
  readonly scale?: string;
  readonly pixel_format?: string;
  readonly layout?: string;
  readonly resize_dims?: string;
  readonly input_size?: string;
}

function numbers(text: string, count: number, flag: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length !== count || values.some((v) => !Number.isFinite(v))) throw new FlagError(`--${flag} takes ${count} comma-separated numbers, got "${text}"`);
  return values;
}

/**
 * Image preprocessing from the flags: --preset first (its mean, scale, colour order, resize mode and
 * padding), then each flag given over it. --resize_dims alone means crop, as before resize modes.
 */
export function preprocessFrom(values: PreprocessFlags, limits: Limits): ImagePreprocess {
  const pixelFormat = values.pixel_format;
  if (pixelFormat !== undefined && !['rgb', 'bgr', 'gray'].includes(pixelFormat)) throw new FlagError(`--pixel_format is rgb, bgr or gray, got "${pixelFormat}"`);
  const layout = values.layout ?? 'nchw';
  if (!['nchw', 'nhwc'].includes(layout)) throw new FlagError(`--layout is nchw or nhwc, got "${layout}"`);
  if (values.preset !== undefined && !(PRESET_IDS as string[]).includes(values.preset)) throw new FlagError(`--preset is one of ${PRESET_IDS.join(', ')}; got "${values.preset}"`);
  const mode = values.resize_mode;
  if (mode !== undefined && !(RESIZE_MODES as string[]).includes(mode)) throw new FlagError(`--resize_mode is one of ${RESIZE_MODES.join(', ')}; got "${mode}"`);
  if (values.resize_dims && mode !== undefined && mode !== 'crop') throw new FlagError(`--resize_dims sets the size before a centre crop: use it with --resize_mode crop, not ${mode}`);
  const inputSize = values.input_size ? sizeFlag(values.input_size, 'input_size', limits) : null;
  const base: ImagePreprocess = { ...DEFAULT_PREPROCESS, layout: layout as ImagePreprocess['layout'], inputSize, ...(pixelFormat === 'gray' ? { pixelFormat: 'gray' } : {}) };
  const preset = values.preset ? withPreset(base, values.preset as PresetId) : base;
  const resizeMode = (mode ?? (values.resize_dims ? 'crop' : preset.resizeMode)) as ResizeMode | undefined;
  let padValue = preset.padValue;
  if (values.pad_value !== undefined) {
    padValue = Number(values.pad_value);
    if (values.pad_value.trim() === '' || !(padValue >= 0 && padValue <= 255)) throw new FlagError(`--pad_value takes a pixel value from 0 to 255, got "${values.pad_value}"`);
    if (resizeMode !== 'letterbox' && resizeMode !== 'keep_aspect_pad') throw new FlagError('--pad_value is the padding of --resize_mode letterbox or keep_aspect_pad');
  }
  return {
    ...preset,
    mean: values.mean ? (numbers(values.mean, 3, 'mean') as [number, number, number]) : preset.mean,
    scale: values.scale ? (numbers(values.scale, 3, 'scale') as [number, number, number]) : preset.scale,
    pixelFormat: (pixelFormat ?? preset.pixelFormat) as ImagePreprocess['pixelFormat'],
    resizeDims: values.resize_dims ? sizeFlag(values.resize_dims, 'resize_dims', limits) : null,
    ...(resizeMode ? { resizeMode } : {}),
    ...(padValue !== undefined ? { padValue } : {}),
  };
}
