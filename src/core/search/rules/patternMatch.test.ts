import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../../test/support/GraphBuilder';
import { modelOf } from '../../../../test/support/runModel';
import type { ModelGraph } from '../../model/ModelGraph';
import { patternMatch } from './patternMatch';

const graphOf = (b: GraphBuilder): ModelGraph => modelOf(b.toBytes()).graph;
const scalar = (b: GraphBuilder, value: number) => b.constant(new Float32Array([value]), []);
const ints = (b: GraphBuilder, values: number[]) => b.constant(BigInt64Array.from(values.map(BigInt)), [values.length]);
const intScalar = (b: GraphBuilder, value: number) => b.constant(BigInt64Array.from([BigInt(value)]), []);

/** conv -> SiLU (Sigmoid x Mul) -> [SPPF: conv, MaxPool x3 chained, Concat, conv] */
function backbone(b: GraphBuilder, sppf: boolean): string {
  const x = b.input('images', [1, 3, 16, 16]);
  const c = b.conv(x, 8, 3, { name: 'stem' });
  let y = b.node('Mul', [c, b.node('Sigmoid', [c], {}, 1, undefined, 'stem_sigmoid')[0]], {}, 1, undefined, 'stem_silu')[0];
  if (!sppf) return b.conv(y, 8, 1, { name: 'neck' });
  y = b.conv(y, 4, 1, { name: 'sppf_cv1' });
  const pool = (t: string, name: string) => b.node('MaxPool', [t], { kernel_shape: [5, 5], pads: [2, 2, 2, 2], strides: [1, 1] }, 1, undefined, name)[0];
  const p1 = pool(y, 'sppf_pool1');
  const p2 = pool(p1, 'sppf_pool2');
  const p3 = pool(p2, 'sppf_pool3');
  const cat = b.node('Concat', [y, p1, p2, p3], { axis: 1 }, 1, [1, 16, 16, 16], 'sppf_concat')[0];
  return b.conv(cat, 8, 1, { name: 'sppf_cv2' });
}

/**
 * One level of YOLOv5's Detect head as torch.onnx exports it with dynamic axes:
 * Conv -> Reshape -> Transpose -> Sigmoid -> Split(xy, wh, conf);
 * xy: Mul(2) -> Add(grid) -> Mul(stride); wh: Mul(2) -> Pow(2) -> Mul(anchor_grid); Concat;
 * then the shape of view(bs, na * ny * nx, no) computed from Shape (Gather, Mul, Unsqueeze,
 * Concat: integer arithmetic between the Concat and the Reshape); Reshape.
 */
function yolov5Head(b: GraphBuilder, feature: string, h: string): string {
  const p = b.conv(feature, 21, 1, { name: `${h}_conv` });
  const r = b.node('Reshape', [p, ints(b, [1, 3, 7, 16, 16])], {}, 1, [1, 3, 7, 16, 16], `${h}_reshape5d`)[0];
  const t = b.node('Transpose', [r], { perm: [0, 1, 3, 4, 2] }, 1, [1, 3, 16, 16, 7], `${h}_transpose`)[0];
  const s = b.node('Sigmoid', [t], {}, 1, undefined, `${h}_sigmoid`)[0];
  const [xy, wh, conf] = b.node('Split', [s, ints(b, [2, 2, 3])], { axis: 4 }, 3, undefined, `${h}_split`);
  const xy1 = b.node('Mul', [xy, scalar(b, 2)], {}, 1, undefined, `${h}_xy_mul2`)[0];
  const xy2 = b.node('Add', [xy1, b.weight([1, 3, 16, 16, 2], 1)], {}, 1, undefined, `${h}_xy_grid`)[0];
  const xy3 = b.node('Mul', [xy2, scalar(b, 8)], {}, 1, undefined, `${h}_xy_stride`)[0];
  const wh1 = b.node('Mul', [wh, scalar(b, 2)], {}, 1, undefined, `${h}_wh_mul2`)[0];
  const wh2 = b.node('Pow', [wh1, scalar(b, 2)], {}, 1, undefined, `${h}_wh_pow`)[0];
  const wh3 = b.node('Mul', [wh2, b.weight([1, 3, 1, 1, 2], 1)], {}, 1, undefined, `${h}_wh_anchor`)[0];
  const y = b.node('Concat', [xy3, wh3, conf], { axis: 4 }, 1, undefined, `${h}_concat`)[0];
  const shape = b.node('Shape', [p], {}, 1, [4], `${h}_shape`)[0];
  const batch = b.node('Gather', [shape, intScalar(b, 0)], { axis: 0 }, 1, [], `${h}_gather_bs`)[0];
  const ny = b.node('Gather', [shape, intScalar(b, 2)], { axis: 0 }, 1, [], `${h}_gather_ny`)[0];
  const nx = b.node('Gather', [shape, intScalar(b, 3)], { axis: 0 }, 1, [], `${h}_gather_nx`)[0];
  const cells = b.node('Mul', [b.node('Mul', [ny, nx], {}, 1, [], `${h}_ny_nx`)[0], intScalar(b, 3)], {}, 1, [], `${h}_na_ny_nx`)[0];
  const dims = [batch, cells].map((d, i) => b.node('Unsqueeze', [d, ints(b, [0])], {}, 1, [1], `${h}_unsqueeze${i}`)[0]);
  const viewShape = b.node('Concat', [...dims, ints(b, [7])], { axis: 0 }, 1, [3], `${h}_view_shape`)[0];
  return b.node('Reshape', [y, viewShape], {}, 1, [1, 768, 7], `${h}_view`)[0];
}

