import { FormatError } from '../../errors';
import { onnx } from './protobuf';

/**
 * External data (issue #12): a TensorProto whose data_location is EXTERNAL names a file by path
 * (`location`, relative to the model's folder) or, in onnxruntime, even a memory address
 * (`*\/_ORT_MEM_ADDR_/*`). onnxruntime resolves that path when it creates a session from bytes,
 * against the working directory, and reads whatever file is there. qbench is only ever given the
 * model's bytes, so it reads no file the user did not give: a model with such a tensor anywhere is
 * refused before any engine sees it. Anywhere means every place a TensorProto can sit: initializers
 * and sparse initializers of the main graph and of every subgraph (If, Loop, Scan and any other
 * graph-valued attribute, at any depth), every tensor-valued attribute of any node (Constant's
 * value and sparse_value, any TENSOR, TENSORS, SPARSE_TENSOR or SPARSE_TENSORS attribute), the
 * nodes of model-local functions and the graphs of training_info.
 */

/** A tensor that keeps its values in another file, and where in the model it sits. */
export interface ExternalTensor {
  /** The tensor's name; for an unnamed attribute tensor, the name of what its node outputs. */
  readonly tensor: string;
  /** The file it names (external_data "location"), or null when it names none. */
  readonly location: string | null;
  /** Where it sits, for the message: `an initializer in the main graph`, `attribute "value" of Constant node "c0" in If_0/then_branch`. */
  readonly where: string;
}

/** Every tensor of the model with external data, in the order the model holds them. */
export function externalTensors(model: onnx.IModelProto): ExternalTensor[] {
  const found: ExternalTensor[] = [];
  if (model.graph) visitGraph(model.graph, 'the main graph', '', found);
  for (const fn of model.functions ?? []) visitNodes(fn.node ?? [], `function "${fn.name ?? ''}"`, `${fn.name ?? ''}/`, found);
  (model.trainingInfo ?? []).forEach((info, i) => {
    for (const part of ['initialization', 'algorithm'] as const) {
      const graph = info[part];
      if (graph) visitGraph(graph, `training_info[${i}].${part}`, `training_info[${i}].${part}/`, found);
    }
  });
  return found;
}

/**
 * Throws a FormatError naming the file, the first tensor with external data, where it sits and
 * the file it points at, and what to do; returns when there is none.
 * @example refuseExternalData(model, 'vad.onnx')
 * // throws 'vad.onnx: tensor "w" (an initializer in If_0/then_branch) keeps its data in an external file (secrets/token.bin); ...'
 */
export function refuseExternalData(model: onnx.IModelProto, fileName: string): void {
  const found = externalTensors(model);
  if (found.length === 0) return;
  const [first] = found;
  const file = first.location === null ? 'an external file' : `an external file (${first.location})`;
  const more = found.length > 1 ? ` (and ${found.length - 1} more tensor${found.length > 2 ? 's' : ''})` : '';
  throw new FormatError(fileName, `tensor "${first.tensor}" (${first.where}) keeps its data in ${file}${more}; qbench reads weights only from inside the .onnx file and never opens a file it was not given. Save the model with its weights inside (onnx.save(model, path, save_as_external_data=False)) and open that file.`);
}

function isExternal(tensor: onnx.ITensorProto | null | undefined): tensor is onnx.ITensorProto {
  return tensor?.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL;
}

/** The path as the file gives it, kept to one line of reasonable length (it is the file's text, not ours). */
function locationOf(tensor: onnx.ITensorProto): string | null {
  const location = tensor.externalData?.find((e) => e.key === 'location')?.value;
  if (location === undefined || location === null) return null;
  // oxlint-disable-next-line no-control-regex -- control characters are what is replaced
  const line = location.replace(/[\u0000-\u001f\u007f]/g, '?');
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

/**
 * `label` names the graph in messages (`the main graph`, `If_0/then_branch`); `prefix` starts the
 * label of the subgraphs its nodes hold (empty in the main graph, `If_0/then_branch/` inside one),
 * the scope qbench gives body layers elsewhere.
 */
function visitGraph(graph: onnx.IGraphProto, label: string, prefix: string, found: ExternalTensor[]): void {
  for (const init of graph.initializer ?? []) {
    if (isExternal(init)) found.push({ tensor: init.name ?? '', location: locationOf(init), where: `an initializer in ${label}` });
  }
  for (const sparse of graph.sparseInitializer ?? []) {
    for (const part of [sparse.values, sparse.indices]) {
      if (isExternal(part)) found.push({ tensor: sparse.values?.name ?? '', location: locationOf(part), where: `a sparse initializer in ${label}` });
    }
  }
  visitNodes(graph.node ?? [], label, prefix, found);
}

function visitNodes(nodes: readonly onnx.INodeProto[], label: string, prefix: string, found: ExternalTensor[]): void {
  for (const node of nodes) {
    // An unnamed node or attribute tensor is known by what the node outputs (as qbench names unnamed nodes).
    const nodeName = node.name || node.output?.[0] || '';
    for (const attribute of node.attribute ?? []) {
      const name = attribute.name ?? '';
      const sparse = [attribute.sparseTensor, ...(attribute.sparseTensors ?? [])].flatMap((s) => (s ? [s.values, s.indices] : []));
      for (const t of [attribute.t, ...(attribute.tensors ?? []), ...sparse]) {
        if (isExternal(t)) found.push({ tensor: t.name || node.output?.[0] || '', location: locationOf(t), where: `attribute "${name}" of ${node.opType ?? ''} node "${nodeName}" in ${label}` });
      }
      for (const g of [attribute.g, ...(attribute.graphs ?? [])]) {
        if (g) visitGraph(g, `${prefix}${nodeName}/${name}`, `${prefix}${nodeName}/${name}/`, found);
      }
    }
  }
}
