import type { OutputFile } from '../state/actions';

/** Offers a file to the user: the browser's download of a blob (the state layer only makes the file). */
export function download(file: OutputFile | undefined): void {
  if (!file) return;
  const blob = new Blob([file.data as BlobPart], { type: file.type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = file.fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
