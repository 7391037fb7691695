/**
 * The name a data file takes as a sample name: its path inside the folder it came in
 * (`tench/001.jpg`), so that class folders can become labels (*Use folder names as labels*, like
 * `qbench --labels folders`), or its bare name when it came alone. A folder picked with the
 * directory picker carries the path itself (webkitRelativePath); a dropped one is walked
 * (ui/droppedFiles.ts), and the paths it finds are kept here, since a File's name cannot hold one.
 */

const paths = new WeakMap<File, string>();

/** Records where a file sat in a dropped folder ("imagenet/tench/001.jpg"); returns the file. */
export function withPath(file: File, path: string): File {
  paths.set(file, path.replace(/^\/+/, ''));
  return file;
}

export function dataFileName(file: File): string {
  return paths.get(file) || file.webkitRelativePath || file.name;
}
