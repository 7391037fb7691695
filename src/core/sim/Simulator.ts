import type { Engine, Session } from '../engine/Engine';
import { sessionError } from '../engine/engineErrors';
import type { Dataset } from '../io/dataset/Dataset';
import { onnx } from '../io/onnx/protobuf';
import type { JobContext } from '../jobs/Job';
import { meanMetrics, metricsFromSums, type ErrorMetrics, type ErrorSums } from '../metrics/similarity';
import { compareOutputs, valueRanges, type OutputScoring, type OutputSample } from '../metrics/outputParts';
import { warningsOf } from '../metrics/collapseWarnings';
import { outputQuantizers } from '../quant/outputQuantizers';
import { outputFigures } from '../metrics/outputFigures';
import { float16BitsToFloat32 } from '../model/float16';
import type { LayerName } from '../model/ModelGraph';
import { toFloat32, type TensorMap } from '../model/tensor';
import { buildQdqModel, type QdqModel } from '../export/buildQdqModel';
import { WeightCache } from '../quant/WeightCache';
import { type QuantizationContext } from '../quant/QuantizationContext';
import { qtableFromData, qtableToData, type Precision, type QTable } from '../model/QTable';
import { effectivePrecision } from '../quant/schemes';
import type { Evaluation, LayerError } from '../model/Evaluation';
import { buildProbeModel, PROBE_GRAPH_OPTIMIZATION, probedTensors, probeSums, type ProbedTensor, type ProbeModel } from './probeModel';
import { BodyProber, pinnedQTable } from './bodyProbes';
import { letEventsIn } from '../jobs/letEventsIn';
import { disposeWhatIfRunners, whatIfRunners, type WhatIfRunners } from './incremental/IncrementalOutputs';

export interface SimulatorInput extends QuantizationContext {
  readonly engine: Engine;
  /** Samples every evaluation runs, with the float model's outputs on each. */
  readonly samples: Dataset;
  readonly floatOutputs: readonly TensorMap[];
  /** How outputs are scored: their parts, tasks and the samples' labels (metrics/outputScoring.ts). */
  readonly scoring: OutputScoring;
  /** Incremental what-if runs on these samples, shared by the simulators of one dataset; else the simulator's own. */
  readonly incremental?: WhatIfRunners;
}

export type EvaluationDepth = 'outputs' | 'layers';

/**
 * evaluate(qtable) -> errors, behind one interface (docs/architecture.md "The simulation model").
 *
 * Design, chosen by measurement (see README "Simulation"): each QTable becomes a real QDQ model,
 * the same bytes the export writes, and onnxruntime runs it with its fused int8 kernels. A
 * switchable fake-quant model would serve every QTable from one session, but it computes in float
 * and differs from the int8 kernels by rounding ties (docs/architecture.md: cos 0.987 between the two
 * on the ONNX Model Zoo's MobileNetV2), so its prediction would not be the exported model's.
 * - depth 'outputs': the QDQ model alone; compared with cached float outputs in JavaScript.
 * - depth 'layers': the probe model (QDQ + float side by side + in-graph error sums per layer).
 * Sessions are cached per QTable, so undoing an edit or re-asking costs no session creation.
 */
export class Simulator {
  private readonly weightCache = new WeightCache();
  private readonly sessions = new Map<string, Promise<{ session: Session; probe?: ProbeModel; bodies?: BodyProber; opset: number }>>();
  private readonly probed: ProbedTensor[];
  /** Float value ranges of the outputs and their parts on the evaluation samples (for the warnings' words). */
  private ranges?: Record<string, [number, number]>;
  /** Layers inside If/Loop/Scan bodies: measured by a BodyProber, a body at a time. */
  private readonly probedInBodies: readonly (ProbedTensor & { readonly scope: string })[];
  private static readonly MAX_CACHED_SESSIONS = 6;

  constructor(readonly input: SimulatorInput) {
    this.ownsIncremental = !input.incremental;
    this.incremental = input.incremental ?? whatIfRunners(input.engine, input.model.fileName, input.samples.samples);
    // A body's tensors cannot be read outside it: its layers are probed by running the body on its own.
    const { main, inBodies } = probedTensors(input.model, input.layers);
    this.probed = main;
    this.probedInBodies = inBodies;
  }

  /** Whether every layer's error comes from the one probe model (no layer inside a body): what the pool can split by samples. */
  get probesInOneModel(): boolean {
    return this.probedInBodies.length === 0;
  }

  /** The QDQ model of a QTable: what export writes and what 'outputs' evaluations run. */
  buildQdq(qtable: QTable): QdqModel {
    return buildQdqModel({ ...this.input, qtable, weightCache: this.weightCache });
  }