function yolov5(opts: { sppf: boolean }): ModelGraph {
  const b = new GraphBuilder({ seed: 5 });
  const feature = backbone(b, opts.sppf);
  const z0 = yolov5Head(b, feature, 'h0');
  const z1 = yolov5Head(b, b.conv(feature, 8, 3, { name: 'down' }), 'h1');
  b.output(b.node('Concat', [z0, z1], { axis: 1 }, 1, undefined, 'detections')[0]);
  return graphOf(b);
}

const V5_WINDOW = ['xy_mul2', 'xy_grid', 'xy_stride', 'wh_mul2', 'wh_pow', 'wh_anchor', 'concat', 'view'];

/**
 * Ultralytics' Detect box decoding (YOLOv8/v11), in the exporter's order: Split(lt, rb);
 * Sub(anchors - lt), Add(anchors + rb), Add, Div(2), Sub, Concat, Mul(strides), then
 * `between` (the class Sigmoid in a real export), then Concat(dbox, ...).
 */
function yolov8(opts: { sppf: boolean; between: 'sigmoid' | 'relu-on-dbox' }): ModelGraph {
  const b = new GraphBuilder({ seed: 8 });
  const feature = backbone(b, opts.sppf);
  const dist = b.node('Reshape', [b.conv(feature, 4, 1, { name: 'box_conv' }), ints(b, [1, 4, 256])], {}, 1, [1, 4, 256], 'dfl_reshape')[0];
  const cls = b.node('Reshape', [b.conv(feature, 3, 1, { name: 'cls_conv' }), ints(b, [1, 3, 256])], {}, 1, [1, 3, 256], 'cls_reshape')[0];
  const [lt, rb] = b.node('Split', [dist, ints(b, [2, 2])], { axis: 1 }, 2, undefined, 'chunk');
  const anchors = b.weight([2, 256], 8);
  const x1y1 = b.node('Sub', [anchors, lt], {}, 1, undefined, 'x1y1')[0];
  const x2y2 = b.node('Add', [anchors, rb], {}, 1, undefined, 'x2y2')[0];
  const sum = b.node('Add', [x1y1, x2y2], {}, 1, undefined, 'c_xy_sum')[0];
  const cxy = b.node('Div', [sum, scalar(b, 2)], {}, 1, undefined, 'c_xy')[0];
  const wh = b.node('Sub', [x2y2, x1y1], {}, 1, undefined, 'wh')[0];
  const box = b.node('Concat', [cxy, wh], { axis: 1 }, 1, undefined, 'xywh')[0];
  const dbox = b.node('Mul', [box, b.weight([1, 256], 8)], {}, 1, undefined, 'dbox')[0];
  const y = opts.between === 'sigmoid'
    ? b.node('Concat', [dbox, b.node('Sigmoid', [cls], {}, 1, undefined, 'cls_sigmoid')[0]], { axis: 1 }, 1, undefined, 'output_concat')[0]
    : b.node('Concat', [b.node('Relu', [dbox], {}, 1, undefined, 'dbox_relu')[0], cls], { axis: 1 }, 1, undefined, 'output_concat')[0];
  b.output(y);
  return graphOf(b);
}

