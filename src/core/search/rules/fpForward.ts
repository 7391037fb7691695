import { QbenchError } from '../../errors';
import type { GraphNode, LayerName, ModelGraph } from '../../model/ModelGraph';
import type { Precision } from '../../model/QTable';
import { floatPrecision, PlanBuilder, type PrecisionPlan } from './precisionPlan';
import { RuleGraph } from './RuleGraph';

/** A float region: everything after one of `starts` that leads to one of `ends`. */
export interface FpForwardBlock {
  readonly starts: readonly string[];
  readonly ends: readonly string[];
}

/**
 * TPU-MLIR's fp_forward options (python/tools/fp_forward.py). Names are node names, output tensor
 * names or TPU-MLIR's op names (`<output tensor>_<OpType>`, e.g. `474_Conv`).
 */
export interface FpForwardOptions {
  /** --fpfwd_inputs: these layers and everything before them (pre-processing). */
  readonly inputs?: readonly string[];
  /** --fpfwd_outputs: these layers and everything after them (post-processing). */
  readonly outputs?: readonly string[];
  /** --fpfwd_blocks: after a start and before an end, both inclusive. */
  readonly blocks?: readonly FpForwardBlock[];
  /** --fp_type; default 'FP32'. */
  readonly fpType?: Precision;
}

export interface FpForwardResult extends PrecisionPlan {
  /** Every node the options select, in topological order (quantizable or not). */
  readonly layers: readonly LayerName[];
  readonly precision: Precision;
}

/**
 * Marks float the layers TPU-MLIR's fp_forward selects (docs/algorithms.md §5 "fp_forward"): inputs
 * -> every ancestor, inclusive; outputs -> every descendant, inclusive; each block -> descendants
 * of its starts intersected with ancestors of its ends. Throws a QbenchError naming every name
 * that is not a layer of the graph.
 * @example fpForward(graph, { blocks: [{ starts: ['conv2'], ends: ['add'] }] }).layers
 *   // ['conv2', 'relu2', 'conv3', 'add']: relu1 feeds add through a skip but is not after conv2
 */
export function fpForward(graph: ModelGraph, options: FpForwardOptions): FpForwardResult {
  const precision = floatPrecision(options.fpType, 'fp_forward');
  const g = new RuleGraph(graph);
  const find = layerFinder(g, [...(options.inputs ?? []), ...(options.outputs ?? []), ...(options.blocks ?? []).flatMap((b) => [...b.starts, ...b.ends])]);
  const plan = new PlanBuilder(g);
  const reasons = new Map<LayerName, string[]>();
  const addReason = (layers: Iterable<LayerName>, reason: string) => {
    for (const layer of layers) reasons.set(layer, [...(reasons.get(layer) ?? []), reason]);
  };
  for (const name of options.inputs ?? []) addReason(g.ancestors([find(name)]), `at or before ${name} (--fpfwd_inputs)`);
  for (const name of options.outputs ?? []) addReason(g.descendants([find(name)]), `at or after ${name} (--fpfwd_outputs)`);
  for (const block of options.blocks ?? []) {
    const after = g.descendants(block.starts.map(find));
    const between = [...g.ancestors(block.ends.map(find))].filter((layer) => after.has(layer));
    addReason(between, `in block ${formatBlock(block)} (--fpfwd_blocks)`);
  }
  for (const layer of g.inOrder(reasons.keys())) plan.set(layer, precision, reasons.get(layer)!.join('; '));
  const assignments = plan.assignments();
  return { assignments, layers: assignments.map((a) => a.layer), precision };
}

/**
 * The node a TPU-MLIR name refers to: a node name, an output tensor name, or `<tensor>_<OpType>`
 * (TPU-MLIR names each op by its first output and its type; python/transform/OnnxConverter.py).
 */
export function findLayer(graph: ModelGraph | RuleGraph, name: string): GraphNode | undefined {
  const g = graph instanceof RuleGraph ? graph : new RuleGraph(graph);
  const byName = g.node(name) ?? g.producer(name);
  if (byName) return byName;
  const cut = name.lastIndexOf('_');
  const producer = cut > 0 ? g.producer(name.slice(0, cut)) : undefined;
  return producer?.opType === name.slice(cut + 1) ? producer : undefined;
}

/** Resolves every name up front so one error lists all unknown names. */
function layerFinder(g: RuleGraph, names: readonly string[]): (name: string) => GraphNode {
  const unknown = [...new Set(names.filter((name) => !findLayer(g, name)))];
  if (unknown.length > 0) {
    throw new QbenchError(`fp_forward: no layer named ${unknown.map((n) => `"${n}"`).join(', ')} in the model; give a node name, an output tensor name or TPU-MLIR's <tensor>_<OpType>`);
  }
  return (name) => findLayer(g, name)!;
}

function formatBlock(block: FpForwardBlock): string {
  return `${block.starts.join(',')}:${block.ends.join(',')}`;
}

