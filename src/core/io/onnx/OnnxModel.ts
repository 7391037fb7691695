import { FormatError, QbenchError } from '../../errors';
import type { GraphNode, ModelGraph, ValueDesc, WeightDesc } from '../../model/ModelGraph';
import type { Tensor } from '../../model/tensor';
import { attributeMap } from './attributes';
import { refuseExternalData } from './externalData';
import { bodyNodes } from './ifBodies';
import { normalizeModel } from './normalize';
import { irVersionFor, upgradeGraph } from './opsetUpgrade';
import { int64ToNumber, onnx, type Int64 } from './protobuf';
import { dtypeOfOnnx, readTensorProto, tensorDims } from './tensorProto';

/** Lowest and highest ai.onnx opset qbench reads and quantizes (issue #2). */
export const MIN_OPSET = 7;
export const MAX_OPSET = 23;
/** Models below opset 11 are upgraded on reading to this opset (opsetUpgrade.ts). */
export const UPGRADE_BELOW = 11;
export const UPGRADE_TO = 13;

/**
 * A decoded, normalized ONNX model: the protobuf (the source of every model qbench writes),
 * its format-neutral graph, and its weights decoded on first use.
 */
export class OnnxModel {
  readonly graph: ModelGraph;
  private readonly initializers = new Map<string, onnx.TensorProto>();
  private readonly decoded = new Map<string, Tensor>();

  /** `upgradedFrom`: the file's ai.onnx opset where readOnnx upgraded the model from it. */
  constructor(readonly proto: onnx.ModelProto, readonly fileName: string, sizeBytes: number, readonly upgradedFrom?: number) {
    for (const init of proto.graph!.initializer) this.initializers.set(init.name, init);
    this.graph = describeGraph(proto, fileName, sizeBytes, upgradedFrom);
  }

  get opset(): number {
    return this.graph.opset;
  }

  isInitializer(name: string): boolean {
    return this.initializers.has(name);
  }

  initializerProto(name: string): onnx.TensorProto | undefined {
    return this.initializers.get(name);
  }

  /** The values of an initializer (a weight, a bias, a constant). */
  weight(name: string): Tensor {
    let tensor = this.decoded.get(name);
    if (!tensor) {
      const proto = this.initializers.get(name);
      if (!proto) throw new Error(`${this.fileName}: no initializer named "${name}"`);
      tensor = readTensorProto(proto, this.fileName);
      this.decoded.set(name, tensor);
    }
    return tensor;
  }

  /** The normalized model as bytes (what the float engine session loads). */
  encode(): Uint8Array {
    return onnx.ModelProto.encode(this.proto).finish();
  }
}

/**
 * Reads an .onnx file. Every problem becomes a FormatError naming the file: not protobuf, not a
 * model, truncated, an opset outside 7..23, no outputs, external data anywhere in the model
 * (externalData.ts: no file the user did not give is ever read). Models of opset 7 to 10 are upgraded to
 * opset 13 after normalizing (so every node has its name and every Constant is an initializer);
 * an operator that cannot be converted is a QbenchError naming the file and the node.
 */
export function readOnnx(bytes: Uint8Array, fileName: string): OnnxModel {
  if (bytes.length === 0) throw new FormatError(fileName, 'the file is empty');
  let proto: onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const truncated = /index out of range|premature|EOF/i.test(detail);
    throw new FormatError(fileName, truncated
      ? `the ONNX model is truncated or damaged (${detail}); the file ends before the model does`
      : `this is not an ONNX model: it does not decode as an ONNX ModelProto (${detail})`);
  }
  const graph = proto.graph;
  if (!graph || graph.node.length === 0 || proto.opsetImport.length === 0) {
    throw new FormatError(fileName, 'this is not an ONNX model: it has no graph, no nodes or no opset import');
  }
  const opset = aiOnnxOpset(proto);
  if (opset === undefined) throw new FormatError(fileName, 'the model imports no ai.onnx opset');
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new FormatError(fileName, `the model uses ai.onnx opset ${opset}; qbench reads opsets ${MIN_OPSET} to ${MAX_OPSET}. Convert it first (onnx.version_converter.convert_version(model, ${UPGRADE_TO})).`);
  }
  // Before anything else reads a tensor, and long before any engine session: onnxruntime would open the file it names.
  refuseExternalData(proto, fileName);
  if (graph.output.length === 0) {
    throw new FormatError(fileName, 'the model has no outputs: there is nothing to calibrate, compare or export. Declare the tensors it computes as graph outputs (in onnx: model.graph.output.append(...)) and open it again');
  }
  normalizeModel(proto, fileName);
  if (opset >= UPGRADE_BELOW) return new OnnxModel(proto, fileName, bytes.length);
  upgradeModel(proto, opset, fileName);
  return new OnnxModel(proto, fileName, bytes.length, opset);
}

