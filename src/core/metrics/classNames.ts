import { QbenchError } from '../errors';

/**
 * The names of a model's classes, to show beside the indices in the outputs viewer (issue #11: "both
 * top-5 lists with labels when known"). Line k of a text file names class k: ImageNet's
 * synset_words.txt ("n01440764 tench, Tinca tinca"), COCO's coco.names, a labels.txt. JSON is read
 * too: an array of names, or an object from class index to a name or to [id, name] (PyTorch's
 * imagenet_class_index.json: {"0": ["n01440764", "tench"]}).
 *
 * @example parseClassNames('cat\ndog\n', 'names.txt') // ['cat', 'dog']
 */
export function parseClassNames(text: string, fileName: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return jsonClassNames(trimmed, fileName);
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  // Only the trailing blank lines go: a blank line inside keeps its class's place (it has no name).
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  if (lines.length === 0) throw new QbenchError(`${fileName}: no class names in the file (expected one name per line, line k naming class k)`);
  return lines;
}

function jsonClassNames(text: string, fileName: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new QbenchError(`${fileName}: not valid JSON (${(error as Error).message})`);
  }
  const nameOf = (entry: unknown): string | null =>
    typeof entry === 'string' ? entry : Array.isArray(entry) && typeof entry[entry.length - 1] === 'string' ? entry[entry.length - 1] : null;
  const names: string[] = [];
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : value && typeof value === 'object' ? Object.entries(value) : [];
  for (const [key, entry] of entries) {
    const index = Number(key);
    const name = nameOf(entry);
    if (!Number.isInteger(index) || index < 0 || name === null) throw new QbenchError(`${fileName}: entry "${key}" is not a class index with a name (expected ["name", ...] or {"<index>": "name" or [id, "name"]})`);
    names[index] = name;
  }
  if (names.length === 0) throw new QbenchError(`${fileName}: no class names in the file`);
  return Array.from(names, (n) => n ?? '');
}

/**
 * The class names the samples' class folders give (`tench/001.jpg`), numbered as labelsFromFolders
 * numbers them (sorted names from 0); null when the samples have no class folders or the folders are
 * class indices already (they name nothing).
 */
export function folderClassNames(sampleNames: readonly string[]): string[] | null {
  const folders = sampleNames.map((n) => n.split(/[\\/]/).slice(-2, -1)[0]);
  if (folders.length === 0 || folders.some((f) => f === undefined)) return null;
  const names = [...new Set(folders as string[])].sort();
  return names.every((f) => /^\d+$/.test(f)) ? null : names;
}
