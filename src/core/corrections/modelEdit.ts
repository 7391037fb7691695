import { OnnxModel } from '../io/onnx/OnnxModel';
import { DataType, onnx } from '../io/onnx/protobuf';
import { makeTensorProto, readTensorProto, tensorDims } from '../io/onnx/tensorProto';

/** A float32 initializer's values (a copy the caller may change) and its shape. */
export interface FloatWeight {
  readonly dims: number[];
  readonly data: Float32Array;
}

/**
 * A copy-on-write edit of a model: nodes are fresh copies, initializers are replaced by name, and
 * build() returns a new OnnxModel. The input model (its proto, nodes and tensors) is never changed,
 * so the workbench can keep the original next to the corrected one and toggle between them.
 */
export class ModelEdit {
  /** Fresh copies of the graph's nodes, in order; callers may change them freely. */
  readonly nodes: onnx.NodeProto[];
  private readonly initializers = new Map<string, onnx.TensorProto>();
  private readonly replaced = new Map<string, FloatWeight>();
  /** Initializers an edit stopped reading: pruned at build() if nothing else reads them. */
  private readonly orphans = new Set<string>();
  private readonly taken: Set<string>;
  readonly graphOutputs: ReadonlySet<string>;

  constructor(readonly model: OnnxModel) {
    const graph = model.proto.graph!;
    this.nodes = graph.node.map((n) => onnx.NodeProto.create({ ...n, input: [...n.input], output: [...n.output], attribute: [...n.attribute] }));
    for (const init of graph.initializer) this.initializers.set(init.name, init);
    this.graphOutputs = new Set(graph.output.map((o) => o.name));
    this.taken = new Set([...graph.node.flatMap((n) => [n.name, ...n.output]), ...graph.input.map((i) => i.name), ...graph.initializer.map((t) => t.name)]);
  }

  /** `base` itself if free, else `base_2`, `base_3`, ... */
  uniqueName(base: string): string {
    let name = base;
    for (let k = 2; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }

  isInitializer(name: string): boolean {
    return this.initializers.has(name);
  }

  /** A float32 initializer's current values (a private copy), or undefined for anything else. */
  floatWeight(name: string | undefined): FloatWeight | undefined {
    if (!name) return undefined;
    const own = this.replaced.get(name);
    if (own) return { dims: [...own.dims], data: own.data.slice() };
    const proto = this.initializers.get(name);
    if (!proto || proto.dataType !== DataType.FLOAT) return undefined;
    const tensor = this.model.isInitializer(name) ? this.model.weight(name) : readTensorProto(proto, this.model.fileName);
    return { dims: tensorDims(proto), data: Float32Array.from(tensor.data as Float32Array) };
  }

  /** Replaces an initializer's values, keeping its name. */
  setWeight(name: string, weight: FloatWeight): void {
    const data = weight.data instanceof Float32Array ? weight.data : Float32Array.from(weight.data);
    this.replaced.set(name, { dims: [...weight.dims], data });
    this.initializers.set(name, makeTensorProto(name, { dtype: 'float32', dims: weight.dims, data }));
    this.taken.add(name);
  }

  /** A new float32 initializer under a unique name derived from `base`. */
  addWeight(base: string, weight: FloatWeight): string {
    const name = this.uniqueName(base);
    this.setWeight(name, weight);
    return name;
  }

  /** Adds any initializer (an int64 shape, a scalar) under its own name. */
  addInitializer(tensor: onnx.TensorProto): string {
    this.initializers.set(tensor.name, tensor);
    this.taken.add(tensor.name);
    return tensor.name;
  }

  /** Nodes that read `tensor`, in graph order (a node reading it twice is listed once). */
  consumers(tensor: string): onnx.NodeProto[] {
    return this.nodes.filter((n) => n.input.includes(tensor));
  }

  producer(tensor: string): onnx.NodeProto | undefined {
    return this.nodes.find((n) => n.output.includes(tensor));
  }

  /**
   * Writes new values for input `index` of `node`. When no other node (and no graph output) reads
   * that initializer, it keeps its name and is replaced; when it is shared (tied weights), the node
   * gets a copy under a new name, so the other readers keep the old values.
   */
  writeInput(node: onnx.NodeProto, index: number, weight: FloatWeight, suffix: string): string {
    const name = node.input[index];
    const readers = this.nodes.filter((n) => n.input.includes(name));
    const exclusive = readers.length === 1 && readers[0] === node && node.input.indexOf(name) === node.input.lastIndexOf(name) && !this.graphOutputs.has(name);
    if (exclusive) {
      this.setWeight(name, weight);
      return name;
    }
    const fresh = this.addWeight(`${name}_${suffix}`, weight);
    node.input[index] = fresh;
    return fresh;
  }

  /** Sets an optional input (a Conv's bias) that the node does not have yet. */
  addInput(node: onnx.NodeProto, index: number, name: string): void {
    while (node.input.length < index) node.input.push('');
    node.input[index] = name;
  }

  /** Removes a node; the initializers only it read are pruned at build(). */
  removeNode(node: onnx.NodeProto): void {
    const at = this.nodes.indexOf(node);
    if (at < 0) throw new Error(`node "${node.name}" is not in the graph being edited`);
    this.nodes.splice(at, 1);
    for (const input of node.input) if (input && this.initializers.has(input)) this.orphans.add(input);
  }

  /** The edited model: a new ModelProto sharing every untouched tensor with the original. */
  build(): OnnxModel {
    const graph = this.model.proto.graph!;
    const read = new Set<string>();
    for (const node of this.nodes) for (const input of node.input) if (input) read.add(input);
    for (const name of this.graphOutputs) read.add(name);
    const initializer = [...this.initializers.values()].filter((t) => !this.orphans.has(t.name) || read.has(t.name));
    const produced = new Set([...graph.input.map((i) => i.name), ...initializer.map((t) => t.name), ...this.nodes.flatMap((n) => n.output)]);
    const proto = onnx.ModelProto.create({
      ...this.model.proto,
      graph: onnx.GraphProto.create({
        ...graph,
        node: this.nodes,
        initializer,
        valueInfo: graph.valueInfo.filter((v) => produced.has(v.name)),
      }),
    });
    return new OnnxModel(proto, this.model.fileName, onnx.ModelProto.encode(proto).finish().length);
  }
}

/** Element count of a shape. */
export function sizeOf(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** A float32 TensorProto of values (a scalar when dims is []). */
export function floatProto(name: string, dims: readonly number[], values: ArrayLike<number>): onnx.TensorProto {
  return makeTensorProto(name, { dtype: 'float32', dims: [...dims], data: Float32Array.from(values) });
}
