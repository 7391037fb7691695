import { call } from '../../workers/client';
import { errorMessage } from '../core/errors';
import type { ImagePreprocess } from '../core/io/dataset/loadDataset';
import type { PreprocessPreview } from '../core/io/dataset/preview';
import type { FileSource } from '../../workers/client';
import { loadData } from './actions';
import { useApp } from './store';

/** The preprocessing form's actions (issue #13); when images wait for them, see preprocessGate.ts. */

const app = () => useApp.getState();

/**
 * The form's Confirm / Apply: `preprocess` becomes the model's confirmed preprocessing, and the
 * data waiting (or the data in use) is read with it and calibrated.
 */
export async function confirmPreprocess(preprocess: ImagePreprocess): Promise<void> {
  const pending = app().pendingImages;
  app().setPreprocess(preprocess);
  useApp.setState({ pendingImages: null });
  const data = pending ?? app().sources.data;
  if (data) await loadData([...data], preprocess);
}

/** One image as the open model would receive it under `preprocess`, or why it cannot be made. */
export async function loadPreview(source: FileSource, preprocess: ImagePreprocess): Promise<{ preview: PreprocessPreview & { sampleName: string } } | { error: string }> {
  try {
    return { preview: await call('previewPreprocess', { source, preprocess, limits: app().limits }) };
  } catch (error) {
    return { error: errorMessage(error) };
  }
}
