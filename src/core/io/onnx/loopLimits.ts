import { FormatError } from '../../errors';
import { checkLimit, type Limits } from '../limits';
import { bodies, isLoop, isScan } from './ifBodies';
import { intAttribute, intsAttribute } from './attributes';
import { onnx } from './protobuf';
import { readTensorProto, tensorDims } from './tensorProto';

/**
 * Loops a model declares, held to the iteration limit before any engine runs them (issue #12): a
 * 447-byte model whose Loop has a trip count of 2^40 would otherwise run until the process is
 * killed, and a single inference cannot be interrupted from inside the thread that runs it.
 *
 * What a file says ahead of time is checked here: a Loop's trip count M when it is a constant (an
 * initializer or a Constant folded into one), and a Scan's sequence length when its scan input has a
 * fixed size along its scan axis (a constant, or a declared dimension). A trip count computed at run
 * time, or a Loop that only stops on its condition, is what the per-inference time limit is for.
 */
export function refuseLongLoops(model: onnx.IModelProto, fileName: string, limits: Pick<Limits, 'loopTrips'>): void {
  if (model.graph) visitGraph(model.graph, 'the main graph', fileName, limits, new Map());
}

type Known = Map<string, { readonly constant?: onnx.ITensorProto; readonly dims?: readonly (number | null)[] }>;

function visitGraph(graph: onnx.IGraphProto, where: string, fileName: string, limits: Pick<Limits, 'loopTrips'>, outer: Known): void {
  // Names seen from this graph: the outer graphs' constants and declared shapes, then its own.
  const known: Known = new Map(outer);
  for (const tensor of graph.initializer ?? []) if (tensor.name) known.set(tensor.name, { constant: tensor });
  for (const info of [...(graph.input ?? []), ...(graph.valueInfo ?? [])]) {
    if (!info.name || known.get(info.name)?.constant) continue;
    const dims = info.type?.tensorType?.shape?.dim?.map((d) => (d.dimValue === undefined || d.dimValue === null || d.dimParam ? null : Number(d.dimValue)));
    if (dims) known.set(info.name, { dims });
  }
  for (const node of graph.node ?? []) {
    if (isLoop(node)) checkLoop(node, where, fileName, limits, known);
    if (isScan(node)) checkScan(node, where, fileName, limits, known);
    for (const { branch, graph: body } of bodies(node)) visitGraph(body, `${node.name ?? node.opType}/${branch}`, fileName, limits, known);
  }
}

function checkLoop(node: onnx.INodeProto, where: string, fileName: string, limits: Pick<Limits, 'loopTrips'>, known: Known): void {
  const tripName = node.input?.[0];
  // ONNX's own rule: with neither input, the loop has no way to end.
  if (!tripName && !node.input?.[1]) {
    throw new FormatError(fileName, `Loop node "${node.name ?? ''}" (${where}) has neither a trip count nor a condition input: it would run forever. Give it a trip count (input M) or a condition`);
  }
  const constant = tripName ? known.get(tripName)?.constant : undefined;
  if (!constant) return;
  let trips: number;
  try {
    const tensor = readTensorProto(constant, fileName);
    if (tensor.data.length !== 1) return;
    trips = Number(tensor.data[0]);
  } catch {
    return; // an unreadable constant is refused, by name, where the model's tensors are read
  }
  checkLimit(limits, 'loopTrips', trips, `Loop node "${node.name ?? ''}" (${where}) declares a trip count of ${trips}`, fileName);
}

function checkScan(node: onnx.INodeProto, where: string, fileName: string, limits: Pick<Limits, 'loopTrips'>, known: Known): void {
  const body = bodies(node)[0]?.graph;
  const scanInputs = intAttribute(node, 'num_scan_inputs', 0);
  const inputs = node.input ?? [];
  if (!body || scanInputs <= 0 || scanInputs > inputs.length) return;
  const first = inputs.length - scanInputs;
  const axes = intsAttribute(node, 'scan_input_axes') ?? [];
  for (let k = 0; k < scanInputs; k++) {
    const entry = known.get(inputs[first + k]);
    const dims = entry?.constant ? tensorDims(entry.constant) : entry?.dims;
    if (!dims?.length) continue;
    const axis = ((axes[k] ?? 0) % dims.length + dims.length) % dims.length;
    const length = dims[axis];
    if (length === null || length === undefined || !Number.isFinite(length)) continue;
    checkLimit(limits, 'loopTrips', length, `Scan node "${node.name ?? ''}" (${where}) runs over a sequence of ${length} steps (input "${inputs[first + k]}")`, fileName);
  }
}