/** TPU-MLIR's --fp_type values; 'auto' picks the chip's float type (fp_layer_search.py FLOAT_MAP). */
export type TpuMlirFpType = 'auto' | 'F16' | 'F32' | 'BF16';

const FP_TYPES: Readonly<Record<Exclude<TpuMlirFpType, 'auto'>, Precision>> = { F16: 'FP16', F32: 'FP32', BF16: 'BF16' };

/** fp_layer_search.py FLOAT_MAP: the float type `--fp_type auto` picks on each chip. */
const CHIP_FP_TYPES: Readonly<Record<string, Exclude<TpuMlirFpType, 'auto'>>> = {
  bm1684x: 'F16', bm1684: 'F32', cv183x: 'BF16', cv182x: 'BF16', cv181x: 'BF16', cv180x: 'BF16',
};

/**
 * The precision of a TPU-MLIR fp_type; 'auto' needs the chip, and without one gives undefined
 * (fpForward's default, FP32).
 * @example tpuMlirFpType('F16') // 'FP16'
 * @example tpuMlirFpType('auto', 'cv183x') // 'BF16'
 */
export function tpuMlirFpType(fpType: string, chip?: string): Precision | undefined {
  if (fpType === 'auto') {
    const chipType = chip === undefined ? undefined : CHIP_FP_TYPES[chip.toLowerCase()];
    return chipType && FP_TYPES[chipType];
  }
  const precision = FP_TYPES[fpType as keyof typeof FP_TYPES];
  if (!precision) throw new QbenchError(`fp_forward: --fp_type must be auto, F16, F32 or BF16; got "${fpType}"`);
  return precision;
}

/**
 * Blocks as TPU-MLIR's --fpfwd_blocks takes them: blocks separated by spaces (one argument or
 * several), each `starts:ends` with comma-separated names.
 * @example parseFpForwardBlocks('s1,s2:e1 s3:e3') // [{ starts: ['s1', 's2'], ends: ['e1'] }, { starts: ['s3'], ends: ['e3'] }]
 */
export function parseFpForwardBlocks(text: string | readonly string[]): FpForwardBlock[] {
  const words = (typeof text === 'string' ? [text] : text).flatMap((t) => t.split(/\s+/)).filter(Boolean);
  return words.map((word) => {
    const parts = word.split(':');
    const starts = parts.length === 2 ? nameList(parts[0]) : [];
    const ends = parts.length === 2 ? nameList(parts[1]) : [];
    if (starts.length === 0 || ends.length === 0) {
      throw new QbenchError(`fp_forward: block "${word}" must be starts:ends with comma-separated layer names, e.g. s1,s2:e1`);
    }
    return { starts, ends };
  });
}

/**
 * Reads fp_forward's options from a TPU-MLIR command line (a string, quoted as a shell would, or
 * an argument list): --fpfwd_inputs a,b --fpfwd_outputs c --fpfwd_blocks "s1,s2:e1 s3:e3"
 * --fp_type F16 (--chip only for --fp_type auto). Other arguments are ignored, so a whole
 * `fp_forward.py model.mlir ... -o table` line can be pasted.
 * @example parseFpForwardArgs('--fpfwd_outputs 474_Conv --fp_type F16') // { outputs: ['474_Conv'], fpType: 'FP16' }
 */
export function parseFpForwardArgs(args: string | readonly string[]): FpForwardOptions {
  const values = flagValues(typeof args === 'string' ? shellWords(args) : args);
  const list = (flag: string) => (values.has(flag) ? values.get(flag)!.flatMap(nameList) : undefined);
  const blocks = values.get('--fpfwd_blocks');
  const fpType = values.get('--fp_type')?.[0];
  const precision = fpType === undefined ? undefined : tpuMlirFpType(fpType, values.get('--chip')?.[0]);
  return {
    ...(list('--fpfwd_inputs') && { inputs: list('--fpfwd_inputs') }),
    ...(list('--fpfwd_outputs') && { outputs: list('--fpfwd_outputs') }),
    ...(blocks && { blocks: parseFpForwardBlocks(blocks) }),
    ...(precision && { fpType: precision }),
  };
}

function nameList(text: string): string[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Each `--flag` with the words up to the next flag (`--flag=value` too), as argparse groups them. */
function flagValues(words: readonly string[]): Map<string, string[]> {
  const values = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const word of words) {
    if (word.startsWith('-') && !/^-\d/.test(word)) {
      const eq = word.indexOf('=');
      const flag = eq > 0 ? word.slice(0, eq) : word;
      current = values.get(flag) ?? [];
      values.set(flag, current);
      if (eq > 0) current.push(word.slice(eq + 1));
    } else {
      current?.push(word);
    }
  }
  return values;
}

/** Splits a command line on spaces outside single or double quotes; quotes are removed (`--a="x y"` -> `--a=x y`). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word ??= '';
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
