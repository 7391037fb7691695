import type { GraphNode, ValueDesc } from '../model/ModelGraph';

/** The two text lines a node box shows: a bold title and a smaller subtitle. */
export interface NodeLabelText {
  /** Layers: the op type. Terminals: the tensor name. */
  readonly title: string;
  /** Layers: the layer name. Terminals: the shape. Truncated to fit the box. */
  readonly subtitle: string;
}

/** Every node box is this tall: two text lines and padding. */
export const NODE_HEIGHT = 40;
export const MIN_NODE_WIDTH = 72;
export const MAX_NODE_WIDTH = 232;
const MAX_TITLE_CHARS = 26;
const MAX_SUBTITLE_CHARS = 32;
/**
 * Advance of a character in the view's fonts (GraphView.css): the title is 12px bold sans-serif,
 * taken generous for DejaVu Sans Bold, the widest common fallback; the subtitle is 10px monospace
 * (0.6 em = 6 px, plus room) so names fit exactly.
 */
const TITLE_CHAR_PX = 7.6;
const SUBTITLE_CHAR_PX = 6.6;
const PADDING_X = 20;

/**
 * Keeps the end of a long text, where ONNX names put what tells layers apart.
 * @example truncateStart('/model/layers.11/self_attn/q_proj/MatMul', 20) // '…_attn/q_proj/MatMul'
 */
export function truncateStart(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `…${text.slice(text.length - (maxChars - 1))}`;
}

/** @example truncateEnd('LayerNormalization', 10) // 'LayerNorm…' */
export function truncateEnd(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

/** @example layerLabel({ opType: 'Conv', name: '/backbone/conv1/Conv', ... }) // { title: 'Conv', subtitle: '/backbone/conv1/Conv' } */
export function layerLabel(node: Pick<GraphNode, 'opType' | 'name'>): NodeLabelText {
  return { title: truncateEnd(node.opType, MAX_TITLE_CHARS), subtitle: truncateStart(node.name, MAX_SUBTITLE_CHARS) };
}

/** @example terminalLabel({ name: 'images', dims: [1, 3, 224, 224], dtype: 'float32' }) // { title: 'images', subtitle: '1×3×224×224' } */
export function terminalLabel(value: ValueDesc): NodeLabelText {
  const dims = value.dims?.map((d, i) => d ?? value.dimNames?.[i] ?? '?').join('×') ?? '';
  return { title: truncateStart(value.name, MAX_TITLE_CHARS), subtitle: truncateEnd(dims || (value.dtype ?? ''), MAX_SUBTITLE_CHARS) };
}

/** Box width for a label: the longer line plus padding, clamped to [MIN_NODE_WIDTH, MAX_NODE_WIDTH]. */
export function labelWidth(label: NodeLabelText): number {
  const text = Math.max(label.title.length * TITLE_CHAR_PX, label.subtitle.length * SUBTITLE_CHAR_PX);
  return Math.round(Math.min(MAX_NODE_WIDTH, Math.max(MIN_NODE_WIDTH, text + PADDING_X)));
}
