import type { Engine, Session } from '../engine/Engine';
import { openSession } from '../engine/openSession';
import { isCancelled } from '../errors';
import { bodies, isIf, isLoop, isScan, outerReferences } from '../io/onnx/ifBodies';
import type { OnnxModel } from '../io/onnx/OnnxModel';
import { onnx } from '../io/onnx/protobuf';
import { readTensorProto } from '../io/onnx/tensorProto';
import type { JobContext } from '../jobs/Job';
import type { ErrorSums } from '../metrics/similarity';
import type { LayerName } from '../model/ModelGraph';
import type { QTable } from '../model/QTable';
import { sliceAlong, type Tensor, type TensorMap } from '../model/tensor';
import type { QdqBuildInput } from '../export/buildQdqModel';
import { MAX_CALIBRATED_ITERATIONS } from '../calib/Calibration';
import { buildProbeModel, type ProbedTensor, type ProbeModel } from './probeModel';
import { scalarOf } from './reductions';
import { branchModel } from '../engine/tensorTypes';

/** A host run's values: the quantized half's tensors under their names, the float half's under floatName(). */
export interface HostValues {
  readonly values: TensorMap;
  readonly floatName: (tensor: string) => string;
}

/** One body run as a model of its own, float and quantized halves side by side, with its probe sums. */
interface BodyProbe {
  readonly model: OnnxModel;
  readonly session: Session;
  readonly probe: ProbeModel;
  readonly probed: readonly ProbedTensor[];
  readonly fetches: readonly string[];
}

/**
 * Each layer's own accumulated error inside If branches and Loop and Scan bodies (issue #9), which
 * the main probe model cannot read: a body's tensors live only while it runs. Each body runs as a
 * model of its own with its float and quantized halves side by side (buildProbeModel with separate
 * inputs), fed the float and the quantized values of what it reads from the host run: the branch
 * each sample's quantized condition takes, every Loop iteration and Scan step with the carried
 * values of each half (at most MAX_CALIBRATED_ITERATIONS steps, as calibration). Nested bodies
 * recurse the same way. Sums add over the steps of a sample; a sample that never runs a body gives
 * its layers no figure for that sample. A body the engine cannot run on its own gives its layers no
 * figure at all instead of failing the evaluation.
 */
export class BodyProber {
  private readonly probes = new Map<onnx.IGraphProto, Promise<BodyProbe | null>>();
  private readonly probedIn = new Map<onnx.IGraphProto, ProbedTensor[]>();

  constructor(
    private readonly engine: Engine,
    /** What bodies are built from (asked for when the first body is built: the host's build decides the precisions). */
    private readonly build: () => Omit<QdqBuildInput, 'model'>,
    /** The main model: every body's layers, and the model ONE's rules look through. */
    private readonly main: OnnxModel,
    probed: readonly (ProbedTensor & { readonly scope: string })[],
  ) {
    const byScope = new Map<string, ProbedTensor[]>();
    for (const p of probed) byScope.set(p.scope, [...(byScope.get(p.scope) ?? []), p]);
    const visit = (graph: onnx.IGraphProto, scope: string) => {
      for (const node of graph.node ?? []) {
        for (const { branch, graph: body } of bodies(node)) {
          const inner = `${scope ? `${scope}/` : ''}${node.name}/${branch}`;
          this.probedIn.set(body, byScope.get(inner) ?? []);
          visit(body, inner);
        }
      }
    };
    visit(main.proto.graph!, '');
  }

  /** True when some layer sits in a body: only then do host runs need hostFetches(). */
  get active(): boolean {
    return [...this.probedIn.values()].some((list) => list.length > 0);
  }

  /** What a run of `host` must fetch so that its bodies can be probed: each control-flow node's inputs and outer reads, in both halves. */
  hostFetches(host: OnnxModel, floatName: (tensor: string) => string): string[] {
    const inputs = new Set(host.proto.graph!.input.map((i) => i.name));
    const initializers = new Set(host.proto.graph!.initializer.map((t) => t.name));
    const out = new Set<string>();
    for (const node of host.proto.graph!.node) {
      if (!this.hasProbes(node)) continue;
      const reads = [...(node.input ?? []).filter(Boolean), ...bodies(node).flatMap(({ graph }) => outerReferences(graph))];
      for (const t of reads) {
        if (initializers.has(t)) continue;
        if (!inputs.has(t)) out.add(t);
        if (!inputs.has(floatName(t))) out.add(floatName(t));
      }
    }
    return [...out];
  }

  /** Adds one sample's sums for every body layer under `host` to `sums` (summed over the steps of the sample). */
  async accumulate(host: OnnxModel, run: HostValues, sums: Map<LayerName, ErrorSums>, job: JobContext): Promise<void> {
    for (const node of host.proto.graph!.node) {
      if (!this.hasProbes(node)) continue;
      try {
        if (isIf(node)) await this.runIf(host, node, run, sums, job);
        else if (isLoop(node)) await this.runLoop(host, node, run, sums, job);
        else if (isScan(node)) await this.runScan(host, node, run, sums, job);
      } catch (error) {
        if (isCancelled(error) || job.cancelled) throw error;
        // Left without a figure: the output figures and the main graph's layers stand.
      }
    }
  }

