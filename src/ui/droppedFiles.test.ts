import { describe, expect, it } from 'vitest';
import { dataFileName } from '../state/dataFileNames';
import { droppedFiles } from './droppedFiles';

/** A fake of the entries API: a folder lists its children in batches of two, as Chromium does in batches of 100. */
function entry(fullPath: string, children?: FileSystemEntry[]): FileSystemEntry {
  const name = fullPath.split('/').pop()!;
  if (!children) return { name, fullPath, isFile: true, isDirectory: false, file: (resolve: (f: File) => void) => resolve(new File(['x'], name)) } as unknown as FileSystemEntry;
  return {
    name, fullPath, isFile: false, isDirectory: true,
    createReader: () => {
      let at = 0;
      return { readEntries: (resolve: (batch: FileSystemEntry[]) => void) => resolve(children.slice(at, (at += 2))) };
    },
  } as unknown as FileSystemEntry;
}

const transfer = (entries: FileSystemEntry[], files: File[] = []) =>
  ({ items: entries.map((e) => ({ kind: 'file', webkitGetAsEntry: () => e })), files }) as unknown as DataTransfer;

describe('droppedFiles', () => {
  it('a dropped folder of class folders gives every file with its path, hidden files left out', async () => {
    const pets = entry('/pets', [
      entry('/pets/cat', [entry('/pets/cat/1.jpg'), entry('/pets/cat/2.jpg'), entry('/pets/cat/.DS_Store')]),
      entry('/pets/dog', [entry('/pets/dog/3.jpg')]),
    ]);
    const files = await droppedFiles(transfer([pets]));
    expect(files.map(dataFileName)).toEqual(['pets/cat/1.jpg', 'pets/cat/2.jpg', 'pets/dog/3.jpg']);
  });

  it('plain files dropped keep their names', async () => {
    const file = new File(['x'], 'a.npy');
    const files = await droppedFiles(transfer([entry('/a.npy')], [file]));
    expect(files).toEqual([file]);
    expect(dataFileName(file)).toBe('a.npy');
  });
});
