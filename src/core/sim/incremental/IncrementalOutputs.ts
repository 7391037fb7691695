import type { Engine, Session, SessionOptions, ValueInfo } from '../../engine/Engine';
import { OnnxModel } from '../../io/onnx/OnnxModel';
import { subModel } from '../../search/scoring/subgraphs';
import { sessionError } from '../../engine/engineErrors';
import { isCancelled } from '../../errors';
import { referencedNames } from '../../io/onnx/GraphWriter';
import { onnx } from '../../io/onnx/protobuf';
import type { JobContext } from '../../jobs/Job';
import { letEventsIn } from '../../jobs/letEventsIn';
import type { Tensor, TensorMap } from '../../model/tensor';
import { PROBE_GRAPH_OPTIMIZATION } from '../probeModel';
import { SessionSlot } from './SessionSlot';
import { isConstant, tensorSignatures, type Signature } from './tensorSignatures';

/** How a runner runs: see the constructor. */
export interface RunnerOptions {
  readonly enabled?: boolean;
  readonly checkpointBytesPerSample?: number;
  readonly graphOptimization?: SessionOptions['graphOptimization'];
  /** Where the runner keeps its session; runners of one worker share one (whatIfRunners). */
  readonly slot?: SessionSlot;
}

/**
 * The graph outputs of a QDQ model on some samples, computing only what changed since the last
 * model it ran (docs/architecture.md "Incremental evaluation").
 *
 * A what-if edit changes a layer and what lies downstream of it; every other tensor is computed the
 * same way under both QTables, which their signatures (tensorSignatures.ts) tell exactly. When a
 * model differs from the last one, the tensors where the changed region begins (its boundary) are
 * fetched during that run and kept; the next model that only changes what lies behind that
 * boundary (the same layer at another precision, an undo, an edit further down) runs as a
 * sub-model fed those kept values. One boundary is kept per sample, never every activation.
 *
 * A boundary value read where a DequantizeLinear reads its integer input is kept as that integer
 * tensor (a quarter of the float bytes), and the DequantizeLinear runs in the sub-model: that keeps
 * onnxruntime's QDQ groups as the whole model forms them, so a sub-model computes the same values as
 * the whole model (test/pipeline/incrementalWhatIf.test.ts holds them to 1e-6).
 */
export class IncrementalOutputs {
  /** Values of the kept boundary (the last edit's), by signature, per sample index. */
  private boundary = new Map<Signature, Map<number, Tensor>>();
  /** Values of the checkpoints the last whole run kept (checkpoints()). */
  private checkpoints = new Map<Signature, Map<number, Tensor>>();
  /** Values of graph outputs, by signature, per sample index (those of the last model run). */
  private outputs = new Map<Signature, Map<number, Tensor>>();
  /** The last model run: its outputs' signatures (which tell one model from another) and every tensor's. */
  private lastGraph?: { readonly key: string; readonly signatures: ReadonlySet<Signature> };
  /** Every tensor signature of the model run before the current one, to tell what the current one changed. */
  private previous?: ReadonlySet<Signature>;
  /** What the last run computed (for the benchmark and tests). */
  lastPlan: { readonly kind: 'cached' | 'whole' | 'part'; readonly nodes: number; readonly of: number; readonly boundary: number; readonly samples: number; sessionMs?: number; runMs?: number } | null = null;

  private readonly enabled: boolean;
  private readonly checkpointBytes: number;
  private readonly graphOptimization: SessionOptions['graphOptimization'];
  private readonly slot: SessionSlot;
  /** The other runners of the same samples (whatIfRunners): a value one of them keeps, byte for byte the same, is shared, not held twice. */
  private siblings: readonly IncrementalOutputs[] = [];

  /**
   * `enabled` false: every run is the whole model on every sample, nothing kept (the benchmark's
   * "before"). `checkpointBytesPerSample`: what the checkpoints may hold (affordableCuts).
   * `graphOptimization`: onnxruntime's level for every session of this runner, whole or part (one
   * level for both, so that a part computes what the whole would).
   */
  constructor(
    private readonly engine: Engine,
    private readonly modelName: string,
    private readonly samples: readonly TensorMap[],
    { enabled = true, checkpointBytesPerSample = CHECKPOINT_BYTES_PER_SAMPLE, graphOptimization, slot = new SessionSlot() }: RunnerOptions = {},
  ) {
    this.slot = slot;
    this.enabled = enabled;
    this.checkpointBytes = checkpointBytesPerSample;
    this.graphOptimization = graphOptimization;
  }

  /**
   * Each requested sample's `targets` (by default the graph outputs) under `proto` (a QDQ build of
   * the model, or its probe model). `onSample` is called as each sample finishes, in order.
   */
  run(proto: onnx.ModelProto, sampleIndices: readonly number[], job: JobContext, onSample?: (index: number, outputs: TensorMap) => void, targets?: readonly string[]): Promise<TensorMap[]> {
    return this.slot.exclusive(() => this.runOrWhole(proto, sampleIndices, job, onSample, targets));
  }

