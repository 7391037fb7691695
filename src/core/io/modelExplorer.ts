import { FormatError, QbenchError } from '../errors';
import type { LayerName } from '../model/ModelGraph';
import type { LayerError } from '../model/Evaluation';
import { describeJson, expectArray, expectFiniteNumber, expectObject, expectString, isJsonObject, jsonKeyPath, parseJsonText, type JsonObject } from './jsonText';
import { valueRange, YLORRD9 } from './visq';

/**
 * Google AI Edge Model Explorer node data (docs/formats.md): a JSON file the "Node data" panel loads to
 * colour nodes by a value.
 *
 * Schema (google-ai-edge/model-explorer src/server/package/src/model_explorer/node_data_builder.py):
 * - GraphNodeData: `{"results": {<key>: NodeDataResult}, "thresholds"?: [ThresholdItem], "gradient"?: [GradientItem]}`
 *   for a single graph; ModelNodeData: `{<graph id>: GraphNodeData, ...}` for several.
 * - NodeDataResult: `{"value": number, "bgColor"?: css colour, "textColor"?: css colour}`.
 * - ThresholdItem: `{"value", "bgColor", "textColor"?}`: a node whose value is <= the first
 *   threshold's value takes its colours, and so on; above the last one it stays uncoloured.
 * - GradientItem: `{"stop": 0..1, "bgColor"?, "textColor"?}`: stop 0 is the smallest value in
 *   `results`, 1 the largest; stops 0 and 1 must be present. It takes precedence over thresholds.
 * - A result key is a node id, or an output tensor name matched against a node's `tensor_name`
 *   output metadata.
 *
 * Node ids: Model Explorer reads ONNX through the model-explorer-onnx adapter
 * (justinchuby/model-explorer-onnx src/model_explorer_onnx/main.py): a node's id is its ONNX name,
 * an unnamed node gets `<node_{i}>` (i its index in the file's node list), graph inputs and outputs
 * `[value] <name>`; output metadata carries `__tensor_tag`, not `tensor_name`, so tensor-name keys
 * would match nothing. We therefore key by layer name, which is the ONNX node name for every named
 * node. qbench names an unnamed node `<first output>_<OpType>` and moves Constant nodes into
 * initializers, so it cannot know the adapter's index: pass `nodeId` to map those.
 *
 * The graph id (ModelNodeData form) is the ONNX graph's name, or `<main>` when it has none.
 */

export type LayerMetric = 'cos' | 'mse' | 'sqnr';

export interface NodeDataResult {
  readonly value: number;
  readonly bgColor?: string;
  readonly textColor?: string;
}

export interface ThresholdItem {
  readonly value: number;
  readonly bgColor: string;
  readonly textColor?: string;
}

export interface GradientItem {
  readonly stop: number;
  readonly bgColor?: string;
  readonly textColor?: string;
}

export interface GraphNodeData {
  readonly results: ReadonlyMap<string, NodeDataResult>;
  readonly thresholds?: readonly ThresholdItem[];
  readonly gradient?: readonly GradientItem[];
}

export interface NodeDataOptions {
  readonly metric: LayerMetric;
  /** Default 'gradient'. 'thresholds' gives 9 YlOrRd bands of equal width, as visq does. */
  readonly coloring?: 'gradient' | 'thresholds';
  /** Model Explorer's node id for a layer; default the layer name. Return undefined to leave a layer out. */
  readonly nodeId?: (layer: LayerName) => string | undefined;
}

/** cos and SQNR grow as a layer gets better, MSE as it gets worse: colours run so that red is bad. */
export function higherIsWorse(metric: LayerMetric): boolean {
  return metric === 'mse';
}

/**
 * One value per layer for the chosen metric, coloured so that the worst layers are darkest red.
 * Layers whose value is not finite (SQNR is Infinity for an exact layer) are left out and listed.
 */
export function modelExplorerNodeData(layers: readonly LayerError[], options: NodeDataOptions): { data: GraphNodeData; skippedLayers: LayerName[] } {
  const results = new Map<string, NodeDataResult>();
  const skippedLayers: LayerName[] = [];
  for (const layer of layers) {
    const value = layer[options.metric];
    const id = options.nodeId ? options.nodeId(layer.layer) : layer.layer;
    if (id === undefined || !Number.isFinite(value)) skippedLayers.push(layer.layer);
    else results.set(id, { value });
  }
  const colors = higherIsWorse(options.metric) ? YLORRD9 : [...YLORRD9].reverse();
  if ((options.coloring ?? 'gradient') === 'gradient') {
    const last = colors.length - 1;
    const gradient = [0, Math.floor(last / 2), last].map((i) => ({ stop: i / last, bgColor: colors[i] }));
    return { data: { results, gradient }, skippedLayers };
  }
  const [min, max] = valueRange([...results.values()].map((r) => r.value));
  const step = (max - min) / colors.length;
  const thresholds = colors.map((bgColor, i) => ({ value: i === colors.length - 1 ? max : min + (i + 1) * step, bgColor }));
  return { data: { results, thresholds }, skippedLayers };
}

