import { padValueOf, RESIZE_MODES, resizeModeOf, type ResizeMode } from '../src/core/io/dataset/ImagePreprocess';
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

/** The preprocessing flags given, as the user typed their names (for the note saying what was used). */
export const PREPROCESS_FLAGS = ['preset', 'resize_mode', 'pad_value', 'mean', 'scale', 'pixel_format', 'layout', 'resize_dims', 'input_size'] as const satisfies readonly (keyof PreprocessFlags)[];

export function preprocessFlagsGiven(values: PreprocessFlags): string[] {
  return PREPROCESS_FLAGS.filter((flag) => values[flag] !== undefined).map((flag) => `--${flag} ${values[flag]}`);
}

/**
 * Image preprocessing from the flags over `base`: the model's own (preprocessForModel, what the
 * page starts from too), or a session's. --preset first (its mean, scale, colour order, resize mode
 * and padding; the base's layout and size stay), then each flag given over it. --resize_dims alone
 * means crop. Without a base (checking the flags before the model is read) the base is NCHW, RGB,
 * /255, stretched.
 */
export function preprocessFrom(values: PreprocessFlags, limits: Limits, model: ImagePreprocess = DEFAULT_PREPROCESS): ImagePreprocess {
  const pixelFormat = values.pixel_format;
  if (pixelFormat !== undefined && !['rgb', 'bgr', 'gray'].includes(pixelFormat)) throw new FlagError(`--pixel_format is rgb, bgr or gray, got "${pixelFormat}"`);
  const layout = values.layout ?? model.layout;
  if (!['nchw', 'nhwc'].includes(layout)) throw new FlagError(`--layout is nchw or nhwc, got "${layout}"`);
  if (values.preset !== undefined && !(PRESET_IDS as string[]).includes(values.preset)) throw new FlagError(`--preset is one of ${PRESET_IDS.join(', ')}; got "${values.preset}"`);
  const mode = values.resize_mode;
  if (mode !== undefined && !(RESIZE_MODES as string[]).includes(mode)) throw new FlagError(`--resize_mode is one of ${RESIZE_MODES.join(', ')}; got "${mode}"`);
  if (values.resize_dims && mode !== undefined && mode !== 'crop') throw new FlagError(`--resize_dims sets the size before a centre crop: use it with --resize_mode crop, not ${mode}`);
  const inputSize = values.input_size ? sizeFlag(values.input_size, 'input_size', limits) : model.inputSize;
  const base: ImagePreprocess = { ...model, layout: layout as ImagePreprocess['layout'], inputSize, ...(pixelFormat === 'gray' ? { pixelFormat: 'gray' } : {}) };
  const preset = values.preset ? withPreset(base, values.preset as PresetId) : base;
  // A resize mode or size given replaces the base's resize (its crop size goes with it).
  const resizeMode = (mode ?? (values.resize_dims ? 'crop' : preset.resizeMode)) as ResizeMode | undefined;
  const resizeDims = values.resize_dims ? sizeFlag(values.resize_dims, 'resize_dims', limits) : mode !== undefined ? null : preset.resizeDims;
  let padValue = preset.padValue;
  if (values.pad_value !== undefined) {
    padValue = Number(values.pad_value);
    if (values.pad_value.trim() === '' || !(padValue >= 0 && padValue <= 255)) throw new FlagError(`--pad_value takes a pixel value from 0 to 255, got "${values.pad_value}"`);
    const padded = resizeModeOf({ ...preset, resizeDims, resizeMode });
    if (padded !== 'letterbox' && padded !== 'keep_aspect_pad') throw new FlagError('--pad_value is the padding of --resize_mode letterbox or keep_aspect_pad');
  }
  return {
    ...preset,
    mean: values.mean ? (numbers(values.mean, 3, 'mean') as [number, number, number]) : preset.mean,
    scale: values.scale ? (numbers(values.scale, 3, 'scale') as [number, number, number]) : preset.scale,
    pixelFormat: (pixelFormat ?? preset.pixelFormat) as ImagePreprocess['pixelFormat'],
    resizeDims,
    ...(resizeMode ? { resizeMode } : {}),
    ...(padValue !== undefined ? { padValue } : {}),
  };
}

const short = (v: number) => Number(v.toPrecision(4));
const triple = (values: readonly number[]) => (values.every((v) => v === values[0]) ? `${short(values[0])}` : `[${values.map(short).join(', ')}]`);

/**
 * One line saying the preprocessing images get and where it came from, for a `note:` line; the
 * input size is said when the model leaves its height or width open (`sizeOpen`).
 * @example describePreprocess(p, 'the model (input "x" is [1, 96, 96, 3]: NHWC, 3 channels)', [], false) // "NHWC, RGB, mean 0, scale 0.003922, stretch: from the model (...), no preprocessing flag over it"
 */
export function describePreprocess(p: ImagePreprocess, source: string, flags: readonly string[], sizeOpen: boolean): string {
  const mode = resizeModeOf(p);
  const resize = mode === 'crop' && p.resizeDims ? `crop from ${p.resizeDims.join('x')}` : mode === 'letterbox' || mode === 'keep_aspect_pad' ? `${mode} padded with ${padValueOf(p)}` : mode;
  const size = sizeOpen ? `, ${p.inputSize ? `input size ${p.inputSize.join('x')}` : 'no input size (the model leaves it open: --input_size)'}` : '';
  return `${p.layout.toUpperCase()}, ${p.pixelFormat.toUpperCase()}, mean ${triple(p.mean)}, scale ${triple(p.scale)}, ${resize}${size}: from ${source}${flags.length ? `, with ${flags.join(' ')} over it` : ', no preprocessing flag over it'}`;
}
