import { withPath } from '../state/dataFileNames';

/**
 * The files of a drop, folders walked: a folder of class folders dropped on the page gives every
 * image with its path (state/dataFileNames.ts), where `DataTransfer.files` would give the folder
 * as one unreadable entry. Must be called during the drop event: the items are gone after it.
 */
export function droppedFiles(transfer: DataTransfer): Promise<File[]> {
  const entries = [...transfer.items].map((item) => (item.kind === 'file' ? item.webkitGetAsEntry?.() ?? null : null));
  // Without the entries API (or for a drop of plain files) the file list is all there is.
  if (!entries.some((e) => e?.isDirectory)) return Promise.resolve([...transfer.files]);
  return Promise.all(entries.map((e) => (e ? walk(e) : []))).then((lists) => lists.flat());
}

async function walk(entry: FileSystemEntry): Promise<File[]> {
  // A folder's hidden files (.DS_Store, ._x.jpg) are no one's data.
  if (entry.name.startsWith('.')) return [];
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    return [withPath(file, entry.fullPath)];
  }
  const children = await readAll((entry as FileSystemDirectoryEntry).createReader());
  return (await Promise.all(children.map(walk))).flat();
}

/** Every entry of a folder: readEntries gives them in batches (100 in Chromium) until an empty one. */
async function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  const all: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}
