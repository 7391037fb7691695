import type { GraphNode, LayerName } from '../model/ModelGraph';

/**
 * Name matching shared by the table readers and writers. Other toolchains name things their own
 * way: TPU-MLIR's ONNX converter names an op `<output tensor>_<ONNX op type>`
 * (sophgo/tpu-mlir python/transform/OnnxConverter.py), a Circle node is named after its output
 * tensor, Bolt names an op after the ONNX node (or its first output when unnamed). These helpers
 * map such names back to qbench's tensor and layer names.
 */

/** The first non-empty output of a node: the tensor a layer's table entries are about. */
export function firstOutput(node: GraphNode): string | undefined {
  return node.outputs.find((o) => o !== '');
}

/**
 * TPU-MLIR's name for the op producing `tensor` out of `node`: `<tensor>_<OpType>`. Every output
 * of a multi-output node gets its own name (`/m/Split_output_0_Split`, `/m/Split_output_1_Split`
 * in sophgo/tpu-mlir regression/cali_tables/yolov8s_cali_table).
 * @example tpuMlirOpName('input.4', 'Conv') // 'input.4_Conv'
 */
export function tpuMlirOpName(tensor: string, opType: string): string {
  return `${tensor}_${opType}`;
}

/**
 * Resolves a name written by another tool to a qbench tensor name. In order of precedence: a tensor
 * name (node output, graph input or weight: anything a node reads or writes), then TPU-MLIR's
 * `<output>_<OpType>`, then a node's name (its first output).
 */
export function tensorResolver(nodes: readonly GraphNode[]): (name: string) => string | undefined {
  const tensors = new Set<string>();
  const aliases = new Map<string, string>();
  for (const node of nodes) {
    for (const input of node.inputs) if (input) tensors.add(input);
    for (const output of node.outputs) if (output) tensors.add(output);
  }
  for (const node of nodes) {
    const first = firstOutput(node);
    if (first !== undefined && !aliases.has(node.name)) aliases.set(node.name, first);
  }
  // TPU-MLIR op names override node names: a cali_table line is about a tensor, whatever a node is called.
  for (const node of nodes) for (const output of node.outputs) if (output) aliases.set(tpuMlirOpName(output, node.opType), output);
  return (name) => (tensors.has(name) ? name : aliases.get(name));
}

/**
 * Resolves a name written by another tool to a qbench layer: a node's own name wins, then an output
 * tensor name (Circle, Bolt for unnamed nodes), then TPU-MLIR's `<output>_<OpType>`.
 */
export function layerResolver(nodes: readonly GraphNode[]): (name: string) => LayerName | undefined {
  const aliases = new Map<string, LayerName>();
  for (const node of nodes) {
    for (const output of node.outputs) {
      if (!output) continue;
      if (!aliases.has(tpuMlirOpName(output, node.opType))) aliases.set(tpuMlirOpName(output, node.opType), node.name);
    }
  }
  for (const node of nodes) for (const output of node.outputs) if (output) aliases.set(output, node.name);
  for (const node of nodes) aliases.set(node.name, node.name);
  return (name) => aliases.get(name);
}
