import { useEffect, useRef, useState } from 'react';
import { openFiles } from '../state/actions';
import { applyPendingSession, openSessionFile } from '../state/session/sessionFile';
import { confirmReplace } from './dialogs/confirm';
import { droppedFiles } from './droppedFiles';

const MODEL_FILE = /\.(onnx|tflite|circle)$/i;

const SESSION_FILE = /\.qbench$/i;

/**
 * Opens what was dropped or picked, asking first when a model would replace unsaved edits. A
 * .qbench among them is opened last, over the model and data dropped with it; a model alone may be
 * the one a session file opened earlier waits for.
 */
async function openConfirmed(files: readonly File[]): Promise<void> {
  const model = files.find((f) => MODEL_FILE.test(f.name));
  if (model && !(await confirmReplace(`Opening ${model.name}`))) return;
  const session = files.find((f) => SESSION_FILE.test(f.name));
  const rest = files.filter((f) => !SESSION_FILE.test(f.name));
  if (rest.length) await openFiles(rest);
  if (session) await openSessionFile(session);
  else if (model) await applyPendingSession();
}

export const DATA_ACCEPT = '.npy,.npz,.h5,.hdf5,.jpg,.jpeg,.png,.bmp,.webp';

/** A drop target over the whole window: an .onnx opens as the model, other files become data. */
export function WindowDrop() {
  const [active, setActive] = useState(false);
  useEffect(() => {
    let depth = 0;
    const enter = (e: DragEvent) => { if (e.dataTransfer?.types.includes('Files')) { depth++; setActive(true); e.preventDefault(); } };
    const leave = () => { depth = Math.max(0, depth - 1); if (depth === 0) setActive(false); };
    const over = (e: DragEvent) => e.preventDefault();
    const drop = (e: DragEvent) => {
      e.preventDefault();
      depth = 0;
      setActive(false);
      if (!e.dataTransfer) return;
      void droppedFiles(e.dataTransfer).then((files) => (files.length ? openConfirmed(files) : undefined));
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);
  return active ? <div className="drop-overlay" data-testid="drop-overlay">Drop an .onnx model and/or calibration data (.npy, .npz, .h5, images), or a .qbench session</div> : null;
}

/**
 * A button that opens the file picker; `directory`: a folder picker, every file inside it taken
 * with its path in the folder (class folders can then become labels).
 */
export function PickFiles({ label, accept, multiple, directory, testId, className, title }: { label: string; accept: string; multiple?: boolean; directory?: boolean; testId: string; className?: string; title?: string }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button className={className ?? 'btn'} onClick={() => input.current?.click()} title={title}>{label}</button>
      <input
        ref={input}
        type="file"
        accept={accept}
        multiple={multiple}
        {...(directory ? { webkitdirectory: '' } : {})}
        hidden
        data-testid={testId}
        onChange={(e) => {
          // a folder's hidden files (.DS_Store) are no one's data
          const files = [...(e.target.files ?? [])].filter((f) => !directory || !f.name.startsWith('.'));
          e.target.value = '';
          if (files.length) void openConfirmed(files);
        }}
      />
    </>
  );
}
