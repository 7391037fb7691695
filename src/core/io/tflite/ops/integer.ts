import { makeTensorProto } from '../../onnx/tensorProto';
import type { FlatOperator, FlatTensor } from '../flatModel';
import { storedValues, TensorType } from '../flatTensors';
import { transpose, TO_CF, type Layout, type Lowering } from '../lowering';
import { Activation, intAttr, intsAttr, option, windowPads } from './common';

/**
 * The file's own quantized model computes int8 CONV_2D, DEPTHWISE_CONV_2D and ADD as TensorFlow
 * Lite's interpreter does through XNNPACK (its default delegate, which made the references),
 * to the bit: a deep network passes on every one-step flip of a float32 simulation (MobileNetV2
 * int8: 3 flips in 75,264 values of one ADD end up 7 steps apart in the logits). Only in the
 * 'quantized' conversion; anything outside the conditions below keeps the float form.
 *
 * - Convolution: exact int32 accumulation `sum (q - zp) * w + bias`, computed by an ONNX Conv on
 *   integer-valued float32 tensors (exact while every partial sum stays below 2^24, checked from
 *   the weights for the worst input), then XNNPACK's fp32 requantization:
 *   `rint(fl32(acc * fl32(fl32(s_in * s_w) / s_out)))`, clamped to the fused activation's range.
 *   The product is taken in float64 and cast back (exactly the float32 product), so onnxruntime
 *   cannot fold the scale into the kernel (ConvMulFusion) and round differently.
 * - ADD: XNNPACK's qs8 vadd: 21-bit multipliers `m = rint(s / s_out * 2^shift)` with
 *   `shift = 20 - exponent(max ratio)`, `floor((m_a * (q_a - zp_a) + m_b * (q_b - zp_b)) / 2^shift + 1/2)`,
 *   in float64 (exact).
 */

const EXACT_FLOAT32 = 2 ** 24;

const roundHalfEven = (x: number) => (Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x));

const isInt8 = (t: FlatTensor) => t.type === TensorType.INT8 && t.quantization !== null && t.quantization.scale.length === 1;

/** The fused activation's clamp in steps from the output's zero point, or null for one XNNPACK does not clamp to (TANH). */
function clampRange(out: FlatTensor, fused: number): [number, number] | null {
  const scale = out.quantization!.scale[0];
  const zp = out.quantization!.zeroPoint[0] ?? 0;
  const at = (real: number) => zp + Math.round(real / scale);
  let [low, high] = [-128, 127];
  if (fused === Activation.RELU) low = Math.max(low, at(0));
  else if (fused === Activation.RELU6) [low, high] = [Math.max(low, at(0)), Math.min(high, at(6))];
  else if (fused === Activation.RELU_N1_TO_1) [low, high] = [Math.max(low, at(-1)), Math.min(high, at(1))];
  else if (fused !== Activation.NONE) return null;
  return [low - zp, high - zp];
}

/** `round(x / s)`: the integer `q - zp` of a real activation that passed through its quantizer. */
function steps(l: Lowering, index: number, layout: Layout, owner: string, what: string): string {
  const t = l.tensor(index);
  const scale = l.scalarInit(`${owner}/${what}/scale`, 'float32', t.quantization!.scale[0]);
  const divided = l.tensorName(`${owner}/${what}/divided`);
  const rounded = l.tensorName(`${owner}/${what}/steps`);
  l.node('Div', [l.read(index, layout), scale], [divided], `${owner}/${what}/to_steps`);
  l.node('Round', [divided], [rounded], `${owner}/${what}/round`);
  return rounded;
}

function float64Init(l: Lowering, base: string, values: readonly number[], dims: readonly number[]): string {
  const name = l.tensorName(base);
  l.initializers.push(makeTensorProto(name, { dtype: 'float64', dims: [...dims], data: Float64Array.from(values) }));
  return name;
}

