// `npx tsx scripts/captureHistograms.ts`: calibrates a few real corpus models on their corpus data
// (test/corpus) and stores, for a handful of tensors, what the statistics pass gave the calibrators
// (each sample's exact min/max/count and sampled values) and the histograms calibrateModel built
// from them, as test/fixtures/histograms/corpusHistograms.json. The calibrator reference checks
// (src/core/calib/methods/referenceThresholds.test.ts) and the clipping warnings' tests read it.
// Options: --samples=N (default 2), --out=path.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeImageDecoder } from '../cli/nodeImageDecoder';
import { ortNodeEngine } from '../cli/ortNodeEngine';
import { calibrateModel, DEFAULT_CALIBRATION } from '../src/core/calib/Calibration';
import { runStatisticsPass } from '../src/core/calib/statisticsPass';
import type { MagnitudeHistogram } from '../src/core/calib/histograms';
import { TensorStatisticsAccumulator, type SampleObservation } from '../src/core/calib/TensorStatistics';
import { DEFAULT_PREPROCESS, loadDataset, type ImagePreprocess } from '../src/core/io/dataset/loadDataset';
import { silentJob } from '../src/core/jobs/Job';
import { Workbench } from '../src/core/Workbench';
import { writeCorpusData } from '../test/corpus/corpusData';
import { CORPUS_MODELS } from '../test/corpus/corpusModels';
import { encodeValues, FIXTURE_PATH, storeHistogram, type HistogramFixture, type StoredTensor } from '../test/support/histogramFixture';

/** The tensors kept, by model: varied shapes of real activations. */
const PICKS: Readonly<Record<string, readonly { readonly tensor: string; readonly shape: string }[]>> = {
  ppocr_v4_det: [
    { tensor: 'p2o.Clip.23', shape: 'Clip(0, 6) inside a hardswish: spread over 0..6, spikes at 0 and 6 (the issue #11 case: Bolt\'s KL loop put it at 0.42)' },
    { tensor: 'conv2d_451.tmp_0', shape: 'Conv output: signed, bell-shaped' },
  ],
  mlsd_tiny: [
    { tensor: 'WireFrameModel_with_alpha/block_5_depthwise_relu/Relu6_WireFrameModel_with_alpha/block_5_depthwise_BN/FusedBatchNormV3_WireFrameModel_with_alpha/block_6_depthwise_BN/FusedBatchNormV3_WireFrameModel_with_alpha/block_6_depthwise/depthwise_WireFrameModel_with_alpha/block_5_depthwise/depthwise:0', shape: 'ReLU6 (Clip(0, 6)) of a depthwise Conv: half zeros, saturates at 6' },
    { tensor: 'Conv__222:0', shape: 'Conv output: signed, heavy-tailed (rare values far out)' },
    { tensor: 'Conv2D__10:0', shape: 'near-constant: the image input moved to about -1 (range 0.014 wide)' },
  ],
  blazeface_front: [
    { tensor: 'input:0', shape: 'image input scaled to [-1, 1]: near-uniform, signed, bright pixels at the top' },
    { tensor: 'StatefulPartitionedCall/functional_1/re_lu_4/Relu:0', shape: 'ReLU output: two thirds zeros, long tail' },
  ],
};

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string]));
const sampleCount = Number(args.get('samples') ?? 2);
const out = args.get('out') ?? fileURLToPath(FIXTURE_PATH);

/** TPU-MLIR's preprocessing flags of a corpus model (test/corpus/corpusModels.ts) as an ImagePreprocess. */
function preprocessOf(flags: readonly string[]): ImagePreprocess {
  const flag = (name: string): string | undefined => {
    const i = flags.indexOf(name);
    return i >= 0 ? flags[i + 1] : undefined;
  };
  const numbers = (name: string) => flag(name)?.split(',').map(Number);
  return {
    ...DEFAULT_PREPROCESS,
    ...(numbers('--mean') ? { mean: numbers('--mean') as [number, number, number] } : {}),
    ...(numbers('--scale') ? { scale: numbers('--scale') as [number, number, number] } : {}),
    ...(flag('--pixel_format') ? { pixelFormat: flag('--pixel_format') as ImagePreprocess['pixelFormat'] } : {}),
    ...(flag('--layout') ? { layout: flag('--layout') as ImagePreprocess['layout'] } : {}),
    ...(numbers('--resize_dims') ? { resizeDims: numbers('--resize_dims') as [number, number] } : {}),
    ...(numbers('--input_size') ? { inputSize: numbers('--input_size') as [number, number] } : {}),
  };
}

