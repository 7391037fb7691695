import type { FlatOperator } from '../flatModel';
import { transpose } from '../lowering';
import { Activation, activation, clip, intAttr, option, produceActivated, reshape, type OperatorLowering } from './common';
import { integerLstm } from './integerLstm';

const present = (index: number | undefined): index is number => index !== undefined && index >= 0;

/** Rows stacked: [a; b; ...] of [rows_i, cols] float matrices. */
function stack(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * UNIDIRECTIONAL_SEQUENCE_LSTM, unrolled over its (static) time steps into MatMul, Sigmoid, Tanh,
 * Mul and Add nodes. ONNX's LSTM cannot clip the cell state (TFLite's cell_clip; every LSTM
 * TensorFlow converts has one) nor quantize the states at each step, which the file's integer LSTM
 * does: unrolled, the float model is exact and the 'quantized' model passes each step's cell and
 * hidden state through the file's quantizers. Peepholes, CIFG (no input gate) and projection are
 * converted; layer-normalized LSTMs are refused. States start at zero (the interpreter's start).
 * The 'quantized' model of an int8 LSTM as TensorFlow Lite's converter writes it computes the
 * integer kernel instead (integerLstm.ts): the float simulation is a step off on a few values.
 */
export const unidirectionalSequenceLstm: OperatorLowering = (l, op) => {
  if (integerLstm(l, op)) return;
  const inputs = op.inputs;
  const [x] = inputs;
  const out = op.outputs[0];
  const own = l.ownName(out);
  if (inputs.slice(20, 24).some(present)) throw l.error('is a layer-normalized LSTM, which qbench does not convert');
  const fused = option(op, 'fusedActivationFunction', Activation.TANH);
  if (![Activation.TANH, Activation.RELU, Activation.RELU6].includes(fused as 1)) throw l.error(`uses activation ${fused}, which qbench does not convert`);
  const cellClip = option(op, 'cellClip', 0);
  const projClip = option(op, 'projClip', 0);
  const timeMajor = option(op, 'timeMajor', false);
  const cifg = !present(inputs[1]);
  const xShape = l.tensor(x).shape;
  if (xShape.length !== 3) throw l.error(`reads an input of rank ${xShape.length}; qbench converts sequence LSTMs over [batch, time, features]`);
  const steps = timeMajor ? xShape[0] : xShape[1];
  const batch = timeMajor ? xShape[1] : xShape[0];
  const features = xShape[2];
  const hidden = l.tensor(inputs[4]).shape[0];
  const projected = present(inputs[16]);
  const outWidth = projected ? l.tensor(inputs[16]).shape[0] : hidden;
  const floats = (i: number) => l.constantFloats(i);

  // Gates in the order i, f, g, o (i absent for CIFG): one MatMul for the input, one for the state.
  const gateIndices = cifg ? [2, 3, 4] : [1, 2, 3, 4];
  const gates = gateIndices.length;
  const w = transpose(stack(gateIndices.map((p) => floats(inputs[p]))), [gates * hidden, features], [1, 0]);
  const r = transpose(stack(gateIndices.map((p) => floats(inputs[p + 4]))), [gates * hidden, outWidth], [1, 0]);
  const biasOf = (i: number) => (present(inputs[i]) ? floats(inputs[i]) : new Float32Array(hidden));
  const bias = stack((cifg ? [13, 14, 15] : [12, 13, 14, 15]).map(biasOf));
  const wName = l.floatInit(`${own}/input_weights`, w, [features, gates * hidden]);
  const rName = l.floatInit(`${own}/recurrent_weights`, r, [outWidth, gates * hidden]);
  const bName = l.floatInit(`${own}/bias`, bias, [gates * hidden]);
  const splitName = l.int64Init(`${own}/gate_split`, Array(gates).fill(hidden));
  const peephole = (i: number) => (present(inputs[i]) ? l.floatInit(`${own}/peephole${i}`, floats(inputs[i]), [hidden]) : null);
  const [pi, pf, po] = [peephole(9), peephole(10), peephole(11)];
  const projection = projected ? l.floatInit(`${own}/projection_weights`, transpose(floats(inputs[16]), [outWidth, hidden], [1, 0]), [hidden, outWidth]) : null;
  const projectionBias = present(inputs[17]) ? l.floatInit(`${own}/projection_bias`, floats(inputs[17]), [outWidth]) : null;
  const one = cifg ? l.scalarInit(`${own}/one`, 'float32', 1) : '';
  const timeAxis = timeMajor ? 0 : 1;

  // The input's share of every gate at every step at once: [.., time, .., 4H].
  const input = l.read(x, 'native');
  const projectedInput = l.temp(out, 'input_projection');
  const withBias = l.temp(out, 'input_gates');
  l.node('MatMul', [input, wName], [projectedInput], `${own}/input_projection`);
  l.node('Add', [projectedInput, bName], [withBias], `${own}/input_bias`);

  const tmp = (step: number, what: string) => l.temp(out, `t${step}/${what}`);
  const node = (step: number, opType: string, ins: string[], what: string, attributes = [] as ReturnType<typeof intAttr>[]) => {
    const to = tmp(step, what);
    l.node(opType, ins, [to], `${own}/t${step}/${what}`, attributes);
    return to;
  };
  const act = (step: number, from: string, what: string) => {
    const to = tmp(step, what);
    activation(l, fused, from, to, `${own}/t${step}/${what}`);
    return to;
  };
  let h: string | null = null;
  let c: string | null = null;
  const hs: string[] = [];
  for (let t = 0; t < steps; t++) {
    const index = l.int64Init(`${own}/t${t}/index`, [t]);
    const picked = node(t, 'Gather', [withBias, index], 'input_gates', [intAttr('axis', timeAxis)]);
    const step = node(t, 'Reshape', [picked, l.int64Init(`${own}/t${t}/shape`, [batch, gates * hidden])], 'input_gates_2d');
    // Zero initial state: the first step has no recurrent term.
    const all = h ? node(t, 'Add', [step, node(t, 'MatMul', [h, rName], 'recurrent')], 'gates') : step;
    const parts = Array.from({ length: gates }, (_, k) => tmp(t, `gate${k}`));
    l.node('Split', [all, splitName], parts, `${own}/t${t}/split`, [intAttr('axis', 1)]);
    const [iPre, fPre, gPre, oPre] = cifg ? [null, ...parts] : parts;
    const peep = (pre: string, p: string | null, state: string | null, what: string) => (p && state ? node(t, 'Add', [pre, node(t, 'Mul', [state, p], `${what}_peephole`)], `${what}_with_peephole`) : pre);
    const f = node(t, 'Sigmoid', [peep(fPre!, pf, c, 'forget')], 'forget');
    const i = cifg ? node(t, 'Sub', [one, f], 'input') : node(t, 'Sigmoid', [peep(iPre!, pi, c, 'input')], 'input');
    const g = act(t, gPre!, 'cell_input');
    let cell = node(t, 'Mul', [i, g], 'input_share');
    if (c) cell = node(t, 'Add', [node(t, 'Mul', [f, c], 'kept'), cell], 'cell_sum');
    if (cellClip > 0) {
      const clipped = tmp(t, 'cell_clipped');
      clip(l, cell, clipped, `${own}/t${t}/cell_clip`, -cellClip, cellClip);
      cell = clipped;
    }
    c = l.requantize(inputs[19], cell, `${own}/t${t}/cell`);
    const o = node(t, 'Sigmoid', [peep(oPre!, po, c, 'output')], 'output');
    let hNext = node(t, 'Mul', [o, act(t, c, 'cell_activation')], 'hidden');
    if (projection) {
      hNext = node(t, 'MatMul', [hNext, projection], 'projection');
      if (projectionBias) hNext = node(t, 'Add', [hNext, projectionBias], 'projection_bias');
      if (projClip > 0) {
        const clipped = tmp(t, 'projection_clipped');
        clip(l, hNext, clipped, `${own}/t${t}/projection_clip`, -projClip, projClip);
        hNext = clipped;
      }
    }
    h = l.requantize(out, hNext, `${own}/t${t}/hidden`);
    hs.push(h);
  }
  const axes = l.int64Init(`${own}/time_axis`, [timeAxis]);
  const unsqueezed = hs.map((hStep, t) => node(t, 'Unsqueeze', [hStep, axes], 'hidden_in_time'));
  l.produce(out, 'native', (to) => l.node(unsqueezed.length === 1 ? 'Identity' : 'Concat', unsqueezed, [to], own, unsqueezed.length === 1 ? [] : [intAttr('axis', timeAxis)]));
};

/**
 * SVDF (rank-r singular value decomposition filter) on one invocation from a zero state: the
 * features (x W_f^T) enter the state's newest column, the state is weighted by W_t and summed over
 * time, then over the rank, plus the bias, then the activation. The state is the variable tensor
 * of the file, quantized with its scale in the 'quantized' model (an int16 state in 16x8 files).
 */
export const svdf: OperatorLowering = (l, op: FlatOperator) => {
  const [x, wf, wt, b, stateIndex] = op.inputs;
  const out = op.outputs[0];
  const own = l.ownName(out);
  const rank = option(op, 'rank', 1);
  const [filters, memory] = l.tensor(wt).shape;
  const batch = l.tensor(x).shape[0];
  const units = filters / rank;
  const input = l.read(x, 'native');
  const features = l.read(wf, 'native');
  const timeWeights = l.read(wt, 'native');
  const features2d = l.temp(out, 'features');
  l.node('Gemm', [input, features], [features2d], own, [intAttr('transB', 1)]);
  const column = l.temp(out, 'newest');
  reshape(l, features2d, column, [batch, filters, 1], `${own}/newest`);
  // The state before this call is zero: every older column is zero.
  const older = memory > 1 ? l.floatInit(`${own}/older_state`, new Float32Array(batch * filters * (memory - 1)), [batch, filters, memory - 1]) : null;
  const state = l.produce(stateIndex, 'native', (to) => {
    if (older) l.node('Concat', [older, column], [to], `${own}/state`, [intAttr('axis', 2)]);
    else l.node('Identity', [column], [to], `${own}/state`);
  });
  const weighted = l.temp(out, 'weighted');
  l.node('Mul', [state, timeWeights], [weighted], `${own}/time_weights`);
  const perFilter = l.temp(out, 'per_filter');
  l.node('ReduceSum', [weighted, l.int64Init(`${own}/time_axis`, [2])], [perFilter], `${own}/time_sum`, [intAttr('keepdims', 0)]);
  let perUnit = perFilter;
  if (rank > 1) {
    const grouped = l.temp(out, 'grouped');
    reshape(l, perFilter, grouped, [batch, units, rank], `${own}/group_rank`);
    perUnit = l.temp(out, 'per_unit');
    l.node('ReduceSum', [grouped, l.int64Init(`${own}/rank_axis`, [2])], [perUnit], `${own}/rank_sum`, [intAttr('keepdims', 0)]);
  }
  const bias = b !== undefined && b >= 0 ? l.read(b, 'native') : null;
  produceActivated(l, out, 'native', option(op, 'fusedActivationFunction', 0), (to) => {
    if (bias) l.node('Add', [perUnit, bias], [to], `${own}/bias`);
    else l.node('Identity', [perUnit], [to], `${own}/output`);
  });
};
