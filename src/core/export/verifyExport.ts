import type { Engine } from '../engine/Engine';
import { sessionError } from '../engine/engineErrors';
import type { Dataset } from '../io/dataset/Dataset';
import type { JobContext } from '../jobs/Job';
import type { ErrorMetrics } from '../metrics/similarity';
import { compareOutputs, NO_SCORING, type OutputScoring, type OutputSample } from '../metrics/outputParts';
import { outputFigures, type OutputFigures } from '../metrics/outputFigures';
import type { TaskFigures } from '../metrics/taskMetrics';
import type { QuantWarning } from '../metrics/collapseWarnings';
import { float16BitsToFloat32 } from '../model/float16';
import { toFloat32, type TensorMap } from '../model/tensor';

export interface ExportVerification {
  /** Output error the workbench predicted for this QTable. */
  readonly predicted: ErrorMetrics;
  /** Output error of the written file, loaded fresh in the engine and run on the same samples. */
  readonly measured: ErrorMetrics;
  readonly sampleCount: number;
  readonly engine: string;
  /** The task outputs' figures, predicted and measured on the written file (issue #11). */
  readonly tasks?: { readonly predicted: Readonly<Record<string, TaskFigures>>; readonly measured: Readonly<Record<string, TaskFigures>> };
  /** What the figures say is broken in the written model (a lost part, a task off a cliff): "verified" never hides it. */
  readonly warnings?: readonly QuantWarning[];
}

/**
 * Loads exported model bytes in a new session, runs the evaluation samples and measures the
 * output error against the float reference: the check that the file does what the workbench
 * said it would (docs/formats.md: "that agreement is a test, not a hope").
 */
export async function measureExportedModel(engine: Engine, bytes: Uint8Array, fileName: string, samples: Dataset, floatOutputs: readonly TensorMap[], job: JobContext, scoring: OutputScoring = NO_SCORING): Promise<OutputFigures> {
  let session;
  try {
    session = await engine.createSession(bytes, { modelName: fileName });
  } catch (error) {
    throw sessionError(error, fileName);
  }
  try {
    // Scored as the evaluation scores (outputFigures): the worst output or part, so measured and predicted compare.
    const perSample: OutputSample[] = [];
    const outputs = Object.keys(floatOutputs[0] ?? {});
    for (let i = 0; i < samples.samples.length; i++) {
      job.throwIfCancelled();
      job.progress({ stage: 'verifying export', done: i, total: samples.samples.length });
      const result = await session.run(samples.samples[i]);
      perSample.push(compareOutputs(floatOutputs[i], (name) => (result[name] ? toFloat32(result[name], float16BitsToFloat32) : undefined), outputs, scoring, i));
    }
    return outputFigures(perSample, outputs, scoring.parts);
  } finally {
    await session.dispose();
  }
}
