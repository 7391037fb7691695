import type { CaliTable } from '../model/CaliTable';
import { FormatError, QbenchError } from '../errors';
import type { GraphNode, ModelGraph } from '../model/ModelGraph';
import { precisionOf, type QTable } from '../model/QTable';
import { describeJson, expectFiniteNumber, expectObject, isJsonObject, jsonKeyPath, parseJsonText } from './jsonText';
import { firstOutput, tpuMlirOpName } from './tensorNames';

/**
 * Bolt clip-value table (docs/formats.md), read by `post_training_quantization -s <file>`:
 * `{"<layer>": {"inputs": {"<tensor>": clip}, "weights": {"<tensor>": clip}, "outputs": {"<tensor>": clip}}}`.
 *
 * How Bolt reads it (huawei-noah/bolt model_tools/include/OPOptimizers/QuantizationOptimizer.hpp,
 * optimizeQATWithScale): a top-level `"quantization"` of "static" (the default) selects this mode;
 * every op whose name is not a key is left unquantized; for a listed op, each input and output
 * tensor (by Bolt tensor name) with a number gets the scale `127.0f / clip`, i.e. clip is the
 * symmetric int8 threshold (Bolt's "scale" multiplies: q = x * 127 / clip; docs/QUANTIZATION.md
 * words the same thing as "clipvalue/127.0", the step size); `weights` must have exactly one entry
 * (CHECK_REQUIREMENT(size() == 1)), whose value clips the op's weight to [-clip, clip] (its name is
 * not looked at). An output without a clip stays float.
 *
 * Names: Bolt's ONNX converter names an op after the ONNX node, or its first output when the node is
 * unnamed (model_tools/src/onnx/onnx_adaptee.h, get_name); tensors keep their ONNX names. qbench
 * names an unnamed node `<first output>_<OpType>`, so `boltLayerName` undoes that. Bolt's own graph
 * optimizers may still fuse or rename ops before this table is applied.
 *
 * Only quantized layers appear. Bolt quantizes Conv, MatMul, FC and Deconvolution (its QuantOP
 * set), i.e. ONNX Conv, ConvTranspose, Gemm and MatMul; clips of other ops are read and ignored.
 */

export interface BoltLayerClips {
  readonly inputs: ReadonlyMap<string, number>;
  readonly weights: ReadonlyMap<string, number>;
  readonly outputs: ReadonlyMap<string, number>;
}

/** Bolt layer name -> clips. */
export type BoltClipTable = ReadonlyMap<string, BoltLayerClips>;

/** ONNX op types Bolt quantizes (its QuantOP set: Conv, Deconvolution, FC, MatMul). */
export const BOLT_QUANTIZED_OP_TYPES: readonly string[] = ['Conv', 'ConvTranspose', 'Gemm', 'MatMul'];

const SECTIONS = ['inputs', 'weights', 'outputs'] as const;
type Section = (typeof SECTIONS)[number];

/**
 * Bolt's name for an ONNX node: its name, or its first output when it had none. qbench's derived
 * name for an unnamed node, `<first output>_<OpType>`, is taken for "unnamed" (a node really named
 * that way is written by its output, the one case this gets wrong).
 * @example boltLayerName({name: 'input.4_Conv', opType: 'Conv', outputs: ['input.4'], ...}) // 'input.4'
 */
export function boltLayerName(node: GraphNode): string {
  const output = firstOutput(node);
  return output !== undefined && node.name === tpuMlirOpName(output, node.opType) ? output : node.name;
}

export interface BoltClipOptions {
  readonly graph: Pick<ModelGraph, 'nodes' | 'weights'>;
  /** Activation clips: each tensor's threshold. */
  readonly caliTable: CaliTable;
  /** Weight clips by weight tensor, e.g. max |w| (Bolt then clips nothing) or a calibrated value. */
  readonly weightClips: ReadonlyMap<string, number>;
  /** When given, only layers at INT8 or UINT8 are written (Bolt's int8). */
  readonly qtable?: QTable;
  /** Replaces the default rule (Bolt's quantized op types, and the qtable when given). */
  readonly isQuantized?: (node: GraphNode) => boolean;
  /** Default: boltLayerName. */
  readonly layerName?: (node: GraphNode) => string;
}

export interface SkippedClip {
  readonly layer: string;
  readonly tensor: string;
  readonly role: 'input' | 'weight' | 'output';
  readonly reason: 'no calibration' | 'no weight clip' | 'clip is not a positive number';
}

/**
 * The clip table for a graph: for each quantized layer, its activation inputs and outputs at their
 * calibrated threshold, and its weight (the first weight input of rank >= 2, else the first weight
 * input; never the bias, since Bolt takes one weight clip per layer) at its clip.
 */