  async dispose(): Promise<void> {
    const entries = [...this.probes.values()];
    this.probes.clear();
    await Promise.all(entries.map((p) => p.then((probe) => probe?.session.dispose()).catch(() => {})));
  }

  private hasProbes(node: onnx.INodeProto): boolean {
    const walk = (n: onnx.INodeProto): boolean => bodies(n).some(({ graph }) => (this.probedIn.get(graph)?.length ?? 0) > 0 || (graph.node ?? []).some(walk));
    return walk(node);
  }

  private async runIf(host: OnnxModel, node: onnx.INodeProto, run: HostValues, sums: Map<LayerName, ErrorSums>, job: JobContext): Promise<void> {
    const cond = run.values[node.input![0]];
    const branch = Number(cond.data[0]) !== 0 ? 'then_branch' : 'else_branch';
    const graph = bodies(node).find((b) => b.branch === branch)?.graph;
    if (!graph) return;
    await this.step(host, graph, run, {}, sums, job);
  }

  private async runLoop(host: OnnxModel, node: onnx.INodeProto, run: HostValues, sums: Map<LayerName, ErrorSums>, job: JobContext): Promise<void> {
    const graph = bodies(node)[0]?.graph;
    if (!graph) return;
    const bodyInputs = (graph.input ?? []).map((i) => i.name ?? '');
    const bodyOutputs = (graph.output ?? []).map((o) => o.name ?? '');
    const [tripName, condName, ...carriedNames] = node.input ?? [];
    const value = (name: string) => run.values[name] ?? constant(host, name);
    const trips = tripName ? Number(value(tripName).data[0]) : Infinity;
    let cond = condName ? Number(value(condName).data[0]) !== 0 : true;
    let carried = carriedNames.map((n) => ({ q: value(n), f: run.values[run.floatName(n)] ?? value(n) }));
    const scalarDims = (k: number) => (graph.input?.[k]?.type?.tensorType?.shape?.dim ?? []).map(() => 1);
    for (let i = 0; i < trips && cond && i < MAX_CALIBRATED_ITERATIONS; i++) {
      job.throwIfCancelled();
      const iteration: Tensor = { dtype: 'int64', dims: scalarDims(0), data: new BigInt64Array([BigInt(i)]) };
      const condition: Tensor = { dtype: 'bool', dims: scalarDims(1), data: new Uint8Array([cond ? 1 : 0]) };
      const own = [{ q: iteration, f: iteration }, { q: condition, f: condition }, ...carried];
      const out = await this.step(host, graph, run, Object.fromEntries(own.map((v, k) => [bodyInputs[k], v])), sums, job, bodyOutputs);
      if (!out) return;
      cond = Number(out.values[bodyOutputs[0]].data[0]) !== 0;
      carried = bodyOutputs.slice(1, 1 + carried.length).map((o) => ({ q: out.values[o], f: out.values[out.floatName(o)] }));
    }
  }

  private async runScan(host: OnnxModel, node: onnx.INodeProto, run: HostValues, sums: Map<LayerName, ErrorSums>, job: JobContext): Promise<void> {
    const graph = bodies(node)[0]?.graph;
    if (!graph) return;
    const bodyInputs = (graph.input ?? []).map((i) => i.name ?? '');
    const bodyOutputs = (graph.output ?? []).map((o) => o.name ?? '');
    const scanned = Number(node.attribute?.find((a) => a.name === 'num_scan_inputs')?.i ?? 0);
    const inputs = (node.input ?? []).filter(Boolean);
    const stateNames = inputs.slice(0, inputs.length - scanned);
    const scanNames = inputs.slice(stateNames.length);
    if (scanNames.length === 0) return;
    const ints = (name: string) => node.attribute?.find((a) => a.name === name)?.ints?.map(Number);
    const axes = ints('scan_input_axes') ?? scanNames.map(() => 0);
    const reverse = ints('scan_input_directions') ?? scanNames.map(() => 0);
    const pair = (n: string) => ({ q: run.values[n] ?? constant(host, n), f: run.values[run.floatName(n)] ?? run.values[n] ?? constant(host, n) });
    let state = stateNames.map(pair);
    const scans = scanNames.map(pair);
    const axisOf = (k: number, t: Tensor) => (axes[k] < 0 ? axes[k] + t.dims.length : axes[k]);
    const length = scans[0].q.dims[axisOf(0, scans[0].q)];
    for (let t = 0; t < length && t < MAX_CALIBRATED_ITERATIONS; t++) {
      job.throwIfCancelled();
      const slices = scans.map(({ q, f }, k) => {
        const axis = axisOf(k, q);
        const index = reverse[k] ? q.dims[axis] - 1 - t : t;
        return { q: sliceAlong(q, axis, index), f: sliceAlong(f, axis, index) };
      });
      const own = [...state, ...slices];
      const out = await this.step(host, graph, run, Object.fromEntries(own.map((v, k) => [bodyInputs[k], v])), sums, job, bodyOutputs);
      if (!out) return;
      state = bodyOutputs.slice(0, state.length).map((o) => ({ q: out.values[o], f: out.values[out.floatName(o)] }));
    }
  }