/**
 * One encoder block, opset 17: MatMul -> MatMul -> Softmax -> MatMul; Add (residual) ->
 * LayerNormalization; MatMul -> GELU written out (Div, Erf, Add, Mul, Mul) -> MatMul;
 * Add (residual) -> LayerNorm written out (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div) -> Mul, Add.
 */
function encoderBlock(): ModelGraph {
  const b = new GraphBuilder({ seed: 11, opset: 17 });
  const x = b.input('tokens', [1, 4, 8]);
  const q = b.node('MatMul', [x, b.weight([8, 8], 0.3)], {}, 1, [1, 4, 8], 'q')[0];
  const scores = b.node('MatMul', [q, b.weight([8, 4], 0.3)], {}, 1, [1, 4, 4], 'scores')[0];
  const attn = b.node('Softmax', [scores], { axis: -1 }, 1, undefined, 'softmax')[0];
  const context = b.node('MatMul', [attn, q], {}, 1, [1, 4, 8], 'context')[0];
  const res1 = b.node('Add', [x, context], {}, 1, undefined, 'residual1')[0];
  const ln1 = b.node('LayerNormalization', [res1, b.weight([8], 1), b.weight([8], 0.1)], { axis: -1 }, 1, undefined, 'ln1')[0];
  const fc1 = b.node('MatMul', [ln1, b.weight([8, 16], 0.3)], {}, 1, [1, 4, 16], 'fc1')[0];
  const div = b.node('Div', [fc1, scalar(b, Math.SQRT2)], {}, 1, undefined, 'gelu_div')[0];
  const erf = b.node('Erf', [div], {}, 1, undefined, 'gelu_erf')[0];
  const plusOne = b.node('Add', [erf, scalar(b, 1)], {}, 1, undefined, 'gelu_add')[0];
  const mul = b.node('Mul', [fc1, plusOne], {}, 1, undefined, 'gelu_mul')[0];
  const gelu = b.node('Mul', [mul, scalar(b, 0.5)], {}, 1, undefined, 'gelu_half')[0];
  const fc2 = b.node('MatMul', [gelu, b.weight([16, 8], 0.3)], {}, 1, [1, 4, 8], 'fc2')[0];
  const res2 = b.node('Add', [ln1, fc2], {}, 1, undefined, 'residual2')[0];
  b.output(decomposedLayerNorm(b, res2, 'ln2'));
  return graphOf(b);
}

function decomposedLayerNorm(b: GraphBuilder, x: string, p: string): string {
  const mean = b.node('ReduceMean', [x], { axes: [-1] }, 1, undefined, `${p}_mean`)[0];
  const centered = b.node('Sub', [x, mean], {}, 1, undefined, `${p}_sub`)[0];
  const square = b.node('Pow', [centered, scalar(b, 2)], {}, 1, undefined, `${p}_pow`)[0];
  const variance = b.node('ReduceMean', [square], { axes: [-1] }, 1, undefined, `${p}_variance`)[0];
  const addEps = b.node('Add', [variance, scalar(b, 1e-5)], {}, 1, undefined, `${p}_add_eps`)[0];
  const root = b.node('Sqrt', [addEps], {}, 1, undefined, `${p}_sqrt`)[0];
  const normalized = b.node('Div', [centered, root], {}, 1, undefined, `${p}_div`)[0];
  const scaled = b.node('Mul', [normalized, b.weight([8], 1)], {}, 1, undefined, `${p}_gamma`)[0];
  return b.node('Add', [scaled, b.weight([8], 0.1)], {}, 1, undefined, `${p}_beta`)[0];
}

