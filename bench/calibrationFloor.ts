/**
 * The least that exact calibration statistics can cost in Node, beside what they cost in full
 * (bench/run.ts benchCalibrationNode). Issue #3 asks KL calibration over 100 samples to cost at most
 * 1.5x 100 float inferences; this measures whether onnxruntime-node leaves room for that at all.
 * The model is run as is and with only the cheapest in-graph observation added to every tensor
 * calibration reduces (the observed tensors less those derived from another, derivedTensors.ts):
 *   - maxOnly:   one ReduceMax each (what the max method alone needs; KL needs min and max as well);
 *   - minMax:    ReduceMin and ReduceMax each (what every method needs: exact extremes);
 *   - oneRowEach: one row of each tensor (Gather of index 0 on its second-to-last axis), no reduction:
 *                the cheapest sampling there is, a few thousand values per tensor.
 * Rounds are interleaved (float, maxOnly, minMax, oneRowEach, float, ...) and medians kept: the
 * machine is noisy. Every variant returns its observations in one fetch, as the statistics pass does.
 */
import { derivedTensors } from '../src/core/calib/derivedTensors';
import { openSession } from '../src/core/engine/openSession';
import { concatFlat, extendedModel, writerOver } from '../src/core/io/onnx/graphExtension';
import type { Engine, Session } from '../src/core/engine/Engine';
import type { Dataset } from '../src/core/io/dataset/Dataset';
import { intAttr } from '../src/core/io/onnx/attributes';
import { int64VectorProto } from '../src/core/io/onnx/tensorProto';
import type { Workbench } from '../src/core/Workbench';
import { median, ratio, round } from './figures';

type Variant = 'float' | 'maxOnly' | 'minMax' | 'oneRowEach';
const VARIANTS: readonly Variant[] = ['float', 'maxOnly', 'minMax', 'oneRowEach'];

function variantModel(bench: Workbench, variant: Variant): { bytes: Uint8Array; fetches: string[] } {
  const outputs = bench.model.graph.outputs.map((o) => o.name);
  if (variant === 'float') return { bytes: bench.model.encode(), fetches: outputs };
  const writer = writerOver(bench.model);
  const tensors = reducedTensors(bench);
  const reduce = (op: 'ReduceMin' | 'ReduceMax') => concatFlat(writer, tensors.map((t) => {
    const out = writer.uniqueName(`${t}/floor_${op}`);
    writer.addNode(op, [t], [out], `${t}/floor_${op}`);
    return out;
  }), `floor_${op}`);
  const added: string[] = [];
  if (variant === 'maxOnly' || variant === 'minMax') added.push(reduce('ReduceMax'));
  if (variant === 'minMax') added.push(reduce('ReduceMin'));
  if (variant === 'oneRowEach') {
    const first = writer.addInitializer(int64VectorProto(writer.uniqueName('floor_row'), [0]));
    added.push(concatFlat(writer, tensors.map((t) => {
      const rank = bench.types.get(t)?.dims?.length ?? 0;
      const out = writer.uniqueName(`${t}/floor_row`);
      writer.addNode(rank >= 2 ? 'Gather' : 'Identity', rank >= 2 ? [t, first] : [t], [out], `${t}/floor_row`, rank >= 2 ? [intAttr('axis', rank - 2)] : []);
      return out;
    }), 'floor_rows'));
  }
  return { bytes: extendedModel(bench.model.proto, writer, added), fetches: [...outputs, ...added] };
}

/** The tensors the statistics pass reduces: the observed ones less those derived from another (derivedTensors.ts). */
function reducedTensors(bench: Workbench): string[] {
  const tensors = bench.calibratedTensors();
  const derived = derivedTensors(bench.model, tensors);
  return tensors.filter((_, i) => !derived[i]);
}

async function perSampleMs(session: Session, fetches: readonly string[], dataset: Dataset): Promise<number> {
  const started = performance.now();
  for (const sample of dataset.samples) await session.run(sample, fetches);
  return (performance.now() - started) / dataset.samples.length;
}

export async function benchCalibrationFloorNode(engine: Engine, bench: Workbench, dataset: Dataset, rounds = 5) {
  const sessions = new Map<Variant, { session: Session; fetches: string[] }>();
  try {
    for (const variant of VARIANTS) {
      const { bytes, fetches } = variantModel(bench, variant);
      const session = await openSession(engine, bytes, `${bench.model.fileName} (${variant})`);
      await session.run(dataset.samples[0], fetches);
      sessions.set(variant, { session, fetches });
    }
    const times = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
    for (let r = 0; r < rounds; r++) {
      for (const variant of VARIANTS) {
        const { session, fetches } = sessions.get(variant)!;
        times.get(variant)!.push(await perSampleMs(session, fetches, dataset));
      }
    }
    const floatMs = median(times.get('float')!);
    const vsFloat = (variant: Variant) => {
      const ms = median(times.get(variant)!);
      return { perSampleMs: round(ms), vsFloat: ratio(ms / floatMs) };
    };
    return {
      samplesPerRound: dataset.samples.length,
      rounds,
      observedTensors: bench.calibratedTensors().length,
      reducedTensors: reducedTensors(bench).length,
      floatPerSampleMs: round(floatMs),
      maxOnly: vsFloat('maxOnly'),
      minMax: vsFloat('minMax'),
      oneRowEach: vsFloat('oneRowEach'),
    };
  } finally {
    for (const { session } of sessions.values()) await session.dispose();
  }
}
