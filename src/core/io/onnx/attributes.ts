import type { AttributeValue } from '../../model/ModelGraph';
import { AttributeType, int64ToNumber, onnx, type Int64 } from './protobuf';
import { tensorDims } from './tensorProto';

const decoder = new TextDecoder();

/** A node attribute as plain data for display and for the passes that read attributes. */
export function attributeValue(attr: onnx.IAttributeProto): AttributeValue {
  switch (attr.type) {
    case AttributeType.FLOAT: return attr.f ?? 0;
    case AttributeType.INT: return int64ToNumber(attr.i as Int64);
    case AttributeType.STRING: return decoder.decode(attr.s ?? new Uint8Array());
    case AttributeType.FLOATS: return [...(attr.floats ?? [])];
    case AttributeType.INTS: return (attr.ints ?? []).map((v) => int64ToNumber(v as Int64));
    case AttributeType.STRINGS: return (attr.strings ?? []).map((s) => decoder.decode(s));
    case AttributeType.TENSOR: return { tensor: attr.t ? tensorDims(attr.t) : [] };
    case AttributeType.GRAPH: return { graph: attr.g?.name ?? 'subgraph', nodes: attr.g ? nodeCount(attr.g) : 0 };
    default: return `(${onnx.AttributeProto.AttributeType[attr.type ?? 0] ?? 'unknown'})`;
  }
}

/** Nodes of a subgraph, its own subgraphs' nodes included. */
function nodeCount(graph: onnx.IGraphProto): number {
  let count = 0;
  for (const node of graph.node ?? []) {
    count++;
    for (const a of node.attribute ?? []) if (a.g) count += nodeCount(a.g);
  }
  return count;
}

export function attributeMap(node: onnx.INodeProto): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const attr of node.attribute ?? []) if (attr.name) out[attr.name] = attributeValue(attr);
  return out;
}

export function findAttribute(node: onnx.INodeProto, name: string): onnx.IAttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function intAttribute(node: onnx.INodeProto, name: string, fallback: number): number {
  const attr = findAttribute(node, name);
  return attr ? int64ToNumber(attr.i as Int64) : fallback;
}

export function intsAttribute(node: onnx.INodeProto, name: string): number[] | undefined {
  const attr = findAttribute(node, name);
  return attr ? (attr.ints ?? []).map((v) => int64ToNumber(v as Int64)) : undefined;
}

export function intAttr(name: string, value: number): onnx.AttributeProto {
  return onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value });
}

export function intsAttr(name: string, values: readonly number[]): onnx.AttributeProto {
  return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: [...values] });
}

export function floatAttr(name: string, value: number): onnx.AttributeProto {
  return onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value });
}

export function stringAttribute(node: onnx.INodeProto, name: string, fallback: string): string {
  const attr = findAttribute(node, name);
  return attr ? decoder.decode(attr.s ?? new Uint8Array()) : fallback;
}

/** An INTS attribute as exact int64 values (Slice's ends are often INT64_MAX, beyond 2^53). */
export function int64sAttribute(node: onnx.INodeProto, name: string): bigint[] | undefined {
  const attr = findAttribute(node, name);
  return attr ? (attr.ints ?? []).map((v) => (typeof v === 'number' ? BigInt(v) : BigInt((v as Int64).toString()))) : undefined;
}

export function stringAttr(name: string, value: string): onnx.AttributeProto {
  return onnx.AttributeProto.create({ name, type: AttributeType.STRING, s: new TextEncoder().encode(value) });
}