/** Rewrites a normalized model of opset 7..10 in place as an opset-13 model computing the same. */
function upgradeModel(proto: onnx.ModelProto, from: number, fileName: string): void {
  try {
    proto.graph = upgradeGraph(proto.graph!, from, UPGRADE_TO);
  } catch (error) {
    if (error instanceof QbenchError && !error.fileName) throw new QbenchError(`${error.message} (the model uses ai.onnx opset ${from}, which qbench upgrades to ${UPGRADE_TO} on reading)`, fileName);
    throw error;
  }
  proto.opsetImport = proto.opsetImport.map((o) => (!o.domain || o.domain === 'ai.onnx' ? onnx.OperatorSetIdProto.create({ domain: o.domain, version: UPGRADE_TO }) : o));
  proto.irVersion = irVersionFor(UPGRADE_TO, proto.irVersion as Int64);
}

export function aiOnnxOpset(proto: onnx.IModelProto): number | undefined {
  const entry = proto.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? int64ToNumber(entry.version as Int64) : undefined;
}

function valueDesc(info: onnx.IValueInfoProto): ValueDesc {
  const tensorType = info.type?.tensorType;
  const dims = tensorType?.shape?.dim;
  return {
    name: info.name ?? '',
    dtype: tensorType ? dtypeOfOnnx(tensorType.elemType ?? 0) ?? 'other' : null,
    dims: dims ? dims.map((d) => (d.dimValue !== undefined && d.dimValue !== null && !d.dimParam ? int64ToNumber(d.dimValue as Int64) || null : null)) : null,
    dimNames: dims ? dims.map((d) => d.dimParam || null) : undefined,
  };
}

function describeGraph(proto: onnx.ModelProto, fileName: string, sizeBytes: number, upgradedFrom: number | undefined): ModelGraph {
  const graph = proto.graph!;
  const describe = (node: onnx.INodeProto, scope?: string): GraphNode => ({
    name: node.name ?? '',
    opType: node.opType ?? '',
    domain: node.domain ?? '',
    inputs: [...(node.input ?? [])],
    outputs: [...(node.output ?? [])],
    attributes: attributeMap(node),
    ...(scope ? { scope } : {}),
  });
  // Main-graph nodes in topological order, then the layers inside If branches (issue #9).
  const nodes: GraphNode[] = [...graph.node.map((node) => describe(node)), ...bodyNodes(graph).map(({ node, scope }) => describe(node, scope))];
  const weights: WeightDesc[] = graph.initializer.map((t) => ({ name: t.name, dtype: dtypeOfOnnx(t.dataType) ?? null, dims: tensorDims(t) }));
  return {
    fileName,
    format: 'onnx',
    opset: aiOnnxOpset(proto) ?? 0,
    ...(upgradedFrom !== undefined ? { upgradedFrom } : {}),
    producer: [proto.producerName, proto.producerVersion].filter(Boolean).join(' '),
    ...(proto.metadataProps?.length ? { metadata: Object.fromEntries(proto.metadataProps.map((e) => [e.key ?? '', e.value ?? ''])) } : {}),
    inputs: graph.input.map(valueDesc),
    outputs: graph.output.map(valueDesc),
    nodes,
    weights,
    sizeBytes,
  };
}