  /**
   * Takes `proto` (with `targets`, as `run` would be asked) as the last model run, without running
   * it: an evaluation answered from memory (RecentEvaluations) is where the user now is. The next
   * edit's region is then measured from it, and the boundary kept is that edit's own, not its union
   * with a table left behind (the demo at 30 samples: 9 MB more float values a worker after an undo).
   */
  note(proto: onnx.ModelProto, targets?: readonly string[]): Promise<void> {
    return this.slot.exclusive(async () => {
      const signatures = tensorSignatures(proto.graph!);
      const key = (targets ?? proto.graph!.output.map((o) => o.name)).map((name) => signatures.get(name)!).join(',');
      if (key === this.lastGraph?.key) return;
      this.previous = this.lastGraph?.signatures;
      this.lastGraph = { key, signatures: new Set(signatures.values()) };
    });
  }

  private async runOrWhole(proto: onnx.ModelProto, sampleIndices: readonly number[], job: JobContext, onSample?: (index: number, outputs: TensorMap) => void, targets?: readonly string[]): Promise<TensorMap[]> {
    try {
      return await this.runOnce(proto, sampleIndices, job, onSample, targets);
    } catch (error) {
      if (this.lastPlan?.kind !== 'part' || isCancelled(error)) throw error;
      // A part onnxruntime would not load or run (a shape it cannot infer from a kept value): the
      // kept values go and the whole model runs, as it would without them; its failure is the user's.
      this.boundary = new Map();
      this.checkpoints = new Map();
      return this.runOnce(proto, sampleIndices, job, onSample, targets);
    }
  }

  private async runOnce(proto: onnx.ModelProto, sampleIndices: readonly number[], job: JobContext, onSample?: (index: number, outputs: TensorMap) => void, targets?: readonly string[]): Promise<TensorMap[]> {
    const graph = proto.graph!;
    const signatures = tensorSignatures(graph);
    const outputNames = targets ?? graph.output.map((o) => o.name);
    const sigOf = (name: string) => signatures.get(name)!;
    // A sample whose every output under this model is known (an earlier, partial figure of the same edit) does not run again.
    const toRun = this.enabled ? sampleIndices.filter((i) => outputNames.some((name) => !this.outputs.get(sigOf(name))?.has(i))) : sampleIndices;
    const have = (store: Map<Signature, Map<number, Tensor>>, sig: Signature) => toRun.every((i) => store.get(sig)?.has(i));
    const missing = outputNames.filter((name) => !have(this.outputs, sigOf(name)));
    const kept = (sig: Signature, i: number) => this.boundary.get(sig)?.get(i) ?? this.checkpoints.get(sig)?.get(i);
    // A value this model's onnxruntime merges into a double Q/DQ pair is never fed nor kept (doubleQdqPairs).
    const mergedTensors = this.enabled ? doubleQdqPairs(graph) : new Set<string>();
    const merged = new Set([...mergedTensors].map(sigOf));
    const available = new Set(this.enabled ? [...this.boundary.keys(), ...this.checkpoints.keys()].filter((sig) => !merged.has(sig) && toRun.every((i) => kept(sig, i) !== undefined)) : []);

    const graphKey = outputNames.map(sigOf).join(',');
    if (graphKey !== this.lastGraph?.key) this.previous = this.lastGraph?.signatures;
    let plan: RunPlan;
    if (!this.enabled) plan = { kind: 'whole', nodes: new Set(graph.node.map((n) => n.name)), feeds: graph.input.map((i) => i.name), fetch: outputNames, keep: [], checkpoints: [] };
    else if (toRun.length === 0 || missing.length === 0) plan = { kind: 'cached', nodes: new Set(), feeds: [], fetch: [], keep: [], checkpoints: [] };
    else {
      const part = partComputing(graph, signatures, missing, available);
      // From kept values; or from the inputs when what is missing needs a small share of the graph
      // (a local probe's changed copy needs only the float layers before it: 300 of 3,700 nodes).
      const fromKept = part.feeds.some((t) => available.has(sigOf(t)) && !isGraphInput(graph, t));
      plan = fromKept || part.nodes.size <= graph.node.length * SMALL_PART
        ? this.partPlan(graph, signatures, part, missing, available, mergedTensors)
        : this.wholePlan(graph, signatures, outputNames, mergedTensors);
    }
    const lastPlan = (this.lastPlan = { kind: plan.kind, nodes: plan.nodes.size, of: graph.node.length, boundary: plan.kind === 'part' ? plan.feeds.length : plan.keep.length, samples: toRun.length });

    const sessionStarted = performance.now();
    const session = plan.kind === 'cached' ? null : await this.sessionFor(plan, proto, signatures);
    const runStarted = performance.now();
    const running = new Set(toRun);
    const results: TensorMap[] = [];
    const keptValues = new Map<Signature, Map<number, Tensor>>();
    const newOutputs = new Map<Signature, Map<number, Tensor>>();
    for (const i of sampleIndices) {
      let computed: TensorMap = {};
      if (session && running.has(i)) {
        await letEventsIn();
        job.throwIfCancelled();
        const feeds: TensorMap = {};
        for (const name of session.inputNames) feeds[name] = isGraphInput(graph, name) ? this.samples[i][name] : kept(sigOf(name), i)!;
        computed = await session.run(feeds, plan.fetch);
      }
      const outputs: TensorMap = {};
      for (const name of outputNames) {
        const sig = sigOf(name);
        const value = computed[name] ?? this.outputs.get(sig)!.get(i)!;
        outputs[name] = value;
        let perSample = newOutputs.get(sig);
        if (!perSample) newOutputs.set(sig, (perSample = new Map()));
        perSample.set(i, value);
      }
      for (const name of [...plan.keep, ...plan.checkpoints.flat()]) {
        if (!computed[name]) continue;
        const sig = sigOf(name);
        let perSample = keptValues.get(sig);
        if (!perSample) keptValues.set(sig, (perSample = new Map()));
        perSample.set(i, this.sharedValue(sig, i, computed[name]));
      }
      results.push(outputs);
      onSample?.(i, outputs);
    }
    // Outputs of other samples under this model are kept too, if they were computed before.
    for (const [sig, perSample] of this.outputs) {
      const into = newOutputs.get(sig);
      if (into) for (const [i, value] of perSample) if (!into.has(i)) into.set(i, value);
    }
    this.outputs = newOutputs;
    this.boundary = keepValues(this.boundary, plan.keep.map(sigOf), keptValues);
    this.checkpoints = keepValues(this.checkpoints, affordableCuts(plan.checkpoints.map((cut) => cut.map(sigOf)), keptValues, toRun.length, this.checkpointBytes).flat(), keptValues);
    this.lastGraph = { key: graphKey, signatures: new Set(signatures.values()) };
    Object.assign(lastPlan, { sessionMs: runStarted - sessionStarted, runMs: performance.now() - runStarted });
    return results;
  }

