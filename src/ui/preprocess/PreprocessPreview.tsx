import { useEffect, useRef, useState } from 'react';
import type { ImagePreprocess } from '../../core/io/dataset/ImagePreprocess';
import type { PreprocessPreview as Preview } from '../../core/io/dataset/preview';
import { loadPreview } from '../../state/preprocessActions';
import { previewSource } from '../../state/preprocessGate';
import { useApp } from '../../state/store';

/** Waits this long after the last keystroke before asking the worker (each preview decodes an image). */
const DEBOUNCE_MS = 200;
const SHOWN_HEIGHT = 150;

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(3));

function Picture({ preview }: { preview: Preview }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const context = ref.current?.getContext('2d');
    if (!context) return;
    const pixels = new ImageData(preview.picture.width, preview.picture.height);
    pixels.data.set(preview.picture.data);
    context.putImageData(pixels, 0, 0);
  }, [preview]);
  const { width, height } = preview.picture;
  const { top, left, height: h, width: w } = preview.content;
  return (
    <canvas ref={ref} width={width} height={height} role="img" data-testid="preprocess-preview-image"
      data-content={`${top},${left},${h},${w}`} aria-label={`the image as the model receives it: ${width}×${height}`}
      style={{ height: SHOWN_HEIGHT, width: Math.round((SHOWN_HEIGHT * width) / height) }} />
  );
}

/**
 * One image as the model receives it under the form's preprocessing (not yet applied): the picture
 * after resize, crop or padding, and the value range of each channel of the tensor. The worker
 * makes it with the code that reads images for calibration, so what is shown is what is fed.
 */
export function PreprocessPreview({ preprocess }: { preprocess: ImagePreprocess | null }) {
  const source = useApp(previewSource);
  const [state, setState] = useState<{ preview: Preview & { sampleName: string } } | { error: string } | null>(null);
  const key = preprocess && JSON.stringify(preprocess);
  useEffect(() => {
    if (!source || !preprocess) return;
    let live = true;
    const timer = setTimeout(() => {
      void loadPreview(source, preprocess).then((result) => live && setState(result));
    }, DEBOUNCE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // The preprocessing by value: the form makes a new object each render.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [source, key]);

  if (!source) return <div className="preprocess-preview muted" data-testid="preprocess-preview">Add images to see one here as the model receives it.</div>;
  return (
    <div className="preprocess-preview" data-testid="preprocess-preview">
      <h4>As the model receives it</h4>
      {state && 'error' in state && <p className="field-problem" data-testid="preprocess-preview-error">{state.error}</p>}
      {state && 'preview' in state && (
        <>
          <Picture preview={state.preview} />
          <p className="muted">{state.preview.sampleName} → [{state.preview.dims.join('×')}]{preprocess ? '' : ' (last valid settings)'}</p>
          <table className="channel-ranges">
            <thead><tr><th>channel</th><th>min</th><th>max</th><th>mean</th></tr></thead>
            <tbody>
              {state.preview.channels.map((c) => (
                <tr key={c.name} data-testid="preview-range" data-channel={c.name} data-min={c.min} data-max={c.max}>
                  <td>{c.name}</td><td>{fmt(c.min)}</td><td>{fmt(c.max)}</td><td>{fmt(c.mean)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
