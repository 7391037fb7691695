import { errorMessage } from '../core/errors';
import { parseClassNames } from '../core/metrics/classNames';
import { useApp } from './store';

/**
 * Reads a class-names file (one name per line, line k naming class k; or JSON, classNames.ts) for
 * the outputs viewer; null forgets it. The page alone needs the names (scoring reads indices), so
 * nothing goes to the worker.
 */
export async function loadClassNames(file: File | null): Promise<void> {
  const app = useApp.getState();
  if (!file) {
    app.setClassNames(null);
    return;
  }
  try {
    const names = parseClassNames(await file.text(), file.name);
    app.setClassNames({ file: file.name, names });
    app.notify('info', `${file.name}: ${names.length} class names; the Outputs tab shows them beside the class indices.`);
  } catch (error) {
    app.notify('error', errorMessage(error));
  }
}
