import { useEffect, useRef, useState } from 'react';
import { openFiles } from '../state/actions';

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
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length) void openFiles(files);
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
  return active ? <div className="drop-overlay" data-testid="drop-overlay">Drop an .onnx model and/or calibration data (.npy, .npz, .h5, images)</div> : null;
}

/** A button that opens the file picker. */
export function PickFiles({ label, accept, multiple, testId, className }: { label: string; accept: string; multiple?: boolean; testId: string; className?: string }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button className={className ?? 'btn'} onClick={() => input.current?.click()}>{label}</button>
      <input
        ref={input}
        type="file"
        accept={accept}
        multiple={multiple}
        hidden
        data-testid={testId}
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          if (files.length) void openFiles(files);
        }}
      />
    </>
  );
}
