import { makeTensorProto } from '../../onnx/tensorProto';
import type { FlatOperator, FlatTensor } from '../flatModel';
import { storedValues, TensorType } from '../flatTensors';
import { transpose, type Lowering } from '../lowering';
import { Activation, intAttr, option } from './common';

/**
 * UNIDIRECTIONAL_SEQUENCE_LSTM of the 'quantized' model as TensorFlow Lite's integer kernel
 * computes it (lstm_eval.cc, EvalInteger8x8_16; XNNPACK has no LSTM, so the references come from
 * this kernel), to the bit: int8 input, output and hidden state, int16 cell state, int8 weights,
 * int32 biases. A float simulation with the file's quantizers is one step off on a few values
 * (DTLN's second LSTM: 2 of 128, which its FULLY_CONNECTED and LOGISTIC spread to 23 of 257
 * outputs, two of them two steps off).
 *
 * Per step and gate, in integers held exactly by float32 (the matrix products, below 2^24) and
 * float64 (everything else):
 * - the gate's pre-activation in Q3.12: `sat16(mbqm(bias + sum (x - zp_x) W, s_W s_x 2^12)
 *   + mbqm(sum (h - zp_h) R, s_R s_h 2^12))`, mbqm being TFLite's MultiplyByQuantizedMultiplier
 *   (a rounding doubling high multiply by a 31-bit multiplier, then a rounding right shift);
 * - gemmlowp's fixed-point logistic (input, forget and output gates) and tanh (cell gate) on int16,
 *   as 65536-entry tables read by Gather;
 * - the cell state c, int16 with scale 2^e: `clip(rdbpot(f * c, 15) + rdbpot(i * g, 30 + e))`, the
 *   rounding divisions by powers of two rounding half away from zero;
 * - the output: `mbqm(o * tanh(c), 2^-30 / s_hidden) + zp_hidden`, clamped to int8.
 * Only in the 'quantized' conversion, and only for the form TensorFlow Lite's converter writes
 * without layer normalization, peepholes, projection or CIFG (five intermediates, the last quantized);
 * anything else keeps the float form.
 */

const EXACT_FLOAT32 = 2 ** 24;
const INT32_LIMIT = 2 ** 31;
const present = (index: number | undefined): index is number => index !== undefined && index >= 0;

// ---- gemmlowp fixed point on int16 (fixedpoint.h), for the tables ----

const wrap16 = (x: number) => (x << 16) >> 16;
const saturate16 = (x: number) => Math.max(-32768, Math.min(32767, x));

/** RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero. */
function roundingDivideByPot(x: number, exponent: number): number {
  if (exponent === 0) return x;
  const p = 2 ** exponent;
  const floor = Math.floor(x / p);
  const remainder = x - floor * p;
  return floor + (remainder > Math.floor((p - 1) / 2) + (x < 0 ? 1 : 0) ? 1 : 0);
}

function highMul16(a: number, b: number): number {
  if (a === -32768 && b === -32768) return 32767;
  const ab = a * b;
  return wrap16(Math.trunc((ab + (ab >= 0 ? 1 << 14 : 1 - (1 << 14))) / (1 << 15)));
}

/** SaturatingRoundingMultiplyByPOT<exponent> on int16. */
function multiplyByPot16(x: number, exponent: number): number {
  if (exponent < 0) return wrap16(roundingDivideByPot(x, -exponent));
  if (exponent === 0) return x;
  const threshold = (1 << (15 - exponent)) - 1;
  return x > threshold ? 32767 : x < -threshold ? -32768 : wrap16(x << exponent);
}

/** A gemmlowp constant given as its int32 raw value, in int16 (RescaleConstantInitializer). */
const constant16 = (raw32: number) => wrap16(roundingDivideByPot(raw32, 16));
const add16 = (a: number, b: number) => wrap16(a + b);
const sub16 = (a: number, b: number) => wrap16(a - b);

