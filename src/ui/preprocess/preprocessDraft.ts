import { imageInputShape } from '../../core/io/dataset/images';
import type { ImagePreprocess, ResizeMode } from '../../core/io/dataset/ImagePreprocess';
import { padValueOf, resizeModeOf } from '../../core/io/dataset/ImagePreprocess';
import type { ValueDesc } from '../../core/model/ModelGraph';
import { errorMessage } from '../../core/errors';

/** The preprocessing form as typed: text where the user types, choices where they pick. */
export interface PreprocessDraft {
  readonly mean: string;
  readonly scale: string;
  readonly pixelFormat: ImagePreprocess['pixelFormat'];
  readonly layout: ImagePreprocess['layout'];
  readonly resizeMode: ResizeMode;
  readonly inputSize: string;
  readonly resizeDims: string;
  readonly padValue: string;
}

export type DraftField = keyof PreprocessDraft;

/** The draft read: the preprocessing when every field is right, else what each wrong field needs. */
export type DraftReading =
  | { readonly ok: true; readonly preprocess: ImagePreprocess; readonly problems: Partial<Record<DraftField, string>> }
  | { readonly ok: false; readonly problems: Partial<Record<DraftField, string>> };

export function toDraft(p: ImagePreprocess): PreprocessDraft {
  const mode = resizeModeOf(p);
  return {
    mean: p.mean.map((v) => +v.toPrecision(6)).join(','), scale: p.scale.map((v) => +v.toPrecision(6)).join(','),
    pixelFormat: p.pixelFormat, layout: p.layout, resizeMode: mode,
    inputSize: p.inputSize ? p.inputSize.join(',') : '', resizeDims: p.resizeDims ? p.resizeDims.join(',') : '',
    padValue: mode === 'letterbox' || mode === 'keep_aspect_pad' ? String(padValueOf(p)) : '',
  };
}

const numbersIn = (text: string) => text.split(',').map((s) => s.trim()).filter((s, i, all) => s !== '' || all.length > 1).map((s) => (s === '' ? NaN : Number(s)));

/** Three numbers, or one for every channel. */
function readTriple(text: string): [number, number, number] | null {
  const values = numbersIn(text);
  if (!values.every(Number.isFinite)) return null;
  if (values.length === 1) return [values[0], values[0], values[0]];
  return values.length === 3 ? [values[0], values[1], values[2]] : null;
}

function readPair(text: string): [number, number] | null {
  const values = numbersIn(text);
  return values.length === 2 && values.every((n) => Number.isInteger(n) && n > 0) ? [values[0], values[1]] : null;
}

const ORDER = { rgb: 'R, G, B', bgr: 'B, G, R', gray: 'the grey channel (one number)' } as const;

/**
 * Reads the form for a model input `input` (null: none open). Each wrong field gets one sentence
 * saying what it wants (the form shows it under the field): a mean of "127" is every channel's,
 * "127,127" is two numbers for three channels.
 */
export function readDraft(draft: PreprocessDraft, input: ValueDesc | null): DraftReading {
  const problems: Partial<Record<DraftField, string>> = {};
  const order = ORDER[draft.pixelFormat];
  const mean = readTriple(draft.mean);
  if (!mean) problems.mean = `Three numbers separated by commas, in ${order} order (e.g. 123.675,116.28,103.53), or one number for every channel.`;
  const scale = readTriple(draft.scale);
  if (!scale) problems.scale = `Three numbers separated by commas, in ${order} order (value = (pixel − mean) × scale, e.g. 0.0171,0.0175,0.0174 or 1/255 = 0.00392157), or one number for every channel.`;
  else if (scale.some((v) => v === 0)) problems.scale = 'A scale of 0 makes every value 0: give each channel a number other than 0 (1 keeps pixels as they are).';
  const inputSize = draft.inputSize.trim() ? readPair(draft.inputSize) : null;
  if (draft.inputSize.trim() && !inputSize) problems.inputSize = 'Two whole numbers above 0, height then width (e.g. 320,320), or empty to take the model\'s.';
  const resizeDims = draft.resizeMode === 'crop' && draft.resizeDims.trim() ? readPair(draft.resizeDims) : null;
  if (draft.resizeMode === 'crop' && draft.resizeDims.trim() && !resizeDims) problems.resizeDims = 'Two whole numbers above 0, height then width, to resize to before the centre crop (e.g. 256,256), or empty to keep the aspect until the shorter side fits.';
  const padded = draft.resizeMode === 'letterbox' || draft.resizeMode === 'keep_aspect_pad';
  const padValue = padded ? Number(draft.padValue.trim() === '' ? NaN : draft.padValue) : undefined;
  if (padded && !(padValue! >= 0 && padValue! <= 255)) problems.padValue = 'A pixel value from 0 to 255 for the padding (YOLO: 114; 127.5 pads with 0 after (x − 127.5) / 127.5).';
  if (!mean || !scale || Object.keys(problems).length > 0) return { ok: false, problems };

  const preprocess: ImagePreprocess = {
    mean, scale, inputSize, resizeDims, pixelFormat: draft.pixelFormat, layout: draft.layout, resizeMode: draft.resizeMode,
    ...(padded ? { padValue } : {}),
  };
  if (input) {
    // The shape check images get when read, said here: a wrong layout or channel count, a dynamic size with no input size.
    try {
      imageInputShape(input, preprocess);
    } catch (error) {
      const text = errorMessage(error);
      const field: DraftField = /dynamic size|input size/.test(text) ? 'inputSize' : /pixel format/.test(text) && !/set the layout/.test(text) ? 'pixelFormat' : 'layout';
      problems[field] = text.replace(/\s*\(--input_size H,W\)/, '');
      return { ok: false, problems };
    }
  }
  return { ok: true, preprocess, problems };
}
