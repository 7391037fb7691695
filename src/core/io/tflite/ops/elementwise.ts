import type { Layout, Lowering } from '../lowering';
import { clip, floatAttr, option, produceActivated, stringAttr, type OperatorLowering } from './common';
import { integerAdd } from './integer';

/**
 * Where an element-wise operator computes: channels-first when every computed operand of rank 4
 * is already there (after a Conv) and the constants can follow (rank 4 at most), so no Transpose
 * is written between two convolutions; else as the file has it.
 */
function elementwiseLayout(l: Lowering, operands: readonly number[], output: number): Layout {
  if (l.tensor(output).shape.length !== 4) return 'native';
  const computed = operands.filter((i) => !l.isConstant(i));
  if (computed.length === 0) return 'native';
  const fits = computed.every((i) => l.tensor(i).shape.length === 4 && l.has(i, 'cf')) && operands.every((i) => !l.isConstant(i) || l.tensor(i).shape.length <= 4);
  return fits ? 'cf' : 'native';
}

/** ADD, SUB, MUL, DIV...: numpy broadcasting in both, with the fused activation after. */
function binary(opType: string): OperatorLowering {
  return (l, op) => {
    const [a, b] = op.inputs;
    const out = op.outputs[0];
    const layout = elementwiseLayout(l, [a, b], out);
    const inputs = [l.read(a, layout), l.read(b, layout)];
    produceActivated(l, out, layout, option(op, 'fusedActivationFunction', 0), (to) => l.node(opType, inputs, [to], l.ownName(out)));
  };
}

/** An operator of one input computed element by element (any layout will do). */
function unary(write: (l: Lowering, from: string, to: string, owner: string, op: Parameters<OperatorLowering>[1]) => void): OperatorLowering {
  return (l, op) => {
    const [x] = op.inputs;
    const out = op.outputs[0];
    const layout = elementwiseLayout(l, [x], out);
    const input = l.read(x, layout);
    l.produce(out, layout, (to) => write(l, input, to, l.ownName(out), op));
  };
}

const simple = (opType: string) => unary((l, from, to, owner) => l.node(opType, [from], [to], owner));

const floatAdd = binary('Add');
/** ADD; int8 in the file's own quantized model: XNNPACK's integer arithmetic (ops/integer.ts). */
export const add: OperatorLowering = (l, op) => {
  if (!integerAdd(l, op)) floatAdd(l, op);
};
export const sub = binary('Sub');
export const mul = binary('Mul');
export const div = binary('Div');
export const maximum = binary('Max');
export const minimum = binary('Min');
export const pow = binary('Pow');

export const squaredDifference: OperatorLowering = (l, op) => {
  const [a, b] = op.inputs;
  const out = op.outputs[0];
  const layout = elementwiseLayout(l, [a, b], out);
  const inputs = [l.read(a, layout), l.read(b, layout)];
  l.produce(out, layout, (to) => {
    const difference = l.temp(out, 'difference');
    l.node('Sub', inputs, [difference], `${l.ownName(out)}/Sub`);
    l.node('Mul', [difference, difference], [to], l.ownName(out));
  });
};

export const logistic = simple('Sigmoid');
export const tanh = simple('Tanh');
export const relu = simple('Relu');
export const exp = simple('Exp');
export const log = simple('Log');
export const sqrt = simple('Sqrt');
export const abs = simple('Abs');
export const neg = simple('Neg');
export const floor = simple('Floor');
export const ceil = simple('Ceil');
export const round = simple('Round');
export const sin = simple('Sin');
export const cos = simple('Cos');
export const hardSwish = simple('HardSwish');
export const relu6 = unary((l, from, to, owner) => clip(l, from, to, owner, 0, 6, 'Relu6'));
export const reluN1To1 = unary((l, from, to, owner) => clip(l, from, to, owner, -1, 1, 'ReluN1To1'));
export const relu0To1 = unary((l, from, to, owner) => clip(l, from, to, owner, 0, 1, 'Relu0To1'));
export const leakyRelu = unary((l, from, to, owner, op) => l.node('LeakyRelu', [from], [to], owner, [floatAttr('alpha', option(op, 'alpha', 0.2))]));
export const elu = unary((l, from, to, owner) => l.node('Elu', [from], [to], owner, [floatAttr('alpha', 1)]));
export const gelu = unary((l, from, to, owner, op) => l.node('Gelu', [from], [to], owner, [stringAttr('approximate', option(op, 'approximate', false) ? 'tanh' : 'none')]));
export const square = unary((l, from, to, owner) => l.node('Mul', [from, from], [to], owner));
export const rsqrt = unary((l, from, to, owner) => {
  const root = l.tensorName(`${owner}/sqrt`);
  l.node('Sqrt', [from], [root], `${owner}/Sqrt`);
  l.node('Reciprocal', [root], [to], owner);
});

/**
 * QUANTIZE / DEQUANTIZE: in the float model the values stay real, so both are an Identity (the
 * quantizer itself is what the 'quantized' mode adds after it, and its range is kept). A
 * DEQUANTIZE of a constant (a float16 or int8 weight) is folded into a float constant.
 */
export const quantize: OperatorLowering = (l, op) => {
  const [x] = op.inputs;
  const out = op.outputs[0];
  if (l.isConstant(x)) {
    l.fold(out, l.constantFloats(x));
    return;
  }
  const layout = elementwiseLayout(l, [x], out);
  const input = l.read(x, layout);
  l.produce(out, layout, (to) => l.node('Identity', [input], [to], l.ownName(out)));
};
export const dequantize = quantize;

export const prelu: OperatorLowering = (l, op) => {
  const [x, alpha] = op.inputs;
  const out = op.outputs[0];
  const layout = elementwiseLayout(l, [x, alpha], out);
  const inputs = [l.read(x, layout), l.read(alpha, layout)];
  l.produce(out, layout, (to) => l.node('PRelu', inputs, [to], l.ownName(out)));
};
