import type { ValueDesc } from '../../model/ModelGraph';
import { formatDims } from '../../model/tensor';
import { DEFAULT_PREPROCESS, type ImagePreprocess } from './ImagePreprocess';
import { PRESETS, withPreset } from './presets';

/** Preprocessing told from a model, and what it was told from (one line each, for the form). */
export interface ModelPreprocess {
  readonly preprocess: ImagePreprocess;
  readonly notes: readonly string[];
}

const isChannels = (d: number | null | undefined) => d === 1 || d === 3;

/** A metadata key reduced to its letters ("Image.Mean", "image_mean" and "imageMean" alike). */
const keyOf = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Numbers in a metadata value: "[0.5, 0.5, 0.5]", "0.5,0.5,0.5", "0.5 0.5 0.5" or "0.5" (one for every channel). */
function triple(text: string | undefined): [number, number, number] | null {
  if (text === undefined) return null;
  const values = (text.match(/-?\d+(\.\d+)?(e-?\d+)?/gi) ?? []).map(Number);
  if (values.length === 1) return [values[0], values[0], values[0]];
  return values.length === 3 && values.every(Number.isFinite) ? [values[0], values[1], values[2]] : null;
}

function pair(text: string | undefined): [number, number] | null {
  const values = (text?.match(/\d+/g) ?? []).map(Number);
  if (values.length === 1 && values[0] > 0) return [values[0], values[0]];
  return values.length === 2 && values.every((v) => v > 0) ? [values[0], values[1]] : null;
}

/** The first metadata value whose key (reduced) is one of `keys`. */
function lookup(metadata: Readonly<Record<string, string>>, keys: readonly string[]): { key: string; value: string } | null {
  for (const [key, value] of Object.entries(metadata)) if (keys.includes(keyOf(key))) return { key, value };
  return null;
}

/**
 * The image preprocessing a model asks for, as far as it says: its first input's layout (the axis
 * of size 1 or 3: [N, C, H, W] or [N, H, W, C]), its channel count (1: gray), a uint8 input (raw
 * pixels), and its metadata_props: Windows ML's Image.BitmapPixelFormat and
 * Image.NominalPixelRange, ultralytics' export (YOLO's letterbox, its imgsz), and the common
 * mean / std / color_format keys (a mean and std all at most 1 are taken as in 0..1 pixels). What
 * the model does not say stays DEFAULT_PREPROCESS (RGB, /255, stretched); each note says where a
 * value came from, for the user to check before confirming.
 * @example preprocessForModel({ name: "x", dtype: "float32", dims: [1, 128, 128, 3] }) // layout nhwc, notes ["input \"x\" is [1, 128, 128, 3]: NHWC, 3 channels"]
 */
