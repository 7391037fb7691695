import { inputNodeId, outputNodeId } from '../../core/layout/GraphLayout';
import type { ModelGraph } from '../../core/model/ModelGraph';

/** A node the search found, and why (the tensor that matched, when it was not the name or op). */
export interface SearchMatch {
  readonly id: string;
  readonly tensor?: string;
}

/**
 * Nodes whose layer name, op type, or one of whose input or output tensor names contains `query`
 * (case-insensitive), in graph order; the graph's inputs and outputs match by their tensor name.
 * Tensor names are searched because error messages, onnxruntime and TPU-MLIR name tensors, not
 * nodes (PP-OCR's tensors are `conv2d_0.tmp_0` while its nodes are `p2o.Conv.0`).
 */
export function searchGraph(graph: ModelGraph, query: string): SearchMatch[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const out: SearchMatch[] = [];
  const has = (text: string) => text.toLowerCase().includes(q);
  for (const v of graph.inputs) if (has(v.name)) out.push({ id: inputNodeId(v.name), tensor: v.name });
  for (const n of graph.nodes) {
    if (has(n.name) || has(n.opType)) {
      out.push({ id: n.name });
      continue;
    }
    const tensor = n.outputs.find((t) => t && has(t)) ?? n.inputs.find((t) => t && has(t));
    if (tensor) out.push({ id: n.name, tensor });
  }
  for (const v of graph.outputs) if (has(v.name)) out.push({ id: outputNodeId(v.name), tensor: v.name });
  return out;
}