  /** `knownOutputs`: an 'outputs' evaluation of the same QTable made elsewhere (the page's pool), reused for the output figures. */
  async evaluate(qtable: QTable, depth: EvaluationDepth, job: JobContext, knownOutputs?: Evaluation): Promise<Evaluation> {
    if (knownOutputs && qtableKey(qtableFromData(knownOutputs.qtable)) === qtableKey(qtable)) this.lastOutputs = { key: qtableKey(qtable), evaluation: knownOutputs };
    if (depth === 'layers') {
      // The probe's extra readers of each layer output stop onnxruntime from fusing some Q/DQ groups
      // into int8 kernels, so its outputs can differ from the exported model's (M-LSD: cos 0.4370 vs
      // 0.4339). The output figures always come from the plain QDQ model, the one export writes.
      const layers = await this.evaluateOnce(qtable, 'layers', job);
      const outputs = this.lastOutputs?.key === qtableKey(qtable) ? this.lastOutputs.evaluation : await this.evaluateOnce(qtable, 'outputs', job);
      return { ...layers, output: outputs.output, worst: outputs.worst, perOutput: outputs.perOutput, ...(outputs.perPart ? { perPart: outputs.perPart } : {}), ...(outputs.warnings ? { warnings: outputs.warnings } : {}), ...(outputs.tasks ? { tasks: outputs.tasks } : {}), elapsedMs: layers.elapsedMs + outputs.elapsedMs, opset: outputs.opset };
    }
    const evaluation = await this.evaluateOnce(qtable, depth, job);
    // The page asks for the outputs, then for the layers of the same QTable: the second reuses this.
    this.lastOutputs = { key: qtableKey(qtable), evaluation };
    return evaluation;
  }

  private lastOutputs?: { readonly key: string; readonly evaluation: Evaluation };

  private async evaluateOnce(qtable: QTable, depth: EvaluationDepth, job: JobContext): Promise<Evaluation> {
    if (depth === 'outputs') return this.evaluateOutputs(qtable, job);
    // Layers inside bodies are probed a body at a time (BodyProber): those models run whole.
    if (this.probedInBodies.length === 0) return this.evaluateLayers(qtable, job);
    const started = performance.now();
    const { samples, floatOutputs, model } = this.input;
    const { session, probe, bodies, opset } = await this.session(qtable, depth);
    const outputNames = model.graph.outputs.map((o) => o.name);
    const perSampleOutputs: OutputSample[] = [];
    const layerSums = this.probed.map(() => [] as ErrorMetrics[]);
    const bodyLayerMetrics = new Map<LayerName, ErrorMetrics[]>(this.probedInBodies.map((p) => [p.layer, []]));
    const exposed = probe ? new Set(probe.proto.graph!.output.map((o) => o.name)) : new Set<string>();
    const bodyFetches = probe && bodies?.active ? bodies.hostFetches(model, probe.floatName).filter((t) => exposed.has(t)) : [];
    const fetches = probe ? [...new Set([...outputNames, ...probe.outputs.flatMap((o) => [o.dd, o.qq, o.ff, o.count]), ...bodyFetches])] : outputNames;
    for (let i = 0; i < samples.samples.length; i++) {
      await letEventsIn();
      job.throwIfCancelled();
      job.progress({ stage: depth === 'layers' ? 'evaluating layers' : 'evaluating', done: i, total: samples.samples.length });
      const result = await session.run(samples.samples[i], fetches);
      perSampleOutputs.push(compareOutputs(floatOutputs[i], (name) => (result[name] ? toFloat32(result[name], float16BitsToFloat32) : undefined), outputNames, this.input.scoring, i));
      if (probe && bodies?.active) {
        const sums = new Map<LayerName, ErrorSums>();
        await bodies.accumulate(model, { values: { ...samples.samples[i], ...result }, floatName: probe.floatName }, sums, job);
        for (const [layer, s] of sums) if (s.count > 0) bodyLayerMetrics.get(layer)?.push(metricsFromSums(s));
      }
      if (probe) probeSums(probe, result).forEach((sums, k) => layerSums[k].push(metricsFromSums(sums)));
    }
    job.progress({ stage: 'evaluating', done: samples.samples.length, total: samples.samples.length });
    const layers: LayerError[] = probe
      ? [
        ...this.probed.map(({ layer, tensor }, k) => ({ layer, tensor, precision: this.precisionOf(qtable, layer), ...meanMetrics(layerSums[k]) })),
        // A body layer no evaluation sample ran (or whose body cannot run alone) has no figure.
        ...this.probedInBodies.filter(({ layer }) => bodyLayerMetrics.get(layer)!.length > 0)
          .map(({ layer, tensor }) => ({ layer, tensor, precision: probe.precisions.get(layer) ?? this.precisionOf(qtable, layer), ...meanMetrics(bodyLayerMetrics.get(layer)!) })),
      ]
      : [];
    const floatForLackOfRanges = probe ? this.probedInBodies.filter(({ layer }) => probe.precisions.get(layer) === 'FP32' && this.precisionOf(qtable, layer) !== 'FP32').map(({ layer }) => layer) : [];
    return { ...this.outputsEvaluation(qtable, perSampleOutputs, layers, opset, started), ...(floatForLackOfRanges.length ? { floatForLackOfRanges } : {}) };
  }

