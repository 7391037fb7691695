import { useMemo } from 'react';
import { figureBasis, type FigureBasis } from '../state/figureBasis';
import { useApp } from '../state/store';

/** What the page would measure under now (one object per change of what it depends on). */
export function useFigureBasis(): FigureBasis {
  const tensorOverrides = useApp((s) => s.tensorOverrides);
  const calibration = useApp((s) => s.calibration);
  const scheme = useApp((s) => s.scheme);
  const weightOptions = useApp((s) => s.weightOptions);
  return useMemo(() => figureBasis({ tensorOverrides, calibration, scheme, weightOptions }), [tensorOverrides, calibration, scheme, weightOptions]);
}
