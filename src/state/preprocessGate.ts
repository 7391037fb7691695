import type { FileSource } from '../../workers/client';
import { preprocessForModel } from '../core/io/dataset/modelPreprocess';
import type { ModelGraph } from '../core/model/ModelGraph';
import { useApp } from './store';

/**
 * Preprocessing belongs to the model (issue #13): opening a model sets it to what the model says,
 * and images wait for the user to confirm it before they calibrate (a face detector calibrated with
 * the previous model's BGR mean gave a fine-looking figure on wrong inputs). Arrays (.npy, .npz,
 * .h5) are the tensors themselves and never wait.
 */

const app = () => useApp.getState();

const IMAGE_FILE = /\.(jpe?g|png|bmp|webp)$/i;

/** How the model being opened relates to the preprocessing in use. */
export type OpenKind = 'new' | 'same-model' | 'restoring';

/**
 * A model opened: a new one gets the preprocessing it says (confirmation pending); the same model
 * opened as float keeps the one in use; a session being built again brings its own, confirmed
 * when it was saved (session/restore.ts sets it before opening).
 */
export function preprocessOnOpen(graph: ModelGraph, kind: OpenKind): void {
  const told = preprocessForModel(graph.inputs[0], graph.metadata);
  if (kind === 'new') useApp.setState({ modelPreprocess: told, preprocess: told.preprocess, preprocessConfirmed: false, pendingImages: null });
  else if (kind === 'restoring') useApp.setState({ modelPreprocess: told, preprocessConfirmed: true, pendingImages: null });
  else useApp.setState({ modelPreprocess: told });
}

/**
 * True when `sources` hold images and the open model's preprocessing is not confirmed: they are
 * read (so a bad file is said at once) but kept from calibration until "Confirm preprocessing and
 * calibrate", which reads them again with what was confirmed; the Data tab opens on the form.
 */
export function holdForConfirmation(sources: readonly FileSource[]): boolean {
  if (app().preprocessConfirmed || !sources.some((s) => IMAGE_FILE.test(s.name))) return false;
  useApp.setState({ pendingImages: [...sources], bottomTab: 'data' });
  return true;
}

/** The first image the preview can show: one waiting for confirmation, else one of the data in use. */
export function previewSource(s: { pendingImages: readonly FileSource[] | null; sources: { data: readonly FileSource[] | null } }): FileSource | null {
  return (s.pendingImages ?? s.sources.data ?? []).find((f) => IMAGE_FILE.test(f.name)) ?? null;
}