  /** Every value this runner keeps (boundary, checkpoints, outputs), for counting shared ones once (keptBytes). */
  keptTensors(): Tensor[] {
    return [this.boundary, this.checkpoints, this.outputs].flatMap((store) => [...store.values()].flatMap((perSample) => [...perSample.values()]));
  }

  /**
   * Runners that keep values of the same samples: the QDQ model's and its probe's boundaries are often
   * the same int8 tensors (the demo's edit of p2o.Conv.17: three of the probe's six), and where they
   * hold the same bytes one copy serves both (sharedValue).
   */
  shareKeptValuesWith(siblings: readonly IncrementalOutputs[]): void {
    this.siblings = siblings.filter((s) => s !== this);
  }

  /**
   * `own`, or a sibling's kept value of the same tensor and sample when it is the same bytes. The
   * same signature is not enough: onnxruntime fuses differently in a model with more readers (a
   * probe's error sums), and a value can come out a rounding step apart (an int8 step on a Keras
   * MobileNetV2, up to 11 in DTLN's LSTM cells); a runner must go on from its own model's values.
   */
  private sharedValue(sig: Signature, i: number, own: Tensor): Tensor {
    for (const s of this.siblings) {
      const value = s.boundary.get(sig)?.get(i) ?? s.checkpoints.get(sig)?.get(i);
      if (value && sameBytes(value, own)) return value;
    }
    return own;
  }

  /** The signatures of the checkpoints' values (tests: which tensors a whole run kept). */
  checkpointSignatures(): Signature[] {
    return [...this.checkpoints.keys()];
  }

  /** The values kept between runs, per kind: how many tensors (per sample) and their bytes (all samples). For the benchmark and tests (issue #15's memory). */
  keptValues(): Record<'boundary' | 'checkpoints' | 'outputs', { readonly tensors: number; readonly bytes: number }> {
    const measure = (store: Map<Signature, Map<number, Tensor>>) => ({
      tensors: store.size,
      bytes: [...store.values()].reduce((sum, perSample) => sum + [...perSample.values()].reduce((s, t) => s + t.data.byteLength, 0), 0),
    });
    return { boundary: measure(this.boundary), checkpoints: measure(this.checkpoints), outputs: measure(this.outputs) };
  }

  async dispose(): Promise<void> {
    await this.slot.dispose();
  }

  /** The whole model, keeping the edit's boundary and the graph's checkpoints. */
  private wholePlan(graph: onnx.IGraphProto, signatures: ReadonlyMap<string, Signature>, outputNames: readonly string[], merged: ReadonlySet<string>): RunPlan {
    // (outputNames: the run's targets)
    const keepable = keepableResolver(graph, signatures, merged);
    const keep = this.boundaryToKeep(graph, signatures, keepable);
    const free = quantizerFree(graph);
    const cuts = checkpoints(graph, keepable).map((cut) => cut.filter((t) => !keep.includes(t) && !free.has(t))).filter((cut) => cut.length > 0);
    return { kind: 'whole', nodes: new Set((graph.node ?? []).map((n) => n.name!)), feeds: (graph.input ?? []).map((i) => i.name!), fetch: [...new Set([...outputNames, ...keep, ...cuts.flat()])], keep, checkpoints: cuts };
  }