describe('patternMatch: YOLO', () => {
  it('a YOLOv5 head after an SPPF: each head\'s post-processing window and everything after it goes float', () => {
    const result = patternMatch(yolov5({ sppf: true }));
    expect(result.kind).toBe('yolo');
    expect(result.evidence).toBe('SPPF block MaxPool, MaxPool, MaxPool, Concat at sppf_pool1, sppf_pool2, sppf_pool3, sppf_concat');
    expect(result.firings.map((f) => [f.rule, f.matched, f.layers, f.detail])).toEqual([
      ['yolo-post-processing', V5_WINDOW.map((n) => `h0_${n}`), [...V5_WINDOW.map((n) => `h0_${n}`), 'detections'], 'yolov5 post-processing window h0_xy_mul2 … h0_view'],
      ['yolo-post-processing', V5_WINDOW.map((n) => `h1_${n}`), [...V5_WINDOW.map((n) => `h1_${n}`), 'detections'], 'yolov5 post-processing window h1_xy_mul2 … h1_view'],
    ]);
    expect(result.layers).toEqual([...V5_WINDOW.map((n) => `h0_${n}`), ...V5_WINDOW.map((n) => `h1_${n}`), 'detections']);
    const reason = (layer: string) => result.assignments.find((a) => a.layer === layer)?.reason;
    expect(reason('h0_wh_pow')).toBe('yolov5 post-processing window h0_xy_mul2 … h0_view');
    expect(reason('detections')).toBe('downstream of yolov5 post-processing window h0_xy_mul2 … h0_view');
    expect(result.assignments.every((a) => a.precision === 'FP32')).toBe(true);
  });

  it('the same head without an SPPF is not a YOLO: nothing is marked', () => {
    const result = patternMatch(yolov5({ sppf: false }));
    expect(result.kind).toBeNull();
    expect(result.firings).toEqual([]);
    expect(result.layers).toEqual([]);
  });

  it('a YOLOv8 head: the v6/8/9/11/12 window, stepping over the class Sigmoid the exporter puts inside it', () => {
    const result = patternMatch(yolov8({ sppf: true, between: 'sigmoid' }), { fpType: 'FP16' });
    expect(result.kind).toBe('yolo');
    expect(result.firings).toEqual([{
      rule: 'yolo-post-processing',
      matched: ['x1y1', 'x2y2', 'c_xy_sum', 'c_xy', 'wh', 'xywh', 'dbox', 'output_concat'],
      layers: ['x1y1', 'x2y2', 'c_xy_sum', 'c_xy', 'wh', 'xywh', 'dbox', 'output_concat'],
      detail: 'yolov6/8/9/11/12 post-processing window x1y1 … output_concat',
    }]);
    expect(result.assignments.map((a) => a.precision)).toEqual(Array(8).fill('FP16'));
  });

  it('a node inside the window that is joined to it is not stepped over: no window', () => {
    const result = patternMatch(yolov8({ sppf: true, between: 'relu-on-dbox' }));
    expect(result.kind).toBe('yolo');
    expect(result.firings).toEqual([]);
  });

  it('without an SPPF (YOLOv12) the v6-v12 post-processing signature itself marks a YOLO', () => {
    const result = patternMatch(yolov8({ sppf: false, between: 'sigmoid' }));
    expect(result.kind).toBe('yolo');
    expect(result.evidence).toBe('the yolov6/8/9/11/12 post-processing signature at x1y1 … output_concat');
    expect(result.layers).toHaveLength(8);
  });
});