function sameHistogram(a: MagnitudeHistogram, b: MagnitudeHistogram): boolean {
  return a.width === b.width && a.counts.length === b.counts.length && a.counts.every((c, k) => c === b.counts[k]);
}

const engine = ortNodeEngine(1);
const tensors: StoredTensor[] = [];
for (const [id, picks] of Object.entries(PICKS)) {
  const model = CORPUS_MODELS.find((m) => m.id === id);
  if (!model) throw new Error(`no corpus model ${id}`);
  const dir = mkdtempSync(join(tmpdir(), 'qbench-histograms-'));
  try {
    const flags = await writeCorpusData(model, dir, sampleCount);
    const dataDir = flags[flags.indexOf('--data') + 1];
    const files = readdirSync(dataDir).sort().map((name) => ({ name, bytes: new Uint8Array(readFileSync(join(dataDir, name))) }));
    const bench = await Workbench.open(engine, new Uint8Array(readFileSync(model.file)), model.id);
    const dataset = await loadDataset(files, bench.graph.inputs, preprocessOf(flags), nodeImageDecoder);
    // The calls Workbench.calibrate makes (it keeps the resulting statistics to itself): the same
    // tensors in the same order give every tensor the same sampled positions in both passes below.
    const calibrated = bench.calibratedTensors();
    const positions = new Map<string, number>();
    bench.model.graph.nodes.forEach((node, i) => node.outputs.forEach((o) => positions.set(o, i)));
    const result = await calibrateModel(engine, bench.model, calibrated, positions, dataset, DEFAULT_CALIBRATION, silentJob, bench.types);
    const wanted = new Map(picks.map((p) => [calibrated.indexOf(p.tensor), p]));
    if (wanted.has(-1)) throw new Error(`${id}: a picked tensor is not calibrated (${picks.map((p) => p.tensor).filter((t) => !calibrated.includes(t)).join(', ')})`);
    const observations = new Map<number, SampleObservation[]>();
    await runStatisticsPass(engine, bench.model, calibrated, dataset, { valuesPerTensor: DEFAULT_CALIBRATION.valuesPerTensor }, (t, observation) => {
      if (wanted.has(t)) observations.set(t, [...(observations.get(t) ?? []), { ...observation, values: observation.values.slice() }]);
    }, silentJob, bench.types);
    for (const [t, pick] of wanted) {
      const stats = result.statistics.get(pick.tensor)!;
      const context = result.contexts.get(pick.tensor)!;
      const seen = observations.get(t)!;
      // The stored observations must rebuild the very histograms the calibrators received.
      const replay = new TensorStatisticsAccumulator({ histogramBins: DEFAULT_CALIBRATION.histogramBins, expectedSamples: seen.length });
      for (const o of seen) replay.add(o);
      const again = replay.result();
      if (!sameHistogram(again.klHistogram, stats.klHistogram) || !sameHistogram(again.tensorRtHistogram, stats.tensorRtHistogram)) {
        throw new Error(`${id} ${pick.tensor}: the second pass saw other values than calibrateModel`);
      }
      const unit = seen[0].count / seen[0].values.length; // every sample of a tensor has the same shape
      const producer = bench.model.graph.nodes.find((n) => n.outputs.includes(pick.tensor));
      tensors.push({
        model: id, tensor: pick.tensor, op: producer?.opType ?? 'input', shape: pick.shape,
        position: context.position, positionCount: context.positionCount, isGraphInput: context.isGraphInput,
        observations: seen.map((o) => ({ min: o.min, max: o.max, count: o.count, values: encodeValues(o.values) })),
        klHistogram: storeHistogram(stats.klHistogram, unit), tensorRtHistogram: storeHistogram(stats.tensorRtHistogram, unit),
      });
      process.stderr.write(`${id} ${pick.tensor}: [${stats.min}, ${stats.max}], ${seen.length} samples\n`);
    }
    await bench.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fixture: HistogramFixture = {
  source: `scripts/captureHistograms.ts --samples=${sampleCount}: corpus models (test/corpus/corpusModels.ts) on their corpus data, DEFAULT_CALIBRATION`,
  valuesPerTensor: DEFAULT_CALIBRATION.valuesPerTensor as number,
  histogramBins: DEFAULT_CALIBRATION.histogramBins,
  tensors,
};
writeFileSync(out, `${JSON.stringify(fixture)}\n`);
process.stderr.write(`${out}: ${tensors.length} tensors, ${(JSON.stringify(fixture).length / 1024).toFixed(0)} KB\n`);