  /**
   * A part fed kept values; it also keeps the edit's own boundary where the part computes it (the
   * first edit of a region runs from a checkpoint above it; the next ones from its boundary).
   */
  private partPlan(graph: onnx.IGraphProto, signatures: ReadonlyMap<string, Signature>, part: { nodes: Set<string>; feeds: string[] }, missing: readonly string[], available: ReadonlySet<Signature>, merged: ReadonlySet<string>): RunPlan {
    const producedInPart = new Set((graph.node ?? []).filter((n) => part.nodes.has(n.name!)).flatMap((n) => n.output ?? []));
    const keep = this.boundaryToKeep(graph, signatures, keepableResolver(graph, signatures, merged)).filter((t) => producedInPart.has(t) && !available.has(signatures.get(t)!));
    return { kind: 'part', nodes: part.nodes, feeds: part.feeds, fetch: [...new Set([...missing, ...keep])], keep, checkpoints: [] };
  }

  /**
   * The tensors where the region this model changed (against the last different model run) begins:
   * what the next edit of the same region can start from (resolved to keepable values, see
   * keepableResolver).
   */
  private boundaryToKeep(graph: onnx.IGraphProto, signatures: ReadonlyMap<string, Signature>, keepable: (tensor: string) => readonly string[]): string[] {
    const last = this.previous;
    if (!last) return [];
    const keep = new Set<string>();
    for (const node of graph.node ?? []) {
      if ((node.output ?? []).every((o) => !o || last.has(signatures.get(o)!))) continue;
      for (const input of referencedNames([node])) {
        const sig = signatures.get(input);
        if (sig && last.has(sig)) for (const t of keepable(input)) keep.add(t);
      }
    }
    return withoutRecomputable(graph, signatures, [...keep]);
  }

  private sessionFor(plan: RunPlan, proto: onnx.ModelProto, signatures: ReadonlyMap<string, Signature>): Promise<Session> {
    const key = `${this.graphOptimization ?? 'all'}|${plan.kind}|${plan.feeds.map((t) => signatures.get(t)).sort().join(',')}|${plan.fetch.map((t) => `${t}=${signatures.get(t)}`).sort().join(',')}`;
    return this.slot.open(key, () => {
      const bytes = plan.kind === 'whole'
        ? encodeWithOutputs(proto, plan.fetch)
        : subModel(new OnnxModel(proto, this.modelName, 0), plan.nodes, plan.feeds, plan.fetch, this.boundaryTypes(plan.feeds, signatures)).encode();
      return this.engine.createSession(bytes, { modelName: this.modelName, graphOptimization: this.graphOptimization }).catch((error: unknown) => {
        throw sessionError(error, this.modelName);
      });
    });
  }

  /** Type and shape of each kept tensor fed to a part: from the kept values (a dimension that varies between samples is left symbolic). */
  private boundaryTypes(feeds: readonly string[], signatures: ReadonlyMap<string, Signature>): Map<string, ValueInfo> {
    const types = new Map<string, ValueInfo>();
    for (const name of feeds) {
      const values = this.boundary.get(signatures.get(name)!) ?? this.checkpoints.get(signatures.get(name)!);
      if (!values) continue;
      const all = [...values.values()];
      const first = all[0];
      types.set(name, { name, dtype: first.dtype, dims: first.dims.map((d, k) => (all.every((v) => v.dims[k] === d) ? d : null)) });
    }
    return types;
  }

}

/**
 * The values a tensor can be kept as: only values onnxruntime computes the same way whether or not
 * they are fetched. An integer tensor a QuantizeLinear writes (not the float a DequantizeLinear
 * makes of it, which belongs to its consumer's int8 kernel), a graph input (none needed), a float
 * value no QuantizeLinear reads, or that no dequantized value went into. A float value made from
 * dequantized values and read by a QuantizeLinear sits inside a fused group (DequantizeLinear ->
 * Conv -> QuantizeLinear runs as one int8 kernel that never makes it): the group's inputs are kept
 * instead. Constants are never kept (an int8 kernel needs its weights as constants), nor an integer
 * tensor onnxruntime merges into another pair (`mergedByOrt`, doubleQdqPairs): its QuantizeLinear's
 * input is resolved instead.
 */