  /** One run of a body: its own inputs given, its outer reads taken from the host run. Returns the run's values for what follows. */
  private async step(
    host: OnnxModel,
    graph: onnx.IGraphProto,
    run: HostValues,
    own: Readonly<Record<string, { readonly q: Tensor; readonly f: Tensor }>>,
    sums: Map<LayerName, ErrorSums>,
    job: JobContext,
    outputs: readonly string[] = [],
  ): Promise<HostValues | null> {
    const probe = await this.probeFor(host, graph, outputs);
    if (!probe) return null;
    const feeds: TensorMap = {};
    const initializers = new Set(probe.model.proto.graph!.initializer.map((t) => t.name));
    for (const input of probe.model.proto.graph!.input) {
      if (initializers.has(input.name)) continue;
      const given = own[input.name];
      const q = given?.q ?? run.values[input.name];
      const f = given?.f ?? run.values[run.floatName(input.name)] ?? q;
      feeds[input.name] = q;
      const floatInput = probe.probe.floatName(input.name);
      if (floatInput !== input.name) feeds[floatInput] = f;
    }
    const result = await probe.session.run(feeds, probe.fetches);
    probe.probe.outputs.forEach(({ dd, qq, ff, count }, k) => {
      const layer = probe.probed[k].layer;
      const add = { dd: scalarOf(result[dd].data), qq: scalarOf(result[qq].data), ff: scalarOf(result[ff].data), count: scalarOf(result[count].data) };
      const before = sums.get(layer);
      sums.set(layer, before ? { dd: before.dd + add.dd, qq: before.qq + add.qq, ff: before.ff + add.ff, count: before.count + add.count } : add);
    });
    const values: TensorMap = { ...feeds, ...result };
    const inner: HostValues = { values, floatName: probe.probe.floatName };
    await this.accumulate(probe.model, inner, sums, job);
    return inner;
  }

  private probeFor(host: OnnxModel, graph: onnx.IGraphProto, outputs: readonly string[]): Promise<BodyProbe | null> {
    let entry = this.probes.get(graph);
    if (!entry) {
      entry = this.createProbe(host, graph, outputs).catch(() => null);
      this.probes.set(graph, entry);
    }
    return entry;
  }

  private async createProbe(host: OnnxModel, graph: onnx.IGraphProto, outputs: readonly string[]): Promise<BodyProbe> {
    const build = this.build();
    const model = branchModel(host, graph, build.types);
    const probed = this.probedIn.get(graph) ?? [];
    // Also exposed: what nested bodies read, and a Loop's or Scan's body outputs in both halves (the next step's inputs).
    const probe = buildProbeModel({ ...build, model, ruleModel: this.main }, probed, {
      separateInputs: true,
      extraOutputs: (floatName) => [...this.hostFetches(model, floatName), ...outputs.flatMap((o) => [o, floatName(o)])],
    });
    const exposed = new Set(probe.proto.graph!.output.map((o) => o.name));
    const wanted = [...new Set([...this.hostFetches(model, probe.floatName), ...outputs.flatMap((o) => [o, probe.floatName(o)])])].filter((t) => exposed.has(t));
    // Without graph optimizations: inside its holder the body computes in float on dequantized values
    // (buildQdqModel dequantizes by arithmetic there, so onnxruntime fuses nothing), which is what an
    // unoptimized run of its DequantizeLinear nodes computes; and onnxruntime 1.30's level-1
    // optimizers abort the process on some bodies run alone (Silero VAD v4: an out-of-range NodeArg).
    const session = await openSession(this.engine, onnx.ModelProto.encode(probe.proto).finish(), this.main.fileName, { graphOptimization: 'disabled' });
    const sumNames = probe.outputs.flatMap((o) => [o.dd, o.qq, o.ff, o.count]);
    return { model, session, probe, probed, fetches: [...sumNames, ...wanted] };
  }
}

/** An initializer of the host graph as a tensor (a Loop's trip count, a constant initial state). */
function constant(host: OnnxModel, name: string): Tensor {
  const proto = host.initializerProto(name);
  if (!proto) throw new Error(`no value for "${name}"`);
  return readTensorProto(proto, host.fileName);
}

/** The QTable a body is built with: every layer at the precision the whole model's build gave it (a body the calibration never ran stays float). */
export function pinnedQTable(qtable: QTable, precisions: ReadonlyMap<LayerName, QTable['defaultPrecision']>): QTable {
  return { defaultPrecision: qtable.defaultPrecision, layers: new Map(precisions) };
}
