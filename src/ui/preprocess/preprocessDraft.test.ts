import { describe, expect, it } from 'vitest';
import { DEMO_PREPROCESS } from '../../demo/preprocess';
import { readDraft, toDraft } from './preprocessDraft';

const nchw = { name: 'x', dtype: 'float32' as const, dims: [1, 3, 64, 64] };
const draft = toDraft({ ...DEMO_PREPROCESS, inputSize: null });

describe('readDraft: each wrong field says what it wants', () => {
  it('a single mean is every channel\'s (the "127" that used to be refused without a word)', () => {
    const reading = readDraft({ ...draft, mean: '127' }, nchw);
    expect(reading.ok && reading.preprocess.mean).toEqual([127, 127, 127]);
  });

  it('two numbers, a stray comma or text: the mean and scale say three numbers in the pixel format\'s order', () => {
    expect(readDraft({ ...draft, mean: '127,127' }, nchw).problems.mean).toBe('Three numbers separated by commas, in B, G, R order (e.g. 123.675,116.28,103.53), or one number for every channel.');
    expect(readDraft({ ...draft, scale: 'abc' }, nchw).problems.scale).toMatch(/^Three numbers separated by commas, in B, G, R order/);
    expect(readDraft({ ...draft, scale: '0' }, nchw).problems.scale).toMatch(/^A scale of 0 makes every value 0/);
  });

  it('sizes and the pad value say their form; a dynamic model needs an input size', () => {
    expect(readDraft({ ...draft, inputSize: '320' }, nchw).problems.inputSize).toMatch(/^Two whole numbers above 0, height then width/);
    expect(readDraft({ ...draft, resizeMode: 'crop', resizeDims: '256,x' }, nchw).problems.resizeDims).toMatch(/^Two whole numbers above 0/);
    expect(readDraft({ ...draft, resizeMode: 'letterbox', padValue: '300' }, nchw).problems.padValue).toMatch(/^A pixel value from 0 to 255/);
    const dynamic = readDraft(draft, { name: 'x', dtype: 'float32', dims: [null, 3, null, null] });
    expect(dynamic.problems.inputSize).toBe('input "x" has a dynamic size; set the input size in the preprocessing form');
  });

  it('a layout that does not fit the input is said on the layout', () => {
    expect(readDraft({ ...draft, layout: 'nhwc' }, nchw).problems.layout).toMatch(/set the layout to nchw/);
  });

  it('a right draft gives the preprocessing, the pad value only where it pads', () => {
    const reading = readDraft({ ...draft, resizeMode: 'letterbox', padValue: '114' }, nchw);
    expect(reading.ok && reading.preprocess).toMatchObject({ resizeMode: 'letterbox', padValue: 114, pixelFormat: 'bgr' });
    const stretched = readDraft(draft, nchw);
    expect(stretched.ok && 'padValue' in stretched.preprocess).toBe(false);
  });
});
