import type { Dataset } from '../io/dataset/Dataset';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import type { JobContext } from '../jobs/Job';
import type { Engine } from './Engine';
import { openSession } from './openSession';

/**
 * Time of plain float inference over some samples (the baseline calibration and searches are
 * compared with): one session, one warm-up run, then every sample.
 */
export async function timeFloatInference(engine: Engine, model: OnnxModel, samples: Dataset, job: JobContext): Promise<{ samples: number; perSampleMs: number }> {
  const count = samples.samples.length;
  const session = await openSession(engine, model.encode(), model.fileName);
  try {
    await session.run(samples.samples[0]);
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      job.throwIfCancelled();
      job.progress({ stage: 'float inference', done: i, total: count });
      await session.run(samples.samples[i]);
    }
    return { samples: count, perSampleMs: (performance.now() - started) / count };
  } finally {
    await session.dispose();
  }
}