/** Steps (float64, exact integers) to the output's real values: floor or rint, clamp, times the output's scale. */
function toReal(l: Lowering, out: number, from: string, to: string, owner: string, [low, high]: [number, number], rounding: 'Floor' | 'Round'): void {
  const t = l.tensor(out);
  const rounded = l.tensorName(`${owner}/integer`);
  const single = l.tensorName(`${owner}/integer_float`);
  const clamped = l.tensorName(`${owner}/clamped`);
  l.node(rounding, [from], [rounded], `${owner}/${rounding === 'Floor' ? 'floor' : 'round'}`);
  l.node('Cast', [rounded], [single], `${owner}/to_float`, [intAttr('to', 1)]);
  l.node('Clip', [single, l.scalarInit(`${owner}/clamp/min`, 'float32', low), l.scalarInit(`${owner}/clamp/max`, 'float32', high)], [clamped], `${owner}/clamp`);
  l.node('Mul', [clamped, l.scalarInit(`${owner}/output_scale`, 'float32', t.quantization!.scale[0])], [to], `${owner}/to_real`);
}

/**
 * CONV_2D / DEPTHWISE_CONV_2D of the 'quantized' model as XNNPACK computes it; false (nothing
 * written) where the operator is not int8 with int8 symmetric weights and int32 bias, or an
 * accumulator could leave float32's exact integers.
 */
export function integerConv(l: Lowering, op: FlatOperator, depthwise: boolean): boolean {
  if (l.mode !== 'quantized') return false;
  const [x, w, b] = op.inputs;
  const out = op.outputs[0];
  const [xt, wt, ot] = [l.tensor(x), l.tensor(w), l.tensor(out)];
  const bt = b !== undefined && b >= 0 ? l.tensor(b) : null;
  if (!isInt8(xt) || !isInt8(ot) || wt.type !== TensorType.INT8 || !wt.quantization || !l.isConstant(w)) return false;
  if (wt.quantization.zeroPoint.some((z) => z !== 0)) return false;
  if (bt && (bt.type !== TensorType.INT32 || !l.isConstant(b))) return false;
  const fused = option(op, 'fusedActivationFunction', 0);
  const range = clampRange(ot, fused);
  if (!range) return false;
  const weights = storedValues(wt, l.fileName).data as Int8Array;
  const bias = bt ? (storedValues(bt, l.fileName).data as Int32Array) : null;
  const shape = wt.shape;
  const channels = depthwise ? shape[3] : shape[0];
  // The largest |sum| any int8 input can make: 255 * sum |w| + |bias| per output channel.
  const magnitude = new Float64Array(channels);
  const perChannel = weights.length / channels;
  for (let i = 0; i < weights.length; i++) magnitude[depthwise ? i % channels : Math.floor(i / perChannel)] += 255 * Math.abs(weights[i]);
  for (let c = 0; c < channels; c++) if (magnitude[c] + (bias ? Math.abs(bias[c]) : 0) >= EXACT_FLOAT32) return false;

  const own = l.ownName(out);
  const sIn = xt.quantization!.scale[0];
  const sOut = ot.quantization!.scale[0];
  const wScales = wt.quantization.scale;
  const multipliers = Array.from({ length: channels }, (_, c) => Math.fround(Math.fround(sIn * wScales[wScales.length > 1 ? c : 0]) / sOut));
  const integers = Float32Array.from(weights);
  const [kh, kw] = [shape[1], shape[2]];
  const kernel = depthwise
    ? l.weightInit(w, transpose(integers, [1, kh, kw, channels], [3, 0, 1, 2]), [channels, 1, kh, kw])
    : l.weightInit(w, transpose(integers, shape, TO_CF), [channels, shape[3], kh, kw]);
  const strides = [option(op, 'strideH', 1), option(op, 'strideW', 1)] as [number, number];
  const dilations = [option(op, 'dilationHFactor', 1), option(op, 'dilationWFactor', 1)] as [number, number];
  const inChannels = xt.shape[3];
  l.produce(out, 'cf', (to) => {
    const input = steps(l, x, 'cf', own, 'input');
    const accumulator = l.tensorName(`${own}/accumulator`);
    l.node('Conv', [input, kernel, ...(bias ? [l.weightInit(b, Float32Array.from(bias), [channels])] : [])], [accumulator], own, [
      intsAttr('kernel_shape', [kh, kw]), intsAttr('strides', strides), intsAttr('dilations', dilations),
      intsAttr('pads', windowPads(option(op, 'padding', 0), xt.shape, [kh, kw], strides, dilations)), intAttr('group', depthwise ? inChannels : inChannels / shape[3]),
    ]);
    const wide = l.tensorName(`${own}/accumulator64`);
    const product = l.tensorName(`${own}/requantized64`);
    const single = l.tensorName(`${own}/requantized`);
    l.node('Cast', [accumulator], [wide], `${own}/to_float64`, [intAttr('to', 11)]);
    l.node('Mul', [wide, float64Init(l, `${own}/multiplier`, multipliers, [1, channels, 1, 1])], [product], `${own}/requantize`);
    // Rounded to float32 (XNNPACK's float product), then to an integer, half to even (lrintf).
    l.node('Cast', [product], [single], `${own}/to_float32`, [intAttr('to', 1)]);
    toReal(l, out, single, to, own, range, 'Round');
  });
  return true;
}