  /** An Evaluation from each sample's output comparison (and the layers' errors, if measured). */
  private outputsEvaluation(qtable: QTable, perSampleOutputs: readonly OutputSample[], layers: LayerError[], opset: number, started: number): Evaluation {
    const { floatOutputs, model } = this.input;
    const outputNames = model.graph.outputs.map((o) => o.name);
    const figures = outputFigures(perSampleOutputs, outputNames, this.input.scoring.parts);
    this.ranges ??= valueRanges(floatOutputs, outputNames, this.input.scoring.parts);
    return {
      qtable: qtableToData(qtable),
      output: figures.output,
      worst: figures.worst,
      perOutput: figures.perOutput,
      ...(Object.keys(figures.perPart).length ? { perPart: figures.perPart } : {}),
      ...(Object.keys(figures.tasks).length ? { tasks: figures.tasks } : {}),
      ...warningsOf({ evaluation: figures, graph: model.graph, parts: this.input.scoring.parts, ranges: this.ranges, quantizers: outputQuantizers(model.graph, this.input.layers, qtable, this.input.cali, this.input.scheme) }),
      layers,
      sampleCount: perSampleOutputs.length,
      elapsedMs: performance.now() - started,
      opset,
    };
  }

  /**
   * The 'outputs' depth: the QDQ model's outputs on every sample, where only what changed since the
   * last QTable evaluated runs again (incremental/IncrementalOutputs.ts), compared with the float outputs.
   */
  private async evaluateOutputs(qtable: QTable, job: JobContext, count = this.input.samples.samples.length): Promise<Evaluation> {
    const started = performance.now();
    const { samples, floatOutputs, model } = this.input;
    const qdq = this.buildQdq(qtable);
    const outputNames = model.graph.outputs.map((o) => o.name);
    const total = count;
    const perSampleOutputs: OutputSample[] = [];
    await this.incremental.outputs.run(qdq.proto, samples.samples.slice(0, count).map((_, i) => i), job, (i, result) => {
      job.progress({ stage: 'evaluating', done: i + 1, total });
      perSampleOutputs.push(compareOutputs(floatOutputs[i], (name) => (result[name] ? toFloat32(result[name], float16BitsToFloat32) : undefined), outputNames, this.input.scoring, i));
    });
    const evaluation = this.outputsEvaluation(qtable, perSampleOutputs, [], qdq.opset, started);
    return count < samples.samples.length ? { ...evaluation, preliminary: { of: samples.samples.length } } : evaluation;
  }

  /**
   * The 'layers' depth without bodies: the probe model (quantized and float halves, in-graph error
   * sums per layer), where only what changed since the last QTable probed runs again: a layer
   * outside the edit's cone keeps its error sums (their signatures say they are computed the same way).
   */
  private async evaluateLayers(qtable: QTable, job: JobContext): Promise<Evaluation> {
    const started = performance.now();
    const { samples, floatOutputs, model } = this.input;
    const probe = buildProbeModel({ ...this.input, qtable, weightCache: this.weightCache }, this.probed);
    const outputNames = model.graph.outputs.map((o) => o.name);
    const fetches = [...new Set([...outputNames, ...probe.outputs.flatMap((o) => [o.dd, o.qq, o.ff, o.count])])];
    const total = samples.samples.length;
    const perSampleOutputs: OutputSample[] = [];
    const layerSums = this.probed.map(() => [] as ErrorMetrics[]);
    await this.incremental.layers.run(probe.proto, samples.samples.map((_, i) => i), job, (i, result) => {
      job.progress({ stage: 'evaluating layers', done: i + 1, total });
      perSampleOutputs.push(compareOutputs(floatOutputs[i], (name) => (result[name] ? toFloat32(result[name], float16BitsToFloat32) : undefined), outputNames, this.input.scoring, i));
      probeSums(probe, result).forEach((sums, k) => layerSums[k].push(metricsFromSums(sums)));
    }, fetches);
    const layers: LayerError[] = this.probed.map(({ layer, tensor }, k) => ({ layer, tensor, precision: this.precisionOf(qtable, layer), ...meanMetrics(layerSums[k]) }));
    const opset = Number(probe.proto.opsetImport.find((o) => !o.domain)?.version ?? 0);
    return this.outputsEvaluation(qtable, perSampleOutputs, layers, opset, started);
  }

