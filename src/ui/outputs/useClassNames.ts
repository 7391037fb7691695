import { useMemo } from 'react';
import { folderClassNames } from '../../core/metrics/classNames';
import { useApp } from '../../state/store';

/**
 * The names the viewer shows beside class indices: the class-names file the user gave, else the
 * class folders when they are the labels (the folder names, numbered as the labels number them);
 * undefined when neither says.
 */
export function useClassNames(): readonly string[] | undefined {
  const fromFile = useApp((s) => s.classNames?.names);
  const fromFolders = useApp((s) => s.sources.labels?.folders === true);
  const sampleNames = useApp((s) => s.dataset?.sampleNames);
  return useMemo(() => fromFile ?? (fromFolders && sampleNames ? folderClassNames(sampleNames) ?? undefined : undefined), [fromFile, fromFolders, sampleNames]);
}
