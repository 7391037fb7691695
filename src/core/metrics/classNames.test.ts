import { describe, expect, it } from 'vitest';
import { folderClassNames, parseClassNames } from './classNames';
import { labelsFromFolders } from './outputScoring';

describe('class names', () => {
  it('a text file names class k on line k (ImageNet synset_words, coco.names); a blank line inside keeps its place', () => {
    expect(parseClassNames('n01440764 tench, Tinca tinca\r\nn01443537 goldfish\n\n', 'synset_words.txt')).toEqual(['n01440764 tench, Tinca tinca', 'n01443537 goldfish']);
    expect(parseClassNames('person\n\ncar\n', 'coco.names')).toEqual(['person', '', 'car']);
    expect(() => parseClassNames('\n\n', 'empty.txt')).toThrow(/empty\.txt: no class names/);
  });

  it('JSON: an array, or PyTorch\'s imagenet_class_index.json ({"0": ["n01440764", "tench"]})', () => {
    expect(parseClassNames('["cat", "dog"]', 'names.json')).toEqual(['cat', 'dog']);
    expect(parseClassNames('{"1": ["n01443537", "goldfish"], "0": ["n01440764", "tench"]}', 'imagenet_class_index.json')).toEqual(['tench', 'goldfish']);
    expect(parseClassNames('{"0": "a", "2": "c"}', 'sparse.json')).toEqual(['a', '', 'c']);
    expect(() => parseClassNames('{"x": "a"}', 'bad.json')).toThrow(/bad\.json: entry "x"/);
    expect(() => parseClassNames('[1, 2', 'broken.json')).toThrow(/broken\.json: not valid JSON/);
  });

  it('class folders name the classes in the order labelsFromFolders numbers them; index folders name nothing', () => {
    const samples = ['pets/dog/1.jpg', 'pets/cat/2.jpg', 'pets/fish/3.jpg', 'pets/cat/4.jpg'];
    const names = folderClassNames(samples)!;
    expect(names).toEqual(['cat', 'dog', 'fish']);
    const labels = labelsFromFolders(samples)!;
    for (const sample of samples) expect(names[labels.get(sample)!]).toBe(sample.split('/')[1]);
    expect(folderClassNames(['0/a.jpg', '1/b.jpg'])).toBeNull();
    expect(folderClassNames(['a.jpg', 'cat/b.jpg'])).toBeNull();
  });
});
