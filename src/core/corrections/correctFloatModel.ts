import type { Engine } from '../engine/Engine';
import type { Dataset } from '../io/dataset/Dataset';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { silentJob, type JobContext } from '../jobs/Job';
import { equalizeCrossLayer } from './equalizeCrossLayer';
import { foldBatchNorm } from './foldBatchNorm';
import { smoothQuant } from './smoothQuant';

/** The corrections that make a new float model with the same function (README.md "Order", step 1). */
export interface FloatCorrections {
  readonly foldBatchNorm: boolean;
  readonly equalize: boolean;
  readonly smoothQuant: boolean;
}

/** What the float corrections changed: counts shown next to each toggle. */
export interface FloatCorrectionEffects {
  readonly foldedBatchNorms: number;
  readonly equalizedPairs: number;
  readonly smoothedPairs: number;
  /** Why candidates were left alone (first few), e.g. "BN bn3: its input is read by another node". */
  readonly skipped: readonly string[];
}

/**
 * BN folding, then cross-layer equalization, then SmoothQuant, in that order (folding first gives
 * equalization the BN-scaled weights it must balance). Returns `model` itself when none is on.
 */
export async function correctFloatModel(
  model: OnnxModel,
  corrections: FloatCorrections,
  engine: Engine,
  samples: Dataset,
  job: JobContext = silentJob,
): Promise<{ model: OnnxModel; effects: FloatCorrectionEffects }> {
  const skipped: string[] = [];
  let foldedBatchNorms = 0;
  let equalizedPairs = 0;
  let smoothedPairs = 0;
  if (corrections.foldBatchNorm) {
    job.progress({ stage: 'folding BatchNorm', done: 0, total: 1 });
    const folding = foldBatchNorm(model);
    model = folding.model;
    foldedBatchNorms = folding.folded.length;
    skipped.push(...folding.skipped.map((s) => `BatchNorm ${s.batchNorm}: ${s.reason}`));
  }
  if (corrections.equalize) {
    job.progress({ stage: 'cross-layer equalization', done: 0, total: 1 });
    const equalization = equalizeCrossLayer(model);
    model = equalization.model;
    equalizedPairs = equalization.pairs.length;
    skipped.push(...equalization.skipped.map((s) => `${s.first} -> ${s.second}: ${s.reason}`));
  }
  if (corrections.smoothQuant) {
    const smoothing = await smoothQuant(model, engine, samples, { job });
    model = smoothing.model;
    smoothedPairs = smoothing.pairs.length;
    skipped.push(...smoothing.skipped.map((s) => `${s.producer}: ${s.reason}`));
  }
  return { model, effects: { foldedBatchNorms, equalizedPairs, smoothedPairs, skipped: skipped.slice(0, 20) } };
}