function keepableResolver(graph: onnx.IGraphProto, signatures: ReadonlyMap<string, Signature>, mergedByOrt: ReadonlySet<string>): (tensor: string) => readonly string[] {
  const producer = new Map<string, onnx.INodeProto>();
  const readByQuantize = new Set<string>();
  for (const node of graph.node ?? []) {
    for (const o of node.output ?? []) if (o) producer.set(o, node);
    if (node.opType === 'QuantizeLinear' && node.input?.[0]) readByQuantize.add(node.input[0]);
  }
  // Whether a value is computed from dequantized values without passing a QuantizeLinear: only such
  // a value can sit inside a fused int8 group. A float value computed from float values alone (a
  // probe's float half, read by a local copy's input quantizer) is made whether fetched or not.
  const dequantizedMemo = new Map<string, boolean>();
  const fromDequantized = (tensor: string, depth: number): boolean => {
    const known = dequantizedMemo.get(tensor);
    if (known !== undefined) return known;
    const from = producer.get(tensor);
    const result = !from ? false
      : from.opType === 'DequantizeLinear' ? true
      : from.opType === 'QuantizeLinear' ? false
      : depth > 64 || [...referencedNames([from])].some((t) => fromDequantized(t, depth + 1));
    dequantizedMemo.set(tensor, result);
    return result;
  };
  const memo = new Map<string, readonly string[]>();
  const resolve = (tensor: string, depth: number): readonly string[] => {
    const known = memo.get(tensor);
    if (known) return known;
    const sig = signatures.get(tensor);
    const from = producer.get(tensor);
    let result: readonly string[];
    if (!sig || isConstant(sig) || isGraphInput(graph, tensor) || !from || depth > 64) result = [];
    else if (from.opType === 'QuantizeLinear') result = mergedByOrt.has(tensor) ? resolve(from.input?.[0] ?? '', depth + 1) : [tensor];
    else if (from.opType === 'DequantizeLinear' && from.input?.[0]) result = resolve(from.input[0], depth + 1);
    else if ((readByQuantize.has(tensor) && fromDequantized(tensor, 0)) || isControlFlow(from)) result = [...new Set([...referencedNames([from])].flatMap((t) => resolve(t, depth + 1)))];
    else result = [tensor];
    memo.set(tensor, result);
    return result;
  };
  return (tensor) => resolve(tensor, 0);
}

/** A part from the graph inputs runs instead of the whole model (which keeps checkpoints) when it is at most this share of the nodes. */
const SMALL_PART = 0.5;

/** How many nodes a part may run again to spare keeping one boundary value (recomputable()). */
const RECOMPUTE_NODES = 64;

/**
 * The boundary without the values the part can compute again from the others: a probe model reads
 * the float half's value of every layer in the edited cone, all unchanged, and keeping each of them
 * would hold every float activation of the cone per sample (the demo: 48 MB a sample). Only the first
 * of such a chain is kept; the part runs the float layers behind it (issue #15: a boundary, not the
 * cone's activations). A value stays kept where computing it again would start from the graph's
 * inputs or run more than RECOMPUTE_NODES nodes.
 */
function withoutRecomputable(graph: onnx.IGraphProto, signatures: ReadonlyMap<string, Signature>, keep: readonly string[]): string[] {
  const producer = new Map<string, onnx.INodeProto>();
  for (const node of graph.node ?? []) for (const o of node.output ?? []) if (o) producer.set(o, node);
  const inputs = new Set((graph.input ?? []).map((i) => i.name!));
  const kept = new Set(keep);
  // Upstream values first: a value dropped below is then computed from the ones above it.
  const order = new Map((graph.node ?? []).map((n, k) => [n, k] as const));
  const byPosition = [...keep].sort((a, b) => (order.get(producer.get(a)!) ?? -1) - (order.get(producer.get(b)!) ?? -1));
  for (const tensor of byPosition.reverse()) {
    kept.delete(tensor);
    if (!recomputable(tensor, kept, producer, inputs, signatures)) kept.add(tensor);
  }
  return keep.filter((t) => kept.has(t));
}

/** Whether `tensor` follows from the `from` values and constants through at most RECOMPUTE_NODES plain nodes. */
function recomputable(tensor: string, from: ReadonlySet<string>, producer: ReadonlyMap<string, onnx.INodeProto>, inputs: ReadonlySet<string>, signatures: ReadonlyMap<string, Signature>): boolean {
  const visited = new Set<onnx.INodeProto>();
  const stack = [tensor];
  const seen = new Set<string>();
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    if (t !== tensor && from.has(t)) continue;
    const sig = signatures.get(t);
    if (sig && isConstant(sig)) continue;
    const node = producer.get(t);
    if (inputs.has(t) || !node || isControlFlow(node)) return false;
    if (visited.has(node)) continue;
    visited.add(node);
    if (visited.size > RECOMPUTE_NODES) return false;
    for (const read of referencedNames([node])) stack.push(read);
  }
  return true;
}

/** Checkpoints a whole run keeps besides an edit's boundary: at most this many cuts, spread over the graph. */
const CHECKPOINTS = 4;
/** A cut is kept only if its values are few tensors (a chain's single activation, a probe's two halves). */
const CUT_WIDTH = 4;