describe('patternMatch: transformers', () => {
  it('an encoder block: the Adds feeding LayerNorms, the GELU, and the MatMuls after Softmax and after GELU, nothing else', () => {
    const result = patternMatch(encoderBlock());
    expect(result.kind).toBe('transformer');
    expect(result.evidence).toBe('attention (Softmax softmax feeds MatMul context) and LayerNorm ln1');
    expect(result.layers).toEqual(['context', 'residual1', 'gelu_div', 'gelu_erf', 'gelu_add', 'gelu_mul', 'gelu_half', 'fc2', 'residual2']);
    expect(result.firings.map((f) => [f.rule, f.matched])).toEqual([
      ['add-before-layernorm', ['residual1']],
      ['add-before-layernorm', ['residual2']],
      ['gelu', ['gelu_div', 'gelu_erf', 'gelu_add', 'gelu_mul', 'gelu_half']],
      ['matmul-after-softmax', ['context']],
      ['matmul-after-gelu', ['fc2']],
    ]);
    expect(result.firings[1].detail).toBe('Add residual2 feeding LayerNorm ln2_mean … ln2_div');
  });

  it('SiLU is Sigmoid x Mul on the same tensor; a Sigmoid gating another tensor is not; a Gelu op (opset 20) and BERT\'s 0.5-first GELU count', () => {
    const b = new GraphBuilder({ seed: 12, opset: 20 });
    const x = b.input('tokens', [1, 4, 8]);
    const attn = b.node('Softmax', [b.node('MatMul', [x, b.weight([8, 4], 0.3)], {}, 1, [1, 4, 4], 'scores')[0]], { axis: -1 }, 1, undefined, 'softmax')[0];
    const context = b.node('MatMul', [attn, x], {}, 1, [1, 4, 8], 'context')[0];
    const ln = b.node('LayerNormalization', [context, b.weight([8], 1), b.weight([8], 0.1)], { axis: -1 }, 1, undefined, 'ln')[0];
    const silu = b.node('Mul', [ln, b.node('Sigmoid', [ln], {}, 1, undefined, 'silu_sigmoid')[0]], {}, 1, undefined, 'silu_mul')[0];
    const gated = b.node('Mul', [b.node('Sigmoid', [silu], {}, 1, undefined, 'gate_sigmoid')[0], ln], {}, 1, undefined, 'gate_mul')[0];
    const fused = b.node('Gelu', [gated], {}, 1, undefined, 'gelu')[0];
    const fc = b.node('Gemm', [b.node('Reshape', [fused, ints(b, [4, 8])], {}, 1, [4, 8], 'flatten')[0], b.weight([8, 8], 0.3)], {}, 1, [4, 8], 'fc')[0];
    const half = b.node('Mul', [fc, scalar(b, 0.5)], {}, 1, undefined, 'bert_half')[0];
    const erf = b.node('Erf', [b.node('Mul', [fc, scalar(b, Math.SQRT1_2)], {}, 1, undefined, 'bert_scale')[0]], {}, 1, undefined, 'bert_erf')[0];
    const bert = b.node('Mul', [half, b.node('Add', [scalar(b, 1), erf], {}, 1, undefined, 'bert_add')[0]], {}, 1, undefined, 'bert_mul')[0];
    b.output(b.node('Gemm', [bert, b.weight([8, 8], 0.3)], {}, 1, [4, 8], 'out')[0]);
    const result = patternMatch(graphOf(b));
    expect(result.kind).toBe('transformer');
    expect(result.firings.map((f) => [f.rule, f.matched])).toEqual([
      ['silu', ['silu_sigmoid', 'silu_mul']],
      ['gelu', ['gelu']],
      ['gelu', ['bert_half', 'bert_scale', 'bert_erf', 'bert_add', 'bert_mul']],
      ['matmul-after-softmax', ['context']],
      ['matmul-after-gelu', ['out']],
    ]);
    expect(result.layers).not.toContain('gate_sigmoid');
    expect(result.layers).not.toContain('fc'); // after a Reshape, not right after the GELU
  });

  it('a plain CNN (with a SiLU and a final Softmax) is neither kind: nothing is marked', () => {
    const b = new GraphBuilder({ seed: 13 });
    const x = b.input('x', [1, 3, 8, 8]);
    const c = b.conv(x, 8, 3);
    const silu = b.node('Mul', [c, b.node('Sigmoid', [c])[0]])[0];
    const pooled = b.node('MaxPool', [b.relu(b.conv(silu, 8, 3))], { kernel_shape: [2, 2], strides: [2, 2] }, 1, [1, 8, 4, 4])[0];
    b.output(b.softmax(b.gemm(b.flatten(b.globalAveragePool(pooled)), 10)));
    const result = patternMatch(graphOf(b));
    expect(result).toEqual({
      kind: null,
      evidence: 'no attention block with a LayerNorm (transformer) and no SPPF or YOLO post-processing (yolo)',
      firings: [], assignments: [], layers: [], precision: 'FP32',
    });
  });
});
