import { onnx } from '../../io/onnx/protobuf';
import { referencedNames } from '../../io/onnx/GraphWriter';

/**
 * What computes each tensor of a graph, as one string: the tensor's whole recipe (operators,
 * attributes, initializer contents and graph inputs, back to the inputs) hashed. Two builds of a
 * model under two QTables give a tensor the same signature exactly when both compute it the same
 * way, whatever names the builds gave it; so a value computed under one QTable can stand in for the
 * same tensor under another (the incremental what-if, docs/architecture.md "Incremental evaluation").
 *
 * The hash is 64 bits (two 32-bit lanes); initializers are hashed by content, since two builds
 * reuse names for different contents (a weight stored as int8 in one and int16 in the other).
 */
export type Signature = string;

export function tensorSignatures(graph: onnx.IGraphProto): Map<string, Signature> {
  const signatures = new Map<string, Signature>();
  for (const input of graph.input ?? []) if (input.name) signatures.set(input.name, `in:${input.name}`);
  for (const init of graph.initializer ?? []) if (init.name) signatures.set(init.name, initializerSignature(init));
  for (const node of graph.node ?? []) {
    const explicit = (node.input ?? []).map((name) => (name ? signatures.get(name) ?? `outer:${name}` : '-'));
    // A node holding a body also reads outer-scope names inside it.
    const implicit = hasBodies(node) ? [...referencedNames([node])].filter((n) => !(node.input ?? []).includes(n)).sort().map((n) => signatures.get(n) ?? `outer:${n}`) : [];
    const recipe = `${node.domain ?? ''}|${node.opType}|${attributesHash(node)}|${explicit.join(',')}|${implicit.join(',')}`;
    // Computed from initializers alone (a weight's DequantizeLinear): a constant, never fed from outside.
    const constant = explicit.length > 0 && implicit.length === 0 && explicit.every((sig) => sig === '-' || isConstant(sig));
    const base = `${constant ? 'const:' : ''}${hashString(recipe)}`;
    (node.output ?? []).forEach((name, k) => {
      if (name) signatures.set(name, `${base}#${k}`);
    });
  }
  return signatures;
}

/** A signature of an initializer or of a value computed from initializers only. */
export function isConstant(signature: Signature): boolean {
  return signature.startsWith('init:') || signature.startsWith('const:');
}

function hasBodies(node: onnx.INodeProto): boolean {
  return (node.attribute ?? []).some((a) => a.g || (a.graphs && a.graphs.length > 0));
}

function attributesHash(node: onnx.INodeProto): string {
  const attributes = node.attribute ?? [];
  if (attributes.length === 0) return '';
  return hashBytes(onnx.NodeProto.encode(onnx.NodeProto.create({ attribute: attributes as onnx.AttributeProto[] })).finish());
}

/** Initializers of the float model are the same objects in every build: hashed once. */
const initializerHashes = new WeakMap<object, Signature>();

function initializerSignature(init: onnx.ITensorProto): Signature {
  const known = initializerHashes.get(init);
  if (known) return known;
  const contents = onnx.TensorProto.encode(onnx.TensorProto.create({ ...init, name: '' } as onnx.ITensorProto)).finish();
  const signature = `init:${hashBytes(contents)}`;
  initializerHashes.set(init, signature);
  return signature;
}

/** Two 32-bit lanes (FNV-1a-like and a multiplicative mix) over the bytes, four at a time, as 16 hex digits. */
export function hashBytes(bytes: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9 ^ bytes.length;
  const n = bytes.length;
  let i = 0;
  if (bytes.byteOffset % 4 === 0 && n >= 4) {
    const words = new Int32Array(bytes.buffer, bytes.byteOffset, n >> 2);
    for (let k = 0; k < words.length; k++) {
      const w = words[k];
      a = Math.imul(a ^ w, 0x01000193);
      b = Math.imul(b ^ w, 0x5bd1e995);
      b ^= b >>> 15;
    }
    i = words.length * 4;
  }
  for (; i < n; i++) {
    const byte = bytes[i];
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return hex(a) + hex(b);
}

function hashString(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return hex(a) + hex(b);
}

function hex(x: number): string {
  return (x >>> 0).toString(16).padStart(8, '0');
}