  /** A preliminary 'outputs' figure from the first `count` evaluation samples (the full one reuses what it ran). */
  evaluateFirstSamples(qtable: QTable, count: number, job: JobContext): Promise<Evaluation> {
    return this.evaluateOutputs(qtable, job, Math.max(1, Math.min(count, this.input.samples.samples.length)));
  }

  /** What-if evaluations: only what an edit changes runs again. */
  private readonly incremental: WhatIfRunners;
  private readonly ownsIncremental: boolean;

  /**
   * The model outputs the simulation computes for each sample (what the heatmap's evaluation ran),
   * to compare with the exported file or to show the user.
   */
  async simulatedOutputs(qtable: QTable, depth: EvaluationDepth, job: JobContext): Promise<TensorMap[]> {
    const { session } = await this.session(qtable, depth);
    const outputNames = this.input.model.graph.outputs.map((o) => o.name);
    const results: TensorMap[] = [];
    for (const sample of this.input.samples.samples) {
      await letEventsIn();
      job.throwIfCancelled();
      const result = await session.run(sample, outputNames);
      results.push(Object.fromEntries(outputNames.map((name) => [name, result[name]])));
    }
    return results;
  }

  /** The outputs of the QDQ model on one evaluation sample (the page's output viewer): the cached session of the QTable, built once. */
  async sampleOutputs(qtable: QTable, index: number): Promise<TensorMap> {
    const { session } = await this.session(qtable, 'outputs');
    return session.run(this.input.samples.samples[index], this.input.model.graph.outputs.map((o) => o.name));
  }

  private precisionOf(qtable: QTable, layer: LayerName) {
    return effectivePrecision(this.input.layers.get(layer), qtable, this.input.scheme);
  }

  private session(qtable: QTable, depth: EvaluationDepth) {
    const key = `${depth}|${qtableKey(qtable)}`;
    let entry = this.sessions.get(key);
    if (!entry) {
      entry = this.createSession(qtable, depth);
      entry.catch(() => this.sessions.delete(key));
      this.sessions.set(key, entry);
      while (this.sessions.size > Simulator.MAX_CACHED_SESSIONS) {
        const oldest = this.sessions.keys().next().value!;
        const evicted = this.sessions.get(oldest)!;
        this.sessions.delete(oldest);
        evicted.then(({ session, bodies }) => Promise.all([session.dispose(), bodies?.dispose()])).catch(() => {});
      }
    } else {
      this.sessions.delete(key); // refresh its place in the LRU order
      this.sessions.set(key, entry);
    }
    return entry;
  }

  private async createSession(qtable: QTable, depth: EvaluationDepth) {
    const { model, engine } = this.input;
    const buildInput = { ...this.input, qtable, weightCache: this.weightCache };
    let proto: onnx.ModelProto;
    let probe: ProbeModel | undefined;
    let bodies: BodyProber | undefined;
    let opset: number;
    if (depth === 'layers') {
      let precisions: ReadonlyMap<LayerName, Precision> = new Map();
      const prober = this.probedInBodies.length
        ? new BodyProber(engine, () => ({ ...buildInput, qtable: pinnedQTable(qtable, precisions) }), model, this.probedInBodies)
        : undefined;
      const built = buildProbeModel(buildInput, this.probed, { extraOutputs: (floatName) => (prober?.active ? prober.hostFetches(model, floatName) : []) });
      precisions = built.precisions;
      proto = built.proto;
      probe = built;
      bodies = prober;
      opset = Number(proto.opsetImport.find((o) => !o.domain)?.version ?? 0);
    } else {
      const qdq = buildQdqModel(buildInput);
      proto = qdq.proto;
      opset = qdq.opset;
    }
    try {
      const session = await engine.createSession(onnx.ModelProto.encode(proto).finish(), { modelName: model.fileName, ...(probe ? { graphOptimization: PROBE_GRAPH_OPTIMIZATION } : {}) });
      return { session, probe, bodies, opset };
    } catch (error) {
      throw sessionError(error, model.fileName);
    }
  }

  async dispose(): Promise<void> {
    const entries = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all([...entries.map((e) => e.then(({ session, bodies }) => Promise.all([session.dispose(), bodies?.dispose()])).catch(() => {})), this.ownsIncremental ? disposeWhatIfRunners(this.incremental) : undefined]);
  }
}

/** A QTable as a string: equal for equal tables whatever the order of their entries. */
function qtableKey(qtable: QTable): string {
  return `${qtable.defaultPrecision}|${[...qtable.layers].sort(([a], [b]) => (a < b ? -1 : 1)).map(([l, p]) => `${l}=${p}`).join(',')}`;
}