/**
 * Narrow cuts of the graph: points of the node order where every value still to be read is one of
 * a few keepable tensors. Kept by whole runs, they let the first edit of any region downstream run
 * from the nearest cut above it instead of from the inputs (the edit's own boundary is only known
 * once it happened).
 */
function checkpoints(graph: onnx.IGraphProto, keepable: (tensor: string) => readonly string[]): (readonly string[])[] {
  // A cut at position k of an order means the k nodes before it are done: the part from it runs the rest.
  const cuts = [...cutsAlong(graph.node ?? [], keepable), ...cutsAlong(executionOrder(graph), keepable)];
  if (cuts.length === 0) return [];
  const total = (graph.node ?? []).length;
  const picked = new Set<{ index: number; tensors: readonly string[] }>();
  for (let k = 1; k <= CHECKPOINTS; k++) {
    const target = (k * total) / (CHECKPOINTS + 1);
    let best = cuts[0];
    for (const cut of cuts) if (Math.abs(cut.index - target) < Math.abs(best.index - target)) best = cut;
    picked.add(best);
  }
  return [...picked].map((cut) => cut.tensors);
}

/**
 * The tensors no quantizer reaches: made from the graph's inputs and initializers by nodes none of
 * which is a QuantizeLinear or DequantizeLinear (nor holds a body): a probe model's float half, a QDQ
 * model's float layers before its first quantizer. No QTable changes them, so a checkpoint does not
 * keep them: a part starting from the cut computes them again from the inputs. On the demo's probe
 * they are the cuts' float values (37 MB in each worker at 30 samples); the first edit of a region
 * then runs 80 more float nodes (its heatmap part 2.0 -> 2.2 s for 15 samples in Node).
 */
function quantizerFree(graph: onnx.IGraphProto): Set<string> {
  const free = new Set<string>([...(graph.input ?? []).map((i) => i.name!), ...(graph.initializer ?? []).map((t) => t.name!)]);
  for (const node of graph.node ?? []) {
    if (/^(Quantize|Dequantize)Linear$/.test(node.opType ?? '') || isControlFlow(node)) continue;
    if ((node.input ?? []).every((t) => !t || free.has(t))) for (const o of node.output ?? []) if (o) free.add(o);
  }
  return free;
}

/**
 * Checkpoints cost memory and only save time (the boundary is what the next edit of a region
 * needs): a runner keeps cuts, cheapest first, while their values (a tensor shared by two cuts
 * counted once) hold at most this many bytes per sample. The demo keeps its QDQ model's four (int8,
 * 1.2 MB a sample) and its probe's (the quantized half's int8 values: quantizerFree).
 */
const CHECKPOINT_BYTES_PER_SAMPLE = 4 * 1024 * 1024;

/** The cuts (as signatures) a run keeps within `budget` bytes per sample, measured on the values it fetched. */
function affordableCuts(cuts: readonly (readonly Signature[])[], values: ReadonlyMap<Signature, Map<number, Tensor>>, samples: number, budget: number): (readonly Signature[])[] {
  if (samples === 0) return [];
  const bytesOf = (sig: Signature) => [...(values.get(sig)?.values() ?? [])].reduce((s, t) => s + t.data.byteLength, 0) / samples;
  const union = (sigs: Iterable<Signature>) => [...new Set(sigs)].reduce((sum, sig) => sum + bytesOf(sig), 0);
  const kept: (readonly Signature[])[] = [];
  for (const cut of [...cuts].sort((a, b) => union(a) - union(b))) {
    if (union([...kept.flat(), ...cut]) <= budget) kept.push(cut);
  }
  return kept;
}

/**
 * The integer tensors of QuantizeLinear -> DequantizeLinear -> QuantizeLinear -> DequantizeLinear
 * chains (Identity and Dropout between them count as nothing: onnxruntime removes them first).
 * onnxruntime's DoubleQDQPairsRemover replaces such a chain by one pair with merged qparams, which
 * rounds differently, but only where neither integer tensor has another reader: fetching one (to
 * keep it) would stop the merge and change every value after it (DTLN's LSTM output: 3e-4 of output
 * cosine), and feeding one to a part has no first pair to merge. Neither is kept.
 */
function doubleQdqPairs(graph: onnx.IGraphProto): Set<string> {
  const readers = new Map<string, onnx.INodeProto[]>();
  for (const node of graph.node ?? []) {
    for (const t of referencedNames([node])) (readers.get(t) ?? readers.set(t, []).get(t)!).push(node);
  }
  const outputs = new Set((graph.output ?? []).map((o) => o.name!));
  const soleReader = (tensor: string | undefined): onnx.INodeProto | undefined => {
    for (let depth = 0; tensor && depth < 16; depth++) {
      const read = readers.get(tensor) ?? [];
      if (read.length !== 1 || outputs.has(tensor)) return undefined;
      if (read[0].opType !== 'Identity' && read[0].opType !== 'Dropout') return read[0];
      tensor = read[0].output?.[0];
    }
    return undefined;
  };
  const merged = new Set<string>();
  for (const first of graph.node ?? []) {
    if (first.opType !== 'QuantizeLinear' || !first.output?.[0]) continue;
    const dq = soleReader(first.output[0]);
    if (dq?.opType !== 'DequantizeLinear') continue;
    const second = soleReader(dq.output?.[0]);
    if (second?.opType !== 'QuantizeLinear' || !second.output?.[0]) continue;
    if (soleReader(second.output[0])?.opType !== 'DequantizeLinear') continue;
    merged.add(first.output[0]);
    merged.add(second.output[0]);
  }
  return merged;
}