export function boltClipTable(options: BoltClipOptions): { table: BoltClipTable; skipped: SkippedClip[] } {
  const weights = new Map(options.graph.weights.map((w) => [w.name, w]));
  const layerName = options.layerName ?? boltLayerName;
  const isQuantized = options.isQuantized ?? ((node: GraphNode) => {
    if (!BOLT_QUANTIZED_OP_TYPES.includes(node.opType)) return false;
    if (!options.qtable) return true;
    const precision = precisionOf(options.qtable, node.name);
    return precision === 'INT8' || precision === 'UINT8';
  });
  const table = new Map<string, BoltLayerClips>();
  const skipped: SkippedClip[] = [];
  for (const node of options.graph.nodes) {
    if (!isQuantized(node)) continue;
    const layer = layerName(node);
    const clips = { inputs: new Map<string, number>(), weights: new Map<string, number>(), outputs: new Map<string, number>() };
    const add = (tensor: string, role: SkippedClip['role'], clip: number | undefined) => {
      const reason = clip === undefined ? (role === 'weight' ? 'no weight clip' : 'no calibration') : !(clip > 0 && Number.isFinite(clip)) ? 'clip is not a positive number' : undefined;
      if (reason) skipped.push({ layer, tensor, role, reason });
      else clips[`${role}s`].set(tensor, clip!);
    };
    for (const input of node.inputs) {
      if (input && !weights.has(input) && !clips.inputs.has(input)) add(input, 'input', options.caliTable.entries.get(input)?.threshold);
    }
    const weightInputs = node.inputs.filter((i) => i && weights.has(i));
    const weight = weightInputs.find((i) => weights.get(i)!.dims.length >= 2) ?? weightInputs[0];
    if (weight) add(weight, 'weight', options.weightClips.get(weight));
    for (const output of node.outputs) if (output) add(output, 'output', options.caliTable.entries.get(output)?.threshold);
    table.set(layer, clips);
  }
  return { table, skipped };
}

/**
 * @example formatBoltClip(new Map([['conv1', {inputs: new Map([['data', 2.5]]), weights: new Map([['conv1_w', 0.8]]), outputs: new Map([['conv1_out', 6]])}]]))
 * // {"conv1": {"inputs": {"data": 2.5}, "weights": {"conv1_w": 0.8}, "outputs": {"conv1_out": 6}}}
 */
export function formatBoltClip(table: BoltClipTable): string {
  const json: Record<string, Record<Section, Record<string, number>>> = {};
  for (const [layer, clips] of table) {
    if (layer === 'quantization') throw new QbenchError('cannot write a layer named "quantization" to a Bolt clip table: Bolt reads that key as the quantization mode');
    if (clips.weights.size > 1) {
      throw new QbenchError(`cannot write layer ${layer} to a Bolt clip table: Bolt takes one weight clip per layer, found ${clips.weights.size} (${[...clips.weights.keys()].join(', ')})`);
    }
    const entry = {} as Record<Section, Record<string, number>>;
    for (const section of SECTIONS) {
      entry[section] = {};
      for (const [tensor, clip] of clips[section]) {
        if (!(clip > 0 && Number.isFinite(clip))) {
          throw new QbenchError(`cannot write the clip of ${tensor} in layer ${layer}: Bolt computes 127 / clip, so it must be a positive number, found ${clip}`);
        }
        entry[section][tensor] = clip;
      }
    }
    json[layer] = entry;
  }
  return JSON.stringify(json, null, 2) + '\n';
}

export interface ParsedBoltClip {
  readonly table: BoltClipTable;
  /** Clips of inputs and outputs by tensor: the first value where two layers disagree. */
  readonly activationClips: ReadonlyMap<string, number>;
  readonly weightClips: ReadonlyMap<string, number>;
  /** Tensors given different clips by different layers (Bolt applies each per layer). */
  readonly conflictingTensors: readonly string[];
}

/** Parses a Bolt clip table (static mode). */
export function parseBoltClip(text: string, fileName: string): ParsedBoltClip {
  const root = parseJsonText(text, fileName, 'a Bolt clip table');
  if (!isJsonObject(root)) throw new FormatError(fileName, `expected a Bolt clip table (a JSON object of layers), found ${describeJson(root)}`);
  const table = new Map<string, BoltLayerClips>();
  const activationClips = new Map<string, number>();
  const weightClips = new Map<string, number>();
  const conflictingTensors: string[] = [];
  const record = (clips: Map<string, number>, tensor: string, clip: number) => {
    const previous = clips.get(tensor);
    if (previous === undefined) clips.set(tensor, clip);
    else if (previous !== clip && !conflictingTensors.includes(tensor)) conflictingTensors.push(tensor);
  };
  for (const [layer, value] of Object.entries(root)) {
    if (layer === 'quantization') {
      if (value === 'static') continue;
      if (value === 'dynamic') {
        throw new FormatError(fileName, '"quantization" is "dynamic": that file lists quant_ops/no_quant_ops for dynamic quantization, not clip values');
      }
      throw new FormatError(fileName, `"quantization": expected "static" or "dynamic", found ${describeJson(value)}`);
    }
    const path = jsonKeyPath('', layer);
    const entry = expectObject(value, fileName, path, 'an object with "inputs", "weights" and "outputs"');
    const unknown = Object.keys(entry).find((key) => !(SECTIONS as readonly string[]).includes(key));
    if (unknown !== undefined) throw new FormatError(fileName, `${path}: unknown section "${unknown}" (expected inputs, weights or outputs)`);
    const clips = { inputs: new Map<string, number>(), weights: new Map<string, number>(), outputs: new Map<string, number>() };
    for (const section of SECTIONS) {
      if (entry[section] === undefined) continue;
      const sectionPath = `${path}.${section}`;
      const tensors = expectObject(entry[section], fileName, sectionPath, 'an object of tensor clips');
      for (const [tensor, clip] of Object.entries(tensors)) clips[section].set(tensor, expectFiniteNumber(clip, fileName, jsonKeyPath(sectionPath, tensor)));
    }
    if (clips.weights.size > 1) {
      throw new FormatError(fileName, `${path}.weights: expected one weight clip (Bolt checks there is exactly one), found ${clips.weights.size}`);
    }
    for (const [tensor, clip] of clips.inputs) record(activationClips, tensor, clip);
    for (const [tensor, clip] of clips.outputs) record(activationClips, tensor, clip);
    for (const [tensor, clip] of clips.weights) record(weightClips, tensor, clip);
    table.set(layer, clips);
  }
  return { table, activationClips, weightClips, conflictingTensors };
}
