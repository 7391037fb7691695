import type { DType } from './tensor';

/** A graph node the QTable can address, by its stable name (docs/architecture.md glossary). */
export type LayerName = string;

export type AttributeValue = number | string | readonly number[] | readonly string[] | { readonly tensor: readonly number[] } | { readonly graph: string; readonly nodes?: number };

export interface GraphNode {
  /** Stable and unique: the node's own name, or `<first output>_<op type>` for unnamed nodes (TPU-MLIR's convention). */
  readonly name: LayerName;
  readonly opType: string;
  readonly domain: string;
  /** Tensor names; '' where an optional input is omitted. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  /**
   * Where a node inside an If branch sits: `<If node>/<then_branch|else_branch>`, nested Ifs joined
   * by '/'. Absent for main-graph nodes. Such a node reads tensors of the graphs around it by name.
   */
  readonly scope?: string;
}

export interface ValueDesc {
  readonly name: string;
  readonly dtype: DType | 'other' | null;
  /** null entries are dimensions named symbolically or unknown until run time. */
  readonly dims: readonly (number | null)[] | null;
  /** Symbolic names of dynamic dimensions, where the model gives them. */
  readonly dimNames?: readonly (string | null)[];
}

export interface WeightDesc {
  readonly name: string;
  readonly dtype: DType | null;
  readonly dims: readonly number[];
}

/**
 * The format-neutral view of a model that the UI draws and every job addresses: nodes in
 * topological order, their tensors, the graph's inputs and outputs and its weights (as
 * descriptions; the values stay in the worker). Plain data so it crosses Comlink as is.
 */
export interface ModelGraph {
  readonly fileName: string;
  readonly format: 'onnx';
  readonly opset: number;
  /** The ai.onnx opset of the file where qbench upgraded it on reading (opsets 7 to 10 are read as 13). */
  readonly upgradedFrom?: number;
  readonly producer: string;
  /** The file's metadata_props (key to value), where it has any: preprocessing hints among them (io/dataset/modelPreprocess.ts). */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly inputs: readonly ValueDesc[];
  readonly outputs: readonly ValueDesc[];
  readonly nodes: readonly GraphNode[];
  readonly weights: readonly WeightDesc[];
  readonly sizeBytes: number;
}

/** Which node produces each tensor, and which nodes consume it. */
export interface GraphIndex {
  readonly producer: ReadonlyMap<string, GraphNode>;
  readonly consumers: ReadonlyMap<string, readonly GraphNode[]>;
  readonly byName: ReadonlyMap<LayerName, GraphNode>;
}

export function indexGraph(nodes: readonly GraphNode[]): GraphIndex {
  const producer = new Map<string, GraphNode>();
  const consumers = new Map<string, GraphNode[]>();
  const byName = new Map<LayerName, GraphNode>();
  for (const node of nodes) {
    byName.set(node.name, node);
    for (const output of node.outputs) if (output) producer.set(output, node);
    for (const input of node.inputs) {
      if (!input) continue;
      let list = consumers.get(input);
      if (!list) consumers.set(input, (list = []));
      if (!list.includes(node)) list.push(node);
    }
  }
  return { producer, consumers, byName };
}
