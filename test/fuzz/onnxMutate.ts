import { Long, onnx } from '../../src/core/io/onnx/protobuf';
import type { Mutated } from './mutate';

type Random = () => number;
const int = (random: Random, n: number) => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T | undefined => (items.length ? items[int(random, items.length)] : undefined);

const ODD_INTS = [0, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 40, 3, 1_000_000];

/** Every graph of the model: the main one and the bodies of If, Loop and Scan, at any depth. */
function graphsOf(graph: onnx.IGraphProto): onnx.IGraphProto[] {
  const out = [graph];
  for (const node of graph.node ?? []) for (const a of node.attribute ?? []) {
    if (a.g) out.push(...graphsOf(a.g));
    for (const g of a.graphs ?? []) out.push(...graphsOf(g));
  }
  return out;
}

/**
 * Mutations of the decoded model that still encode as valid protobuf, so they reach what a byte
 * flip rarely does: readOnnx's normalizing, the opset upgrade, de-quantization, the layer table and
 * onnxruntime. Each changes one field to a value a careless exporter (or an attacker) could write.
 */
const EDITS: readonly ((model: onnx.ModelProto, random: Random) => string | null)[] = [
  (model, random) => {
    const t = pick(random, graphsOf(model.graph!).flatMap((g) => g.initializer ?? []));
    if (!t || !t.dims?.length) return null;
    const k = int(random, t.dims.length);
    const v = pick(random, ODD_INTS)!;
    t.dims[k] = Long.fromNumber(v);
    return `initializer "${t.name}" dim ${k} = ${v}`;
  },
  (model, random) => {
    const t = pick(random, graphsOf(model.graph!).flatMap((g) => g.initializer ?? []));
    if (!t) return null;
    t.dataType = pick(random, [0, 2, 7, 8, 11, 16, 99])!;
    return `initializer "${t.name}" data type = ${t.dataType}`;
  },
  (model, random) => {
    const t = pick(random, graphsOf(model.graph!).flatMap((g) => g.initializer ?? []).filter((i) => i.rawData?.length));
    if (!t) return null;
    t.rawData = t.rawData!.subarray(0, int(random, t.rawData!.length));
    return `initializer "${t.name}" raw data cut to ${t.rawData.length} bytes`;
  },
  (model, random) => {
    const node = pick(random, graphsOf(model.graph!).flatMap((g) => g.node ?? []));
    const a = node && pick(random, node.attribute ?? []);
    if (!a) return null;
    const v = pick(random, ODD_INTS)!;
    if (a.ints?.length) a.ints[int(random, a.ints.length)] = Long.fromNumber(v);
    else a.i = Long.fromNumber(v);
    return `node "${node.name}" attribute ${a.name} = ${v}`;
  },
  (model, random) => {
    const g = pick(random, graphsOf(model.graph!));
    const node = g && pick(random, g.node ?? []);
    if (!node) return null;
    const what = pick(random, ['drop-input', 'rename-input', 'drop-output', 'remove-node', 'duplicate-node', 'op-type'] as const)!;
    if (what === 'drop-input' && node.input?.length) node.input.splice(int(random, node.input.length), 1);
    else if (what === 'rename-input' && node.input?.length) node.input[int(random, node.input.length)] = pick(random, ['', 'missing_tensor', node.output?.[0] ?? ''])!;
    else if (what === 'drop-output' && node.output?.length) node.output.splice(int(random, node.output.length), 1);
    else if (what === 'remove-node') g.node!.splice(g.node!.indexOf(node), 1);
    else if (what === 'duplicate-node') g.node!.push(onnx.NodeProto.create(node));
    else node.opType = pick(random, ['Conv', 'QuantizeLinear', 'DequantizeLinear', 'If', 'Loop', 'Upsample', 'Unknown', ''])!;
    return `node "${node.name}" ${what}`;
  },
  (model, random) => {
    const entry = pick(random, model.opsetImport);
    if (!entry) return null;
    entry.version = Long.fromNumber(pick(random, [7, 9, 10, 11, 13, 23, 0, 24])!);
    return `opset import ${entry.domain || 'ai.onnx'} = ${String(entry.version)}`;
  },
  (model, random) => {
    const info = pick(random, [...model.graph!.input, ...model.graph!.output]);
    const dims = info?.type?.tensorType?.shape?.dim;
    if (!dims?.length) return null;
    const k = int(random, dims.length);
    const v = pick(random, ODD_INTS)!;
    dims[k] = onnx.TensorShapeProto.Dimension.create({ dimValue: Long.fromNumber(v) });
    return `"${info!.name}" dim ${k} = ${v}`;
  },
];

/** One to three structural edits of an .onnx; a file that does not decode gets none (the byte mutations cover it). */
export function mutateOnnx(bytes: Uint8Array, random: Random): Mutated | null {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch {
    return null;
  }
  const done: string[] = [];
  const count = 1 + int(random, 3);
  for (let k = 0; k < count * 3 && done.length < count; k++) {
    const what = EDITS[int(random, EDITS.length)](model, random);
    if (what) done.push(what);
  }
  return { bytes: Uint8Array.from(onnx.ModelProto.encode(model).finish()), what: `edit ${done.join('; ') || 'nothing'}` };
}