/**
 * ADD of the 'quantized' model as XNNPACK's qs8 vadd computes it; false where an operand or the
 * output is not int8 per tensor, or a scale ratio is outside what XNNPACK takes ([2^-10, 2^8)).
 */
export function integerAdd(l: Lowering, op: FlatOperator): boolean {
  if (l.mode !== 'quantized') return false;
  const [a, b] = op.inputs;
  const out = op.outputs[0];
  const [at, bt, ot] = [l.tensor(a), l.tensor(b), l.tensor(out)];
  if (!isInt8(at) || !isInt8(bt) || !isInt8(ot)) return false;
  const range = clampRange(ot, option(op, 'fusedActivationFunction', 0));
  if (!range) return false;
  const sOut = ot.quantization!.scale[0];
  const ratios = [at, bt].map((t) => Math.fround(t.quantization!.scale[0] / sOut));
  if (ratios.some((r) => r < 2 ** -10 || r >= 2 ** 8)) return false;
  const bits = new DataView(new ArrayBuffer(4));
  bits.setFloat32(0, Math.max(...ratios));
  const shift = 20 - ((bits.getUint32(0) >>> 23) - 127);
  // lrintf(ratio * 2^shift) / 2^shift: exact in float64 (21-bit integers over a power of two).
  const multipliers = ratios.map((r) => roundHalfEven(r * 2 ** shift) / 2 ** shift);
  const layout: Layout = at.shape.length === 4 && bt.shape.length === 4 && ot.shape.length === 4 && l.has(a, 'cf') && l.has(b, 'cf') && !l.isConstant(a) && !l.isConstant(b) ? 'cf' : 'native';
  const own = l.ownName(out);
  l.produce(out, layout, (to) => {
    const terms = [a, b].map((index, k) => {
      const operand = steps(l, index, layout, own, k === 0 ? 'a' : 'b');
      const wide = l.tensorName(`${own}/${k === 0 ? 'a' : 'b'}/steps64`);
      const term = l.tensorName(`${own}/${k === 0 ? 'a' : 'b'}/scaled`);
      l.node('Cast', [operand], [wide], `${own}/${k === 0 ? 'a' : 'b'}/to_float64`, [intAttr('to', 11)]);
      l.node('Mul', [wide, float64Init(l, `${own}/${k === 0 ? 'a' : 'b'}/multiplier`, [multipliers[k]], [])], [term], `${own}/${k === 0 ? 'a' : 'b'}/scale`);
      return term;
    });
    const sum = l.tensorName(`${own}/sum`);
    const half = l.tensorName(`${own}/sum_rounding`);
    l.node('Add', terms, [sum], own);
    // XNNPACK adds 2^(shift-1) and shifts right: floor(x + 1/2), ties up.
    l.node('Add', [sum, float64Init(l, `${own}/half`, [0.5], [])], [half], `${own}/rounding`);
    toReal(l, out, half, to, own, range, 'Floor');
  });
  return true;
}