/** exp(a) for a in [-1/4, 0), Q0.15 in and out. */
function expQuarter(a: number): number {
  const constantTerm = constant16(1895147668);
  const x = add16(a, 1 << 12);
  const x2 = highMul16(x, x);
  const x3 = highMul16(x2, x);
  const x4 = highMul16(x2, x2);
  const polynomial = multiplyByPot16(add16(highMul16(add16(multiplyByPot16(x4, -2), x3), constant16(715827883)), x2), -1);
  return saturate16(constantTerm + highMul16(constantTerm, add16(x, polynomial)));
}

const BARREL: readonly (readonly [number, number])[] = [[-2, 1672461947], [-1, 1302514674], [0, 790015084], [1, 290630308], [2, 39332535], [3, 720401], [4, 242]];

/** exp(a) for a <= 0 with `bits` integer bits, Q0.15 out (exp_on_negative_values). */
function expNegative(a: number, bits: number): number {
  const fractional = 15 - bits;
  const quarter = 1 << (fractional - 2);
  const moduloQuarter = sub16(a & (quarter - 1), quarter);
  let result = expQuarter(multiplyByPot16(moduloQuarter, bits));
  const remainder = sub16(moduloQuarter, a);
  for (const [exponent, multiplier] of BARREL) {
    if (bits > exponent && remainder & (1 << (fractional + exponent))) result = highMul16(result, constant16(multiplier));
  }
  if (bits > 5 && a < constant16(-(2 ** (36 - bits)))) result = 0;
  return a === 0 ? 32767 : result;
}

/** Newton-Raphson 1 / (1 + x) for x in (0, 1), Q2.13 (the shared part of the two divisions). */
function reciprocalQ2(a: number): number {
  const half = wrap16(Math.trunc((a + 32767 + 1) / 2));
  let x = add16(constant16(1515870810), highMul16(half, constant16(-1010580540)));
  for (let i = 0; i < 3; i++) x = add16(x, multiplyByPot16(highMul16(x, sub16(1 << 13, highMul16(half, x))), 2));
  return x;
}

/** gemmlowp::logistic of a Q(bits).(15-bits) int16, Q0.15 out. */
export function logistic16(a: number, bits: number): number {
  if (a === 0) return 1 << 14;
  const positive = multiplyByPot16(reciprocalQ2(expNegative(a > 0 ? wrap16(-a) : a, bits)), 1);
  return a > 0 ? positive : sub16(32767, positive);
}

/** gemmlowp::tanh of a Q(bits).(15-bits) int16, Q0.15 out. */
export function tanh16(a: number, bits: number): number {
  if (a === 0) return 0;
  const negative = a < 0 ? a : wrap16(-a);
  const t = multiplyByPot16(sub16(reciprocalQ2(expNegative(negative, bits + 1)), 1 << 13), 2);
  return a < 0 ? wrap16(-t) : t;
}

const tables = new Map<string, Int16Array>();
/** The tables' initializers already written in a conversion, by table. */
const tableNames = new WeakMap<Lowering, Map<string, string>>();

/** f over every int16, indexed by value + 32768. */
function table(kind: 'logistic' | 'tanh', bits: number): Int16Array {
  const key = `${kind}${bits}`;
  let values = tables.get(key);
  if (!values) {
    const f = kind === 'logistic' ? logistic16 : tanh16;
    values = Int16Array.from({ length: 65536 }, (_, k) => f(k - 32768, bits));
    tables.set(key, values);
  }
  return values;
}

// ---- TFLite's multipliers ----

/** QuantizeMultiplier: d = m 2^(shift - 31) with m a 31-bit integer (frexp, rounded half away from zero). */
export function quantizeMultiplier(d: number): [number, number] {
  if (d <= 0) return [0, 0];
  let shift = 0;
  let q = d;
  while (q >= 1) { q /= 2; shift++; }
  while (q < 0.5) { q *= 2; shift--; }
  let m = Math.round(q * 2 ** 31);
  if (m === 2 ** 31) { m /= 2; shift++; }
  return shift < -31 ? [0, 0] : [m, shift];
}

interface Multiplier {
  readonly m: number;
  readonly shift: number;
}

function multiplierOf(scale: number): Multiplier {
  const [m, shift] = quantizeMultiplier(scale);
  return { m, shift };
}