export function preprocessForModel(input: ValueDesc | undefined, metadata: Readonly<Record<string, string>> = {}): ModelPreprocess {
  const notes: string[] = [];
  let p: ImagePreprocess = { ...DEFAULT_PREPROCESS, resizeMode: 'stretch' };
  const dims = input?.dims;
  if (!input || !dims || dims.length !== 4) {
    notes.push(input ? `input "${input.name}" is ${dims ? formatDims(dims) : 'of unknown shape'}: not an image input (images need rank 4)` : 'the model has no input');
    return { preprocess: p, notes };
  }
  const nhwc = isChannels(dims[3]) && !isChannels(dims[1]);
  const channels = nhwc ? dims[3] : dims[1];
  p = { ...p, layout: nhwc ? 'nhwc' : 'nchw', pixelFormat: channels === 1 ? 'gray' : 'rgb' };
  const [h, w] = nhwc ? [dims[1], dims[2]] : [dims[2], dims[3]];
  const channelText = channels === null ? 'channels unknown, NCHW assumed' : `${channels} channel${channels === 1 ? '' : 's'}`;
  notes.push(`input "${input.name}" is ${formatDims(dims)}: ${nhwc ? 'NHWC' : 'NCHW'}, ${channelText}${h === null || w === null ? ', height and width dynamic' : ''}`);
  if (input.dtype === 'uint8') {
    p = { ...p, scale: [1, 1, 1] };
    notes.push('uint8 input: pixels as they are (0..255)');
  }

  const winPixel = lookup(metadata, ['imagebitmappixelformat']);
  if (winPixel) {
    const format = /gray/i.test(winPixel.value) ? 'gray' : /^bgr/i.test(winPixel.value) ? 'bgr' : /^rgb/i.test(winPixel.value) ? 'rgb' : null;
    if (format) {
      p = { ...p, pixelFormat: format };
      notes.push(`metadata ${winPixel.key} = ${winPixel.value}: ${format.toUpperCase()}`);
    }
  }
  const range = lookup(metadata, ['imagenominalpixelrange']);
  if (range) {
    const known: Record<string, Pick<ImagePreprocess, 'mean' | 'scale'>> = {
      nominalrange0255: { mean: [0, 0, 0], scale: [1, 1, 1] },
      normalized01: { mean: [0, 0, 0], scale: [1 / 255, 1 / 255, 1 / 255] },
      normalized11: { mean: [127.5, 127.5, 127.5], scale: [1 / 127.5, 1 / 127.5, 1 / 127.5] },
    };
    const values = known[keyOf(range.value)];
    if (values) {
      p = { ...p, ...values };
      notes.push(`metadata ${range.key} = ${range.value}`);
    }
  }

  const author = lookup(metadata, ['author']);
  if ((author && /ultralytics/i.test(author.value)) || (lookup(metadata, ['stride']) && lookup(metadata, ['imgsz']))) {
    p = withPreset(p, 'yolo');
    notes.push(`metadata: an ultralytics export, preset ${PRESETS.yolo.label} (${PRESETS.yolo.description})`);
  }
  const size = lookup(metadata, ['imgsz', 'imagesize', 'inputsize']);
  const sized = pair(size?.value);
  if (size && sized && (h === null || w === null)) {
    p = { ...p, inputSize: sized };
    notes.push(`metadata ${size.key} = ${size.value}: input size ${sized.join('×')}`);
  }

  const colour = lookup(metadata, ['colorformat', 'colourformat', 'pixelformat', 'channelorder', 'colorspace']);
  const colourFormat = colour && /^\W*(rgb|bgr|gray|grey)/i.exec(colour.value)?.[1].toLowerCase().replace('grey', 'gray');
  if (colour && colourFormat) {
    p = { ...p, pixelFormat: colourFormat as ImagePreprocess['pixelFormat'] };
    notes.push(`metadata ${colour.key} = ${colour.value}: ${colourFormat.toUpperCase()}`);
  }
  const meanEntry = lookup(metadata, ['mean', 'imagemean', 'normmean', 'normalizemean', 'pixelmean']);
  const stdEntry = lookup(metadata, ['std', 'imagestd', 'normstd', 'normalizestd', 'pixelstd']);
  const mean = triple(meanEntry?.value);
  const std = triple(stdEntry?.value);
  if (mean || std) {
    // Normalisations written for pixels in 0..1 (torchvision's) have every number at most 1.
    const unit = [...(mean ?? []), ...(std ?? [])].every((v) => Math.abs(v) <= 1);
    const k = unit ? 255 : 1;
    if (mean) p = { ...p, mean: [mean[0] * k, mean[1] * k, mean[2] * k] };
    if (std && std.every((v) => v !== 0)) p = { ...p, scale: [1 / (std[0] * k), 1 / (std[1] * k), 1 / (std[2] * k)] };
    else if (mean && !std && unit) p = { ...p, scale: [1 / 255, 1 / 255, 1 / 255] };
    const said = [meanEntry && `${meanEntry.key} = ${meanEntry.value}`, stdEntry && `${stdEntry.key} = ${stdEntry.value}`].filter(Boolean).join(', ');
    notes.push(`metadata ${said}${unit ? ' (in 0..1 pixels, times 255)' : ''}`);
  }
  return { preprocess: p, notes };
}
