import { useEffect, useState } from 'react';
import { errorMessage } from '../../core/errors';
import type { Evaluation } from '../../core/model/Evaluation';
import { qtableFromData } from '../../core/model/QTable';
import type { SampleOutputs } from '../../core/sim/sampleView/SampleOutputs';
import { sampleOutputs } from '../../state/queries';

export interface ShownSample {
  /** The last answer (kept on screen while the next one is computed). */
  readonly view: SampleOutputs | null;
  readonly error: string | null;
  /** The answer on screen is for another sample or an older evaluation. */
  readonly stale: boolean;
}

interface Answer {
  readonly view: SampleOutputs | null;
  readonly error: string | null;
  readonly evaluation: Evaluation;
  readonly index: number;
}

/**
 * Sample `index` read by the worker under the QTable of the latest output evaluation: asked again
 * when the sample changes and after each evaluation (an edit of the QTable, new calibration), so
 * the quantized side always shows the model the header's figure measured.
 */
export function useSampleOutputs(evaluation: Evaluation | null, index: number, channelOrder: 'rgb' | 'bgr'): ShownSample {
  const [answer, setAnswer] = useState<Answer | null>(null);
  useEffect(() => {
    if (!evaluation) return;
    let live = true;
    sampleOutputs(qtableFromData(evaluation.qtable), index, channelOrder)
      .then((view) => live && setAnswer({ view, error: null, evaluation, index }))
      .catch((error) => live && setAnswer((previous) => ({ view: previous?.view ?? null, error: errorMessage(error), evaluation, index })));
    return () => {
      live = false;
    };
  }, [evaluation, index, channelOrder]);
  return { view: answer?.view ?? null, error: answer?.error ?? null, stale: !answer || answer.evaluation !== evaluation || answer.index !== index };
}
