import { describe, expect, it } from 'vitest';
import { QbenchError } from '../errors';
import { labelsFromFolders, parseLabels, rangeParts, sampleLabels } from './outputScoring';

describe('labels (issue #11)', () => {
  it('a labels file: "<sample> <class>" per line, or the class alone in the samples\' order; a bad line is named', () => {
    expect([...parseLabels('# comment\na.jpg 3\nb c.jpg\t7\n', [], 'l.txt')]).toEqual([['a.jpg', 3], ['b c.jpg', 7]]);
    expect([...parseLabels('1\n0\n', ['x.png', 'y.png'], 'l.txt')]).toEqual([['x.png', 1], ['y.png', 0]]);
    expect(() => parseLabels('a.jpg cat\n', [], 'l.txt')).toThrow(new QbenchError('l.txt, line 1: "a.jpg cat" does not end with a class index (a whole number >= 0)'));
    expect(() => parseLabels('4\n', [], 'l.txt')).toThrow(/only 0 samples/);
  });

  it('class folders: numeric names are the indices; other names are numbered in sorted order (ImageFolder)', () => {
    expect([...labelsFromFolders(['data/1/a.jpg', 'data/0/b.jpg'])!]).toEqual([['data/1/a.jpg', 1], ['data/0/b.jpg', 0]]);
    expect([...labelsFromFolders(['dog/a.jpg', 'cat/b.jpg'])!]).toEqual([['dog/a.jpg', 1], ['cat/b.jpg', 0]]);
    expect(labelsFromFolders(['a.jpg'])).toBeNull();
    // a sample is found by its name as given or by its file name alone
    expect(sampleLabels(['cls/a.jpg', 'b.jpg', 'c.jpg'], new Map([['a.jpg', 2], ['b.jpg', 0]]))).toEqual([2, 0, null]);
  });
});

describe('range parts (issue #11)', () => {
  it('splits the channel axis where magnitudes lie 100x apart, never a spatial axis', () => {
    // [1, 6, 40] (YOLO-like, 40 anchors): channels 0-3 in pixels, 4-5 probabilities
    const data = Float32Array.from({ length: 240 }, (_, i) => (Math.floor(i / 40) < 4 ? 300 + i : 0.5));
    const parts = rangeParts('y', [{ y: { dtype: 'float32', dims: [1, 6, 40], data } }]);
    expect(parts.map((p) => [p.axis, p.start, p.end])).toEqual([[1, 0, 4], [1, 4, 6]]);
    // a map [1, 1, 16, 16] whose rows differ wildly: spatial, not split
    const map = Float32Array.from({ length: 256 }, (_, i) => (i < 128 ? 1000 : 0.001));
    expect(rangeParts('m', [{ m: { dtype: 'float32', dims: [1, 1, 16, 16], data: map } }])).toEqual([]);
  });
});