/** Whether tensor `index` is an int8 constant quantized per tensor, symmetric (the kernel reads its scale only). */
function isInt8Weight(l: Lowering, index: number): boolean {
  const t = l.tensor(index);
  return t.type === TensorType.INT8 && l.isConstant(index) && t.quantization !== null && t.quantization.scale.length === 1 && (t.quantization.zeroPoint[0] ?? 0) === 0;
}

const perTensor = (t: FlatTensor, type: number) => t.type === type && t.quantization !== null && t.quantization.scale.length === 1;

/** The largest |sum_k (q_k - zp) w_rk| + |bias_r| over rows, for int8 inputs (|q - zp| <= 255). */
function worstRow(weights: Int8Array, columns: number, bias: Int32Array | null): number {
  let worst = 0;
  for (let r = 0; r < weights.length / columns; r++) {
    let sum = bias ? Math.abs(bias[r]) : 0;
    for (let c = 0; c < columns; c++) sum += 255 * Math.abs(weights[r * columns + c]);
    worst = Math.max(worst, sum);
  }
  return worst;
}

/** Writes the integer LSTM and returns true, or returns false (nothing written) where the operator is not of the form described above. */
export function integerLstm(l: Lowering, op: FlatOperator): boolean {
  if (l.mode !== 'quantized') return false;
  const inputs = op.inputs;
  const [x] = inputs;
  const out = op.outputs[0];
  const hiddenIndex = op.intermediates[4];
  if (op.intermediates.length !== 5 || !present(hiddenIndex)) return false;
  if ([9, 10, 11, 16, 17, 20, 21, 22, 23].some((k) => present(inputs[k]))) return false;
  if (option(op, 'fusedActivationFunction', Activation.TANH) !== Activation.TANH) return false;
  const [xt, ot, ht, st, ct] = [l.tensor(x), l.tensor(out), l.tensor(hiddenIndex), l.tensor(inputs[18]), l.tensor(inputs[19])];
  if (!perTensor(xt, TensorType.INT8) || !perTensor(ot, TensorType.INT8) || !perTensor(ht, TensorType.INT8) || !perTensor(st, TensorType.INT8) || !perTensor(ct, TensorType.INT16)) return false;
  if (xt.shape.length !== 3) return false;
  const cellScale = Math.round(Math.log2(ct.quantization!.scale[0]));
  // CheckedLog2, and a tanh of 0 to 6 integer bits.
  if (2 ** cellScale !== ct.quantization!.scale[0] || cellScale > -9 || cellScale < -15) return false;
  const gateInputs = [1, 2, 3, 4];
  if (![...gateInputs, ...gateInputs.map((k) => k + 4)].every((k) => present(inputs[k]) && isInt8Weight(l, inputs[k]))) return false;
  if (!gateInputs.every((k) => present(inputs[k + 11]) && l.isConstant(inputs[k + 11]) && l.tensor(inputs[k + 11]).type === TensorType.INT32)) return false;

  const timeMajor = option(op, 'timeMajor', false);
  const steps = timeMajor ? xt.shape[0] : xt.shape[1];
  const batch = timeMajor ? xt.shape[1] : xt.shape[0];
  const features = xt.shape[2];
  const cells = l.tensor(inputs[4]).shape[0];
  const width = l.tensor(inputs[8]).shape[1];
  const scaleOf = (t: FlatTensor) => t.quantization!.scale[0];
  const zeroOf = (t: FlatTensor) => t.quantization!.zeroPoint[0] ?? 0;
  const f32 = Math.fround;
  const inputWeights = gateInputs.map((k) => storedValues(l.tensor(inputs[k]), l.fileName).data as Int8Array);
  const recurrentWeights = gateInputs.map((k) => storedValues(l.tensor(inputs[k + 4]), l.fileName).data as Int8Array);
  const biases = gateInputs.map((k) => storedValues(l.tensor(inputs[k + 11]), l.fileName).data as Int32Array);
  // Effective scales as the kernel computes them (float32), to the Q3.12 gates.
  const inputMultipliers = gateInputs.map((k) => multiplierOf(f32(f32(scaleOf(l.tensor(inputs[k])) * scaleOf(xt)) * 4096)));
  const recurrentMultipliers = gateInputs.map((k) => multiplierOf(f32(f32(scaleOf(l.tensor(inputs[k + 4])) * scaleOf(st)) * 4096)));
  const hiddenMultiplier = multiplierOf(f32(2 ** -30 / scaleOf(ht)));
  // Every accumulator exact in float32, and below 2^31 once shifted left (the kernel's int32).
  for (let g = 0; g < 4; g++) {
    const worstInput = worstRow(inputWeights[g], features, biases[g]);
    const worstRecurrent = worstRow(recurrentWeights[g], width, null);
    if (worstInput >= EXACT_FLOAT32 || worstRecurrent >= EXACT_FLOAT32) return false;
    if (worstInput * 2 ** Math.max(inputMultipliers[g].shift, 0) >= INT32_LIMIT || worstRecurrent * 2 ** Math.max(recurrentMultipliers[g].shift, 0) >= INT32_LIMIT) return false;
  }
  if (hiddenMultiplier.shift > 0) return false;
  const cellClipOption = option(op, 'cellClip', 0);
  const cellClip = cellClipOption > 0 ? Math.trunc(Math.min(Math.max(f32(cellClipOption / ct.quantization!.scale[0]), -32768), 32767)) : 0;

  const own = l.ownName(out);
  const gates = 4 * cells;
  const stack = (parts: readonly Int8Array[], rows: number, columns: number) => {
    const all = new Float32Array(4 * rows * columns);
    parts.forEach((p, k) => all.set(Float32Array.from(p), k * rows * columns));
    return transpose(all, [4 * rows, columns], [1, 0]);
  };
  const w = l.floatInit(`${own}/input_weights`, stack(inputWeights, cells, features), [features, gates]);
  // The recurrent weights and the forget gate's share of the cell only from the second step on.
  const r = steps > 1 ? l.floatInit(`${own}/recurrent_weights`, stack(recurrentWeights, cells, width), [width, gates]) : '';
  const bias = new Float32Array(gates);
  biases.forEach((b, k) => bias.set(Float32Array.from(b), k * cells));
  const b = l.floatInit(`${own}/bias`, bias, [gates]);

  const float64 = (base: string, values: readonly number[], dims: readonly number[]) => {
    const name = l.tensorName(`${own}/${base}`);
    l.initializers.push(makeTensorProto(name, { dtype: 'float64', dims: [...dims], data: Float64Array.from(values) }));
    return name;
  };
  const scalar = (base: string, value: number) => float64(base, [value], []);
  // The tables are the same for every LSTM of the model: written once.
  const written = tableNames.get(l) ?? new Map<string, string>();
  tableNames.set(l, written);
  const int16Table = (base: string, values: Int16Array) => {
    let name = written.get(base);
    if (!name) {
      name = l.tensorName(`${own}/${base}`);
      l.initializers.push(makeTensorProto(name, { dtype: 'int16', dims: [values.length], data: values }));
      written.set(base, name);
    }
    return name;
  };
  const node = (opType: string, ins: readonly string[], what: string, attributes = [] as ReturnType<typeof intAttr>[]) => {
    const to = l.temp(out, what);
    l.node(opType, ins, [to], `${own}/${what}`, attributes);
    return to;
  };
  const constants = {
    half: scalar('half', 0.5),
    pot15: scalar('two_pow_15', 2 ** 15),
    inversePot15: scalar('two_pow_minus_15', 2 ** -15),
    pot16: scalar('two_pow_16', 2 ** 16),
    pot30: scalar('two_pow_30', 2 ** 30),
    inversePot31: scalar('two_pow_minus_31', 2 ** -31),
    offset: scalar('int16_offset', 32768),
  };
  const bounds = new Map<number, string>();
  const bound = (value: number) => {
    if (!bounds.has(value)) bounds.set(value, scalar(`bound_${value}`, value));
    return bounds.get(value)!;
  };
  const clipTo = (from: string, low: number, high: number, what: string) => node('Clip', [from, bound(low), bound(high)], what);

  /** Rounding division by 2^exponent (a scalar or a per-column vector of 2^-exponent), ties away from zero: sign(y) floor(|y| 2^-e + 1/2). */
  const roundingDivide = (y: string, inversePower: string, what: string) => {
    const scaled = node('Mul', [node('Abs', [y], `${what}/abs`), inversePower], `${what}/scaled`);
    const rounded = node('Floor', [node('Add', [scaled, constants.half], `${what}/plus_half`)], `${what}/floor`);
    return node('Mul', [rounded, node('Sign', [y], `${what}/sign`)], what);
  };
  /** A multiplier's constants: per column (one multiplier per gate, repeated) or a scalar where all are equal. */
  const columnsOf = (multipliers: readonly Multiplier[], what: string) => {
    const column = (name: string, f: (mult: Multiplier) => number) => {
      const values = multipliers.flatMap((mult) => Array<number>(cells).fill(f(mult)));
      return values.every((v) => v === values[0]) ? scalar(`${what}/${name}`, values[0]) : float64(`${what}/${name}`, values, [values.length]);
    };
    return {
      left: multipliers.some((mult) => mult.shift > 0) ? column('left_power', (mult) => 2 ** Math.max(mult.shift, 0)) : null,
      high: column('multiplier_high', (mult) => Math.floor(mult.m / 2 ** 16)),
      low: column('multiplier_low', (mult) => mult.m % 2 ** 16),
      right: column('right_power', (mult) => 2 ** -Math.max(-mult.shift, 0)),
    };
  };
  /**
   * MultiplyByQuantizedMultiplier on float64 integers: floor((x 2^left m + 2^30) / 2^31) (the
   * doubling high multiply rounds half up), computed exactly with m split in 15 + 16 bits, then the
   * rounding right shift.
   */
  const multiply = (from: string, columns: ReturnType<typeof columnsOf>, what: string) => {
    const shifted = columns.left ? node('Mul', [from, columns.left], `${what}/shift_left`) : from;
    const highPart = node('Mul', [shifted, columns.high], `${what}/high_product`);
    const lowPart = node('Mul', [shifted, columns.low], `${what}/low_product`);
    const highTop = node('Floor', [node('Mul', [highPart, constants.inversePot15], `${what}/high_scaled`)], `${what}/high_top`);
    const highRest = node('Sub', [highPart, node('Mul', [highTop, constants.pot15], `${what}/high_top_back`)], `${what}/high_rest`);
    const sum = node('Add', [node('Add', [node('Mul', [highRest, constants.pot16], `${what}/high_rest_shifted`), lowPart], `${what}/rest`), constants.pot30], `${what}/rest_nudged`);
    const doubled = node('Add', [highTop, node('Floor', [node('Mul', [sum, constants.inversePot31], `${what}/rest_scaled`)], `${what}/rest_top`)], `${what}/high_mul`);
    return roundingDivide(doubled, columns.right, `${what}/rounding_shift`);
  };
  const toFloat64 = (from: string, what: string) => node('Cast', [from], what, [intAttr('to', 11)]);
  const toFloat32 = (from: string, what: string) => node('Cast', [from], what, [intAttr('to', 1)]);
  const lookUp = (from: string, tableName: string, what: string) => {
    const index = node('Cast', [node('Add', [from, constants.offset], `${what}/offset`)], `${what}/index`, [intAttr('to', 7)]);
    return toFloat64(node('Gather', [tableName, index], `${what}/table`), what);
  };
  const sigmoidTable = int16Table('logistic_q3_12', table('logistic', 3));
  const gateTanhTable = int16Table('tanh_q3_12', table('tanh', 3));
  const cellBits = 15 + cellScale;
  const cellTanhTable = cellBits === 3 ? gateTanhTable : int16Table(`tanh_q${cellBits}_${15 - cellBits}`, table('tanh', cellBits));

  // The input's share of every gate at every step at once, in Q3.12: [.., time, .., 4H].
  const xScale = l.scalarInit(`${own}/input_scale`, 'float32', scaleOf(xt));
  const xSteps = node('Round', [node('Div', [l.read(x, 'native'), xScale], 'input_divided')], 'input_steps');
  const accumulated = node('Add', [node('MatMul', [xSteps, w], 'input_accumulator'), b], 'input_accumulator_bias');
  const inputShare = clipTo(multiply(toFloat64(accumulated, 'input_accumulator64'), columnsOf(inputMultipliers, 'input_requantize'), 'input_requantize'), -32768, 32767, 'input_gates');
  const timeAxis = timeMajor ? 0 : 1;
  const splitSizes = l.int64Init(`${own}/gate_split`, [cells, cells, cells, cells]);
  const hiddenZp = scalar('hidden_zero_point', zeroOf(ht));
  const stateZp = scalar('state_zero_point', zeroOf(st));
  const outZp = scalar('output_zero_point', zeroOf(ot));
  const outScale = l.scalarInit(`${own}/output_scale`, 'float32', scaleOf(ot));
  const cellShift = scalar('cell_shift', 2 ** -(30 + cellScale));
  const forgetShift = steps > 1 ? scalar('forget_shift', 2 ** -15) : '';
  const recurrentColumns = steps > 1 ? columnsOf(recurrentMultipliers, 'recurrent_requantize') : null;
  const hiddenColumns = columnsOf([hiddenMultiplier], 'hidden_requantize');

  let h: string | null = null;
  let c: string | null = null;
  const outputs: string[] = [];
  for (let t = 0; t < steps; t++) {
    const at = (what: string) => `t${t}/${what}`;
    const picked = node('Gather', [inputShare, l.int64Init(`${own}/t${t}/index`, [t])], at('input_gates'), [intAttr('axis', timeAxis)]);
    let pre = node('Reshape', [picked, l.int64Init(`${own}/t${t}/shape`, [batch, gates])], at('input_gates_2d'));
    // The state starts at zero (h = its zero point): no recurrent term at the first step.
    if (h) {
      const recurrent = multiply(toFloat64(node('MatMul', [h, r], at('recurrent_accumulator')), at('recurrent_accumulator64')), recurrentColumns!, at('recurrent_requantize'));
      pre = clipTo(node('Add', [pre, recurrent], at('gates_sum')), -32768, 32767, at('gates'));
    }
    const names = ['input', 'forget', 'cell_gate', 'output'];
    const parts = names.map((g) => l.temp(out, at(`${g}_pre`)));
    l.node('Split', [pre, splitSizes], parts, `${own}/${at('split')}`, [intAttr('axis', 1)]);
    // Sigmoid for the input, forget and output gates, tanh for the cell gate (the fused activation).
    const [i, f, g, o] = parts.map((p, k) => lookUp(p, k === 2 ? gateTanhTable : sigmoidTable, at(names[k])));
    let cell = roundingDivide(node('Mul', [i, g], at('input_share_product')), cellShift, at('input_share'));
    if (c) cell = node('Add', [roundingDivide(node('Mul', [f, c], at('kept_product')), forgetShift, at('kept')), cell], at('cell_sum'));
    c = clipTo(cell, cellClip > 0 ? -cellClip : -32768, cellClip > 0 ? cellClip : 32767, at('cell'));
    const product = node('Mul', [o, lookUp(c, cellTanhTable, at('cell_activation'))], at('hidden_product'));
    const stored = clipTo(node('Add', [multiply(product, hiddenColumns, at('hidden_requantize')), hiddenZp], at('hidden_stored')), -128, 127, at('hidden'));
    h = toFloat32(node('Sub', [stored, stateZp], at('state_steps64')), at('state_steps'));
    outputs.push(node('Mul', [toFloat32(node('Sub', [stored, outZp], at('output_steps64')), at('output_steps')), outScale], at('output')));
  }
  const axes = l.int64Init(`${own}/time_axis`, [timeAxis]);
  const unsqueezed = outputs.map((step, t) => node('Unsqueeze', [step, axes], `t${t}/hidden_in_time`));
  l.produce(out, 'native', (to) => l.node(unsqueezed.length === 1 ? 'Identity' : 'Concat', unsqueezed, [to], own, unsqueezed.length === 1 ? [] : [intAttr('axis', timeAxis)]));
  return true;
}