/**
 * Writes node data: GraphNodeData, or ModelNodeData `{<graphId>: ...}` when a graph id is given.
 * @example formatModelExplorerNodeData({results: new Map([['/conv1/Conv', {value: 0.5}]])})
 * // {"results": {"/conv1/Conv": {"value": 0.5}}}
 */
export function formatModelExplorerNodeData(data: GraphNodeData, graphId?: string): string {
  const graph = graphJson(data);
  return JSON.stringify(graphId === undefined ? graph : { [graphId]: graph }, null, 2) + '\n';
}

function graphJson(data: GraphNodeData): JsonObject {
  const results: Record<string, NodeDataResult> = {};
  for (const [key, result] of data.results) {
    if (!Number.isFinite(result.value)) throw new QbenchError(`cannot write the node data of ${key}: Model Explorer needs a finite value, found ${result.value}`);
    results[key] = { value: result.value, ...(result.bgColor !== undefined ? { bgColor: result.bgColor } : {}), ...(result.textColor !== undefined ? { textColor: result.textColor } : {}) };
  }
  return {
    results,
    ...(data.thresholds ? { thresholds: data.thresholds.map((t) => ({ value: t.value, bgColor: t.bgColor, ...(t.textColor !== undefined ? { textColor: t.textColor } : {}) })) } : {}),
    ...(data.gradient ? { gradient: data.gradient.map((g) => ({ stop: g.stop, ...(g.bgColor !== undefined ? { bgColor: g.bgColor } : {}), ...(g.textColor !== undefined ? { textColor: g.textColor } : {}) })) } : {}),
  };
}

export interface ParsedNodeData {
  /** One entry per graph; `graphId` is undefined for the single-graph (GraphNodeData) form. */
  readonly graphs: readonly { readonly graphId: string | undefined; readonly data: GraphNodeData }[];
}

/** Parses GraphNodeData (`{"results": ...}`) or ModelNodeData (`{<graph id>: {"results": ...}}`). */
export function parseModelExplorerNodeData(text: string, fileName: string): ParsedNodeData {
  const root = parseJsonText(text, fileName, 'Model Explorer node data');
  if (!isJsonObject(root)) throw new FormatError(fileName, `expected Model Explorer node data (a JSON object with "results", or of graphs), found ${describeJson(root)}`);
  if ('results' in root) return { graphs: [{ graphId: undefined, data: parseGraph(root, fileName, '') }] };
  const graphs = Object.entries(root).map(([graphId, value]) => {
    const path = jsonKeyPath('', graphId);
    const graph = expectObject(value, fileName, path, 'graph node data (an object with "results")');
    return { graphId, data: parseGraph(graph, fileName, path) };
  });
  if (graphs.length === 0) throw new FormatError(fileName, 'expected Model Explorer node data ("results", or graph ids), found an empty object');
  return { graphs };
}

function parseGraph(graph: JsonObject, fileName: string, path: string): GraphNodeData {
  const at = (key: string) => (path ? `${path}.${key}` : key);
  const colors = (item: JsonObject, itemPath: string) => ({
    ...(item.bgColor !== undefined ? { bgColor: expectString(item.bgColor, fileName, `${itemPath}.bgColor`) } : {}),
    ...(item.textColor !== undefined ? { textColor: expectString(item.textColor, fileName, `${itemPath}.textColor`) } : {}),
  });
  const resultsJson = expectObject(graph.results, fileName, at('results'), 'an object of node results');
  const results = new Map<string, NodeDataResult>();
  for (const [key, value] of Object.entries(resultsJson)) {
    const resultPath = jsonKeyPath(at('results'), key);
    const result = expectObject(value, fileName, resultPath, 'a result {"value": number}');
    results.set(key, { value: expectFiniteNumber(result.value, fileName, `${resultPath}.value`), ...colors(result, resultPath) });
  }
  let thresholds: ThresholdItem[] | undefined;
  if (graph.thresholds !== undefined) {
    thresholds = expectArray(graph.thresholds, fileName, at('thresholds'), 'an array of {"value", "bgColor"} items').map((value, i) => {
      const itemPath = `${at('thresholds')}[${i}]`;
      const item = expectObject(value, fileName, itemPath, 'a {"value", "bgColor"} item');
      const threshold = expectFiniteNumber(item.value, fileName, `${itemPath}.value`);
      const { textColor } = colors(item, itemPath);
      return { value: threshold, bgColor: expectString(item.bgColor, fileName, `${itemPath}.bgColor`), ...(textColor !== undefined ? { textColor } : {}) };
    });
  }
  let gradient: GradientItem[] | undefined;
  if (graph.gradient !== undefined) {
    gradient = expectArray(graph.gradient, fileName, at('gradient'), 'an array of {"stop", "bgColor"} items').map((value, i) => {
      const itemPath = `${at('gradient')}[${i}]`;
      const item = expectObject(value, fileName, itemPath, 'a {"stop", "bgColor"} item');
      const stop = expectFiniteNumber(item.stop, fileName, `${itemPath}.stop`);
      if (stop < 0 || stop > 1) throw new FormatError(fileName, `${itemPath}.stop: expected a number from 0 to 1, found ${stop}`);
      return { stop, ...colors(item, itemPath) };
    });
  }
  return { results, ...(thresholds ? { thresholds } : {}), ...(gradient ? { gradient } : {}) };
}