/** The narrow cuts along one topological order of the nodes: where every value still to be read is one of a few keepable tensors. */
function cutsAlong(nodes: readonly onnx.INodeProto[], keepable: (tensor: string) => readonly string[]): { index: number; tensors: readonly string[] }[] {
  const remaining = new Map<string, number>();
  for (const node of nodes) for (const t of referencedNames([node])) remaining.set(t, (remaining.get(t) ?? 0) + 1);
  const live = new Set<string>();
  const cuts: { index: number; tensors: readonly string[] }[] = [];
  nodes.forEach((node, index) => {
    for (const t of referencedNames([node])) {
      const left = (remaining.get(t) ?? 1) - 1;
      remaining.set(t, left);
      if (left === 0) live.delete(t);
    }
    for (const o of node.output ?? []) if (o && (remaining.get(o) ?? 0) > 0) live.add(o);
    if (index === nodes.length - 1 || live.size === 0 || live.size > CUT_WIDTH * 2) return;
    const tensors = [...new Set([...live].flatMap((t) => keepable(t)))];
    if (tensors.length > 0 && tensors.length <= CUT_WIDTH) cuts.push({ index, tensors });
  });
  return cuts;
}

/**
 * The nodes in the order onnxruntime runs them (its default order: a depth-first walk from the
 * graph's leaves, the last one first, each node after its inputs' producers). Cuts are looked for in
 * that order too: in the file's order a probe model lists its float half after the whole quantized
 * half, and no cut exists there past its first layers.
 */
function executionOrder(graph: onnx.IGraphProto): onnx.INodeProto[] {
  const nodes = graph.node ?? [];
  const producer = new Map<string, number>();
  nodes.forEach((node, k) => {
    for (const o of node.output ?? []) if (o) producer.set(o, k);
  });
  const read = new Set<number>();
  const inputsOf = nodes.map((node) => [...new Set([...referencedNames([node])].map((t) => producer.get(t)).filter((p): p is number => p !== undefined))].sort((a, b) => a - b));
  for (const producers of inputsOf) for (const p of producers) read.add(p);
  const order: onnx.INodeProto[] = [];
  const visited = new Set<number>();
  const stack: [number, boolean][] = nodes.map((_, k) => k).filter((k) => !read.has(k)).map((k) => [k, false]);
  while (stack.length) {
    const [k, done] = stack.pop()!;
    if (done) {
      order.push(nodes[k]);
      continue;
    }
    if (visited.has(k)) continue;
    visited.add(k);
    stack.push([k, true]);
    for (const p of inputsOf[k]) if (!visited.has(p)) stack.push([p, false]);
  }
  return order;
}

/**
 * A kept set after a run: the run's values for `sigs` join the set when it is the same set (more
 * samples: the rest of a progressive figure), or replace it; no sigs leave it as it was.
 */
function keepValues(current: Map<Signature, Map<number, Tensor>>, sigs: readonly Signature[], values: ReadonlyMap<Signature, Map<number, Tensor>>): Map<Signature, Map<number, Tensor>> {
  const fresh = [...new Set(sigs)].filter((sig) => values.has(sig));
  if (fresh.length === 0) return current;
  const same = fresh.length === current.size && fresh.every((sig) => current.has(sig));
  if (same) {
    for (const sig of fresh) for (const [i, value] of values.get(sig)!) current.get(sig)!.set(i, value);
    return current;
  }
  return new Map(fresh.map((sig) => [sig, values.get(sig)!]));
}

interface RunPlan {
  readonly kind: 'cached' | 'whole' | 'part';
  readonly nodes: ReadonlySet<string>;
  /** Graph inputs and kept tensors the run reads. */
  readonly feeds: readonly string[];
  /** Tensors the run returns. */
  readonly fetch: readonly string[];
  /** Fetched tensors kept as the edit's boundary. */
  readonly keep: readonly string[];
  /** Fetched cuts kept as checkpoints (a whole run's), each a few tensors. */
  readonly checkpoints: readonly (readonly string[])[];
}

function isGraphInput(graph: onnx.IGraphProto, name: string): boolean {
  return (graph.input ?? []).some((i) => i.name === name);
}

