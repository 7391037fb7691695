import type { LayerName } from '../core/model/ModelGraph';
import { qtableFromData, sameQTable } from '../core/model/QTable';
import { cancelJob, runJob } from './actions';
import { useApp } from './store';

/**
 * Issue #11 item 5 on the page: each full evaluation's local errors, measured by a job of their own
 * right after it (the heatmap of accumulated errors comes first), and float gains measured on demand.
 * Both jobs count as evaluations of the QTable (session slice `runningEvaluations`): the next edit
 * cancels them, as it cancels the evaluation it supersedes.
 */

const app = () => useApp.getState();

/** Float gains kept (a long session of "Measure" clicks should not grow the store without bound). */
const MAX_GAINS = 500;

/** Registers a running job as an evaluation of the current QTable; returns what unregisters it. */
function asEvaluation(id: string): () => void {
  useApp.setState((s) => ({ runningEvaluations: [...s.runningEvaluations, id] }));
  return () => useApp.setState((s) => ({ runningEvaluations: s.runningEvaluations.filter((other) => other !== id) }));
}

/** Measures the local errors of the latest full evaluation, unless it has them or they are being measured. */
export async function measureLocalErrors(): Promise<void> {
  const { layerEvaluation: evaluation, evaluationGeneration: generation } = app();
  if (!evaluation || evaluation.local || evaluation.layers.length === 0 || app().measuringLocal === evaluation) return;
  useApp.setState({ measuringLocal: evaluation });
  let done = () => {};
  try {
    const local = await runJob('evaluateLocal', { qtable: qtableFromData(evaluation.qtable) }, 'Measuring each layer alone (local error)', {
      kind: 'evaluate:local',
      started: (id) => (done = asEvaluation(id)),
    });
    // A newer evaluation (or a new calibration) made these figures another QTable's: they are dropped.
    if (local && app().layerEvaluation === evaluation && app().evaluationGeneration === generation) useApp.setState({ layerEvaluation: { ...evaluation, local } });
  } finally {
    done();
    if (app().measuringLocal === evaluation) useApp.setState({ measuringLocal: null });
  }
  if (app().layerEvaluation?.local && app().evaluationGeneration === generation) await calibrateRemainingTensors();
}

/**
 * Once a calibration's figures are all in, the tensors it left out (fused into their activation)
 * are observed in the background: the first edit that un-fuses one (a Conv set to FP32 before its
 * Relu6) would otherwise wait for that pass over the calibration samples. An edit cancels it like
 * any evaluation (and then runs the pass itself if it needs it); it is tried again after the next
 * evaluation's local errors. Once per calibration (`leftOutObservedFor`).
 */
async function calibrateRemainingTensors(): Promise<void> {
  const { calibration, evaluationGeneration: generation } = app();
  if (!calibration || app().leftOutObservedFor === calibration) return;
  let done = () => {};
  try {
    await runJob('calibrateRemaining', {}, 'Calibrating the tensors an edit may un-fuse', { kind: 'calibrate:remaining', started: (id) => (done = asEvaluation(id)) });
  } finally {
    done();
  }
  // Cancelled by an edit: tried again later. Done or failed (the message is shown): not again for this calibration.
  if (app().evaluationGeneration === generation && app().calibration === calibration) useApp.setState({ leftOutObservedFor: calibration });
}

/**
 * Starts measuring local errors whenever a full evaluation lands without them; returns what stops
 * it. The page calls it once (GraphPanel), so the job follows every way an evaluation arrives.
 */
export function watchLocalErrors(): () => void {
  return useApp.subscribe((s, previous) => {
    if (s.layerEvaluation !== previous.layerEvaluation && s.layerEvaluation && !s.layerEvaluation.local) void measureLocalErrors();
  });
}

/** The output gain of setting `layer` to FP32 under the current QTable, measured in the worker (cancellable). */
export async function measureFloatGain(layer: LayerName): Promise<void> {
  if (app().measuringGain) return;
  const { qtable, calibration } = app();
  let done = () => {};
  try {
    const gain = await runJob('measureFloatGain', { qtable, layer }, `Measuring the float gain of ${layer}`, {
      kind: 'floatGain',
      started: (id) => {
        done = asEvaluation(id);
        useApp.setState({ measuringGain: { layer, jobId: id } });
      },
    });
    if (gain && app().calibration === calibration) {
      const measured = { ...gain, calibration };
      useApp.setState((s) => ({ floatGains: [...s.floatGains.filter((g) => g.layer !== layer || !sameQTable(qtableFromData(g.qtable), qtable)).slice(1 - MAX_GAINS), measured] }));
    }
  } finally {
    done();
    useApp.setState({ measuringGain: null });
  }
}

export function cancelFloatGain(): void {
  const measuring = app().measuringGain;
  if (measuring) cancelJob(measuring.jobId);
}