/** A node holding a body (If, Loop, Scan): its outputs are kept only at its inputs (a body is not cut). */
function isControlFlow(node: onnx.INodeProto): boolean {
  return (node.attribute ?? []).some((a) => a.g || (a.graphs && a.graphs.length > 0));
}

/** The nodes that compute `targets` from the graph inputs and the `available` tensors, and which of those they read. */
function partComputing(graph: onnx.IGraphProto, signatures: ReadonlyMap<string, Signature>, targets: readonly string[], available: ReadonlySet<Signature>): { nodes: Set<string>; feeds: string[] } {
  const producer = new Map<string, onnx.INodeProto>();
  for (const node of graph.node ?? []) for (const o of node.output ?? []) if (o) producer.set(o, node);
  const inputs = new Set((graph.input ?? []).map((i) => i.name!));
  const nodes = new Set<string>();
  const feeds = new Set<string>();
  const seen = new Set<string>();
  const stack = [...targets];
  while (stack.length) {
    const tensor = stack.pop()!;
    if (seen.has(tensor)) continue;
    seen.add(tensor);
    const sig = signatures.get(tensor);
    if (inputs.has(tensor)) feeds.add(tensor);
    else if (sig?.startsWith('init:')) continue;
    // a constant computed in the graph (a weight's DequantizeLinear): its nodes go into the part
    else if (sig && available.has(sig) && !targets.includes(tensor)) feeds.add(tensor);
    else {
      const node = producer.get(tensor);
      if (!node || nodes.has(node.name!)) continue;
      nodes.add(node.name!);
      for (const read of referencedNames([node])) stack.push(read);
    }
  }
  return { nodes, feeds: [...feeds] };
}

function encodeWithOutputs(proto: onnx.ModelProto, fetch: readonly string[]): Uint8Array {
  const graph = proto.graph!;
  const declared = new Set(graph.output.map((o) => o.name));
  const extra = fetch.filter((t) => !declared.has(t)).map((name) => onnx.ValueInfoProto.create({ name }));
  if (extra.length === 0) return onnx.ModelProto.encode(proto).finish();
  return onnx.ModelProto.encode(onnx.ModelProto.create({ ...proto, graph: onnx.GraphProto.create({ ...graph, output: [...graph.output, ...extra] }) })).finish();
}

/**
 * The incremental runners of one sample set: the QDQ model's outputs, the probe model's per-layer
 * error sums, the local probe's. The local probe keeps no checkpoints: a changed copy needs only the
 * float values it reads, kept as its boundary or computed from the inputs by the float layers before
 * it (a small part), and its cuts would hold float activations (the demo: 22 MB over 6 samples).
 */
export interface WhatIfRunners {
  readonly outputs: IncrementalOutputs;
  readonly layers: IncrementalOutputs;
  readonly local: IncrementalOutputs;
}

export function whatIfRunners(engine: Engine, modelName: string, samples: readonly TensorMap[], options: { readonly enabled?: boolean } = {}): WhatIfRunners {
  const slot = new SessionSlot();
  const probe = { ...options, slot, graphOptimization: PROBE_GRAPH_OPTIMIZATION };
  const runners = {
    outputs: new IncrementalOutputs(engine, modelName, samples, { ...options, slot }),
    layers: new IncrementalOutputs(engine, modelName, samples, probe),
    local: new IncrementalOutputs(engine, modelName, samples, { ...probe, checkpointBytesPerSample: 0 }),
  };
  const all = Object.values(runners);
  for (const r of all) r.shareKeptValuesWith(all);
  return runners;
}

/** Whether two tensors hold the same dtype, dims and bytes. */
function sameBytes(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype || a.dims.length !== b.dims.length || a.dims.some((d, k) => d !== b.dims[k])) return false;
  const x = a.data as ArrayBufferView;
  const y = b.data as ArrayBufferView;
  if (x.byteLength !== y.byteLength) return false;
  // Four bytes at a time where both views allow it (a kept float value runs to megabytes).
  const words = x.byteOffset % 4 === 0 && y.byteOffset % 4 === 0 ? Math.floor(x.byteLength / 4) : 0;
  const xw = new Int32Array(x.buffer, x.byteOffset, words);
  const yw = new Int32Array(y.buffer, y.byteOffset, words);
  for (let k = 0; k < words; k++) if (xw[k] !== yw[k]) return false;
  const xb = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  const yb = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
  for (let k = words * 4; k < x.byteLength; k++) if (xb[k] !== yb[k]) return false;
  return true;
}

/** Bytes the runners keep between edits, a value two of them share counted once. */
export function keptBytes(runners: WhatIfRunners): number {
  const buffers = new Set([runners.outputs, runners.layers, runners.local].flatMap((r) => r.keptTensors().map((t) => t.data)));
  return [...buffers].reduce((sum, data) => sum + data.byteLength, 0);
}

export async function disposeWhatIfRunners(runners: WhatIfRunners): Promise<void> {
  await Promise.all([runners.outputs.dispose(), runners.layers.dispose(), runners.local.dispose()]);
}
